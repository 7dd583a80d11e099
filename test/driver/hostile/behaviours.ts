// The hostile behaviours of sections 1 and 2: floods, endless lines, huge certificate chains,
// tarpits and stalls, each written on a raw connection (test/helpers/hostile-servers.ts).
import type {Behaviour} from '../../helpers/hostile-servers.js';
import {exchange, greeting, hugeChainTls, partialServerHello, plainEhlo, plainTls, tlsEhlo} from './fixtures.js';

// ---------------------------------------------------------------------------------------------
// Behaviours
// ---------------------------------------------------------------------------------------------

const aChunk = Buffer.alloc(64 * 1024, 0x41);
const continuationChunk = Buffer.from('250-x\r\n'.repeat(Math.floor(65_536 / 7)), 'latin1');
/** Continuation lines of exactly 2048 bytes (maxLineBytes, CRLF included): each alone is legal. */
const longLine = `250-${'x'.repeat(2042)}\r\n`;
const longLinesChunk = Buffer.from(longLine.repeat(32), 'latin1');

/** `220 ` and then `A` forever, ignoring the client's FIN, until the client destroys the socket. */
export const lineWithoutEnd: Behaviour = async conn => {
	conn.write('220 ');
	await conn.flood(aChunk);
};

/** A greeting, then `250-x` forever as the answer to EHLO. */
export const endlessReply: Behaviour = async conn => {
	conn.write(greeting);
	conn.session.greeted = true;
	if (await conn.nextLine()) {
		await conn.flood(continuationChunk);
	}
};

/** A greeting, then legal 2048-byte continuation lines forever as the answer to EHLO. */
export const longLineFlood: Behaviour = async conn => {
	conn.write(greeting);
	conn.session.greeted = true;
	conn.session.quitExempt = 'a flood the client cut (session-too-large)';
	if (await conn.nextLine()) {
		await conn.flood(longLinesChunk);
	}
};

/** A greeting, then complete `250 ok` replies forever: nobody asked for them. */
export const replyFlood: Behaviour = async conn => {
	conn.write(greeting);
	conn.session.greeted = true;
	if (await conn.nextLine()) {
		await conn.flood(Buffer.from('250 ok\r\n'.repeat(8192), 'latin1'));
	}
};

/** A full STARTTLS dialogue whose handshake sends ~220 KB of certificates. */
export const hugeChain: Behaviour = async conn => {
	conn.write(greeting);
	conn.session.greeted = true;
	conn.session.quitExempt = 'the TLS handshake failed: nothing can be said after it';
	if (await conn.nextLine()) {
		conn.write(tlsEhlo);
	}

	if (await conn.nextLine()) {
		conn.write('220 2.0.0 Ready to start TLS\r\n');
		conn.startTls(hugeChainTls);
	}
};

/** A legal multi-line answer of `lines` lines of 2000 bytes, STARTTLS advertised. */
export function bigEhlo(lines: number): string {
	const keywords = Array.from({length: lines - 2}, (_, index) => `X-${String(index).padStart(3, '0')} ${'p'.repeat(1988)}`);
	return [exchange, ...keywords, 'STARTTLS'].map((text, index) => `250${index === lines - 1 ? ' ' : '-'}${text}\r\n`).join('');
}

/** ~200 KB of legal EHLO answer before STARTTLS, ~80 KB after: within the limit apart, over it together. */
export const budgetAcrossTls: Behaviour = async conn => {
	conn.write(greeting);
	conn.session.greeted = true;
	conn.session.quitExempt = 'a flood the client cut (session-too-large)';
	if (await conn.nextLine()) {
		conn.write(bigEhlo(100));
	}

	if (await conn.nextLine()) {
		conn.write('220 2.0.0 Ready to start TLS\r\n');
		conn.startTls(plainTls);
	}

	if (await conn.nextLine()) {
		conn.write(bigEhlo(40));
	}
};

export const drip = (data: string, everyMs: number): Behaviour => async conn => {
	await conn.drip(data, everyMs);
};

/** A greeting, then the answer to EHLO one byte every 300 ms. */
export const ehloDrip: Behaviour = async conn => {
	conn.write(greeting);
	conn.session.greeted = true;
	if (await conn.nextLine()) {
		await conn.drip(plainEhlo, 300);
	}
};

/** STARTTLS, then a TLS record that never completes. */
export const tlsStall: Behaviour = async conn => {
	conn.write(greeting);
	conn.session.greeted = true;
	conn.session.quitExempt = 'the TLS handshake stalled: nothing can be said after it';
	if (await conn.nextLine()) {
		conn.write(tlsEhlo);
	}

	if (await conn.nextLine()) {
		conn.write('220 2.0.0 Ready to start TLS\r\n');
		conn.hold();
		if (await conn.peekRaw()) {
			conn.writeRaw(partialServerHello);
		}
	}

	await conn.waitGone(10_000);
};

export const mute: Behaviour = async conn => {
	await conn.waitGone(10_000);
};
