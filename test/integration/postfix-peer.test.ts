import {readFileSync} from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import {afterAll, afterEach, beforeAll, describe, expect, inject, it} from 'vitest';
import {postfixMissing, startPostfix, type PostfixListener, type PostfixPeer} from '../peers/postfix.js';

const STEP_TIMEOUT_MS = 3000;

// A minimal SMTP client over one socket; every reply is awaited with a timeout.
class Dialogue {
	private buffer = '';
	private wake: (() => void) | undefined;
	private failure: Error | undefined;
	private secure: tls.TLSSocket | undefined;
	private readonly onData = (chunk: Buffer) => {
		this.buffer += chunk.toString('latin1');
		this.wake?.();
	};

	constructor(readonly socket: net.Socket) {
		socket.on('data', this.onData);
		socket.on('error', (error: Error) => {
			this.failure = error;
			this.wake?.();
		});
		socket.on('end', () => {
			this.failure ??= new Error('connection closed');
			this.wake?.();
		});
	}

	static async open(listener: PostfixListener): Promise<{dialogue: Dialogue; greeting: string}> {
		const dialogue = new Dialogue(net.connect({host: listener.ip, port: 25}));
		return {dialogue, greeting: await dialogue.reply()};
	}

	// Resolves with one whole reply (all lines of a multi-line reply).
	async reply(): Promise<string> {
		const deadline = Date.now() + STEP_TIMEOUT_MS;
		for (;;) {
			const end = /^\d{3} .*\r\n/m.exec(this.buffer);
			if (end) {
				const length = end.index + end[0].length;
				const reply = this.buffer.slice(0, length);
				this.buffer = this.buffer.slice(length);
				return reply;
			}

			if (this.failure) throw this.failure;
			if (Date.now() >= deadline) throw new Error(`no SMTP reply within ${STEP_TIMEOUT_MS} ms (got ${JSON.stringify(this.buffer)})`);
			await new Promise<void>(resolve => {
				const timer = setTimeout(resolve, deadline - Date.now());
				this.wake = () => {
					clearTimeout(timer);
					resolve();
				};
			});
			this.wake = undefined;
		}
	}

	async command(line: string): Promise<string> {
		this.socket.write(`${line}\r\n`);
		return this.reply();
	}

	// Sends STARTTLS and hands the socket over to TLS (verification is left to the caller).
	async startTls(listener: PostfixListener, ca: string): Promise<tls.TLSSocket> {
		expect(await this.command('STARTTLS')).toMatch(/^220 /);
		this.socket.off('data', this.onData);
		const secure = tls.connect({socket: this.socket, servername: listener.name, ca, rejectUnauthorized: false});
		this.secure = secure;
		await new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => {
				reject(new Error('TLS handshake timed out'));
			}, STEP_TIMEOUT_MS);
			secure.once('secureConnect', () => {
				clearTimeout(timer);
				resolve();
			});
			secure.once('error', (error: Error) => {
				clearTimeout(timer);
				reject(error);
			});
		});
		return secure;
	}

	// Destroy the TLS socket, never the plain socket under it: on Node 20.20 destroying the plain one first segfaults.
	close(): void {
		(this.secure ?? this.socket).destroy();
	}
}

function chainLength(certificate: tls.DetailedPeerCertificate): number {
	const seen = new Set<string>();
	for (let current = certificate; current?.fingerprint256 && !seen.has(current.fingerprint256); current = current.issuerCertificate) {
		seen.add(current.fingerprint256);
	}

	return seen.size;
}

type Key = keyof PostfixPeer['listeners'];
const STARTTLS: Record<Key, boolean> = {healthy: true, plain: false, relay: true, expired: true, mismatch: true, leafOnly: true, tls10: true};
const KEYS = Object.keys(STARTTLS) as Key[];

