// Round trips of one session, counted by a relay in front of the server: every read of what the
// client wrote, with TLS records named (their content is not readable, their size is).
import net from 'node:net';
import {defaultLimits} from '../source/core/limits.js';
import {probe} from '../source/core/smtp/session.js';
import type {TranscriptLine} from '../source/core/types.js';
import {listen} from '../source/peers/listener.js';
import {startSmtpServer} from '../source/peers/smtp-server.js';
import {fixed} from './report.js';
import {ehloName, healthyTls, mailFrom, rcptTo, replyDelayMs} from './setup.js';

const handshakeTypes: Record<number, string> = {1: 'ClientHello', 2: 'ServerHello', 20: 'Finished'};
const recordTypes: Record<number, string> = {20: 'change_cipher_spec', 21: 'alert', 22: 'handshake', 23: 'application_data'};
/** A TLS 1.3 record holds the plaintext, one content-type byte and a 16-byte AEAD tag. */
const tls13Overhead = 17;

type TlsRecord = {type: number; length: number; handshake?: number};

function tlsRecords(chunk: Buffer): TlsRecord[] | undefined {
	const records: TlsRecord[] = [];
	let at = 0;
	while (at + 5 <= chunk.length) {
		const type = chunk[at]!;
		if (!(type in recordTypes) || chunk[at + 1] !== 3) {
			return undefined;
		}

		const length = chunk.readUInt16BE(at + 3);
		records.push({type, length, ...(type === 22 ? {handshake: chunk[at + 5]} : {})});
		at += 5 + length;
	}

	return at === chunk.length && records.length > 0 ? records : undefined;
}

/** The client's writes inside TLS, from its transcript: lines recorded together, no reply between. */
function tlsWrites(transcript: TranscriptLine[]): string[][] {
	const writes: string[][] = [];
	let current: string[] | undefined;
	let last = -1;
	for (const line of transcript) {
		if (line.dir === 'client' && line.tls) {
			if (current && line.t - last < 1) {
				current.push(line.text);
			} else {
				current = [line.text];
				writes.push(current);
			}

			last = line.t;
		} else if (line.dir === 'server') {
			current = undefined;
		}
	}

	return writes;
}

const verbOf = (line: string): string => line.split(/[ :]/)[0] ?? line;
const textBytes = (lines: string[]): number => lines.reduce((sum, line) => sum + Buffer.byteLength(`${line}\r\n`), 0);

/** One read of the client's bytes: what it held, and whether the client then waited for a reply. */
type ReadInfo = {text: string; waits: boolean; batch: boolean};

function describeRead(chunk: Buffer, tls: {finished: boolean; writes: string[][]}): ReadInfo {
	const records = tlsRecords(chunk);
	if (!records) {
		const verbs = chunk.toString('latin1').trim().split(/\r?\n/).map(line => verbOf(line));
		return {text: `clear  ${verbs.join('+')}`, waits: true, batch: verbs.includes('QUIT') && verbs.length > 2};
	}

	let waits = false;
	let batch = false;
	const names = records.map(record => {
		if (record.type === 22) {
			waits ||= record.handshake === 1;
			return `handshake ${handshakeTypes[record.handshake ?? -1] ?? String(record.handshake)}`;
		}

		if (record.type !== 23) {
			return recordTypes[record.type] ?? String(record.type);
		}

		if (!tls.finished) {
			// The client's first encrypted record is its Finished; it waits for nothing after it.
			tls.finished = true;
			return 'Finished (encrypted)';
		}

		waits = true;
		const write = tls.writes.shift();
		if (write && textBytes(write) + tls13Overhead === record.length) {
			const verbs = write.map(line => verbOf(line));
			batch ||= verbs.includes('QUIT') && verbs.length > 2;
			return `${verbs.join('+')} (${textBytes(write)} bytes of text in one record)`;
		}

		return `application_data (${record.length} bytes)`;
	});
	return {text: `TLS    ${names.join(', ')}`, waits, batch};
}

/**
 * One probe through a relay that records every read of what the client wrote: the server sees
 * the same reads. TLS records are named; their text is known from the client's transcript and
 * checked against the record's size.
 */
export async function countRoundTrips(ca: string[]): Promise<string[]> {
	const server = await startSmtpServer({hostname: 'mx1.healthy.demo', tls: healthyTls(), localDomains: ['healthy.demo'], replyDelayMs}, '127.0.71.1', 0);
	const reads: Buffer[] = [];
	const relay = await listen({host: '127.0.71.2'}, client => {
		const upstream = net.connect({host: server.host, port: server.port});
		const cut = (): void => {
			client.destroy();
			upstream.destroy();
		};

		client.on('error', cut);
		upstream.on('error', cut);
		// The relay's own connection goes with the client's (the listener closes only the latter).
		client.once('close', () => upstream.destroy());
		client.on('data', chunk => {
			reads.push(chunk);
		});
		client.pipe(upstream);
		upstream.pipe(client);
	});
	try {
		const session = async () => probe({domain: 'healthy.demo', exchange: 'mx1.healthy.demo', ip: relay.host, port: relay.port}, {ehloName, relay: 'basic', mailFrom, rcptTo, limits: defaultLimits, ca});
		// The first session pays for building the secure context and compiling; count the second.
		await session();
		reads.length = 0;
		const result = await session();
		const tls = {finished: false, writes: tlsWrites(result.transcript)};
		const described = reads.map(read => describeRead(read, tls));
		const trips = described.filter(read => read.waits).length;
		const stages = Object.entries(result.stages).map(([name, stage]) => `${name} ${stage.outcome === 'ok' ? '' : `${stage.error ?? stage.state} `}${fixed(stage.ms)}`).join(', ');
		return [
			`One probe (STARTTLS, relay test, PIPELINING; replies ${replyDelayMs} ms late), as the server reads it:`,
			...described.map((read, index) => `  ${String(index + 1).padStart(2)}  ${read.text}`),
			`  ${reads.length} client writes, ${trips} round trips after the greeting (fewest possible: EHLO, STARTTLS, TLS 1.3 handshake, EHLO, MAIL+RCPT+QUIT = 5)`,
			`  MAIL, RCPT and QUIT in one read: ${described.some(read => read.batch) ? 'yes' : 'NO'}`,
			`  ${fixed(result.ms)} ms in all; stages (ms): ${stages}`,
		];
	} finally {
		await relay.close();
		await server.close();
	}
}