const missing = postfixMissing();
describe.skipIf(missing !== undefined)(missing === undefined ? 'postfix test peer' : `postfix test peer (skipped: ${missing})`, () => {
	let peer: Omit<PostfixPeer, 'stop'>;
	let stop: (() => Promise<void>) | undefined;
	let ca: string;
	const opened: Dialogue[] = [];
	const open = async (key: Key) => {
		const session = await Dialogue.open(peer.listeners[key]);
		opened.push(session.dialogue);
		return session;
	};

	// Opens a session, says EHLO, upgrades to TLS and returns the TLS socket.
	const handshake = async (key: Key) => {
		const {dialogue} = await open(key);
		await dialogue.command('EHLO client.test');
		return dialogue.startTls(peer.listeners[key], ca);
	};

	beforeAll(async () => {
		// Reuse the instance test/global-setup.ts shares with every file: restarting it here would
		// regenerate its certificates and stop it under the other files. Start one only when run alone.
		const shared = inject('postfix');
		if (shared) {
			peer = shared;
		} else {
			const own = await startPostfix();
			peer = own;
			stop = own.stop;
		}

		ca = readFileSync(peer.caFile, 'utf8');
	}, 60_000);

	afterEach(() => {
		for (const dialogue of opened.splice(0)) dialogue.close();
	});

	afterAll(async () => {
		await stop?.();
	}, 30_000);

	for (const key of KEYS) {
		it(`${key}: greets as its MX name and ${STARTTLS[key] ? 'offers' : 'does not offer'} STARTTLS`, async () => {
			const {name} = peer.listeners[key];
			const {dialogue, greeting} = await open(key);
			expect(greeting).toBe(`220 ${name} ESMTP Postfix\r\n`);
			const ehlo = await dialogue.command('EHLO client.test');
			expect(ehlo).toMatch(new RegExp(`^250-${name.replaceAll('.', '\\.')}\r\n`));
			expect(/^250[- ]STARTTLS\r$/m.test(ehlo)).toBe(STARTTLS[key]);
			expect(await dialogue.command('QUIT')).toMatch(/^221 /);
		});
	}

	it('relay: accepts mail from outside to outside (open relay)', async () => {
		const {dialogue} = await open('relay');
		await dialogue.command('EHLO client.test');
		expect(await dialogue.command('MAIL FROM:<y@example.org>')).toMatch(/^250 /);
		expect(await dialogue.command('RCPT TO:<x@example.net>')).toMatch(/^250 /);
		await dialogue.command('QUIT');
	});

	for (const key of KEYS.filter(key => key !== 'relay')) {
		it(`${key}: refuses to relay with a 5xx`, async () => {
			const {dialogue} = await open(key);
			await dialogue.command('EHLO client.test');
			expect(await dialogue.command('MAIL FROM:<y@example.org>')).toMatch(/^250 /);
			expect(await dialogue.command('RCPT TO:<x@example.net>')).toMatch(/^5\d\d .*Relay access denied/);
			await dialogue.command('QUIT');
		});
	}

	it('healthy: a chain (leaf + intermediate) that verifies against the test CA', async () => {
		const secure = await handshake('healthy');
		expect(secure.authorizationError).toBeNull();
		expect(secure.authorized).toBe(true);
		expect(chainLength(secure.getPeerCertificate(true))).toBeGreaterThanOrEqual(2);
	});

	it('relay: a certificate that verifies', async () => {
		const secure = await handshake('relay');
		expect(secure.authorized).toBe(true);
	});

	it('expired: CERT_HAS_EXPIRED', async () => {
		const secure = await handshake('expired');
		expect(secure.authorized).toBe(false);
		expect(String(secure.authorizationError)).toBe('CERT_HAS_EXPIRED');
	});

	it('mismatch: a valid chain for another name', async () => {
		const secure = await handshake('mismatch');
		const certificate = secure.getPeerCertificate(true);
		expect(tls.checkServerIdentity('mx.mismatch.test', certificate)).toBeInstanceOf(Error);
		expect(tls.checkServerIdentity('other.name.test', certificate)).toBeUndefined();
		expect(secure.authorized).toBe(false);
	});

	it('leafOnly: the intermediate is missing, so the leaf cannot be verified', async () => {
		const secure = await handshake('leafOnly');
		expect(secure.authorized).toBe(false);
		expect(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY']).toContain(String(secure.authorizationError));
		expect(chainLength(secure.getPeerCertificate(true))).toBe(1);
	});
});
