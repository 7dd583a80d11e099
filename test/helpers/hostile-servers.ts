// Raw `node:net` / `node:tls` servers that misbehave on purpose, one behaviour per listener,
// each on its own loopback address in 127.0.66.0/24 (port 0 unless a test needs a common
// port), for test/driver/hostile.test.ts. Every session records what the client sent, whether the
// server or the client closed first and what the server wrote; every wait is bounded. The
// connection itself is the shared line socket of source/peers/; the misbehaviour is the test's.
import type net from 'node:net';
import type tls from 'node:tls';
import {LineSocket} from '../../source/peers/line-socket.js';
import {listen} from '../../source/peers/listener.js';
import {within as bounded} from './scripted-server.js';

export type ReceivedCommand = {text: string; tls: boolean; chunk: number};

export type HostileSession = {
	/** Which behaviour served it (for messages). */
	behaviour: string;
	address: string;
	/** Every line the client sent, plaintext or inside TLS, in order. */
	commands: ReceivedCommand[];
	/** Raw reads of the client's bytes (count). */
	chunks: number;
	/** Set by the behaviour once a complete greeting (a final `220 ` line) was written. */
	greeted: boolean;
	/** The server wrote a 421 (a reason for the client not to say QUIT). */
	said421: boolean;
	/** The server ended the connection before the client did. */
	serverClosedFirst: boolean;
	/** The client ended or reset the connection (FIN, RST or a failed write). */
	clientGone: boolean;
	/** A reason this session need not end with QUIT (a dead TLS, a flood the client cut). */
	quitExempt?: string;
	bytesWritten: number;
	/** performance.now() of the accept and of the close. */
	openedAt: number;
	closedAt?: number;
	/** Resolves when the TCP connection is gone. */
	closed: Promise<void>;
	/** Behaviour errors (a bug in the test helper, not in mxdash). */
	errors: string[];
};

/** Every session of every hostile server of this process: test 6 reads them all. */
export const allHostileSessions: HostileSession[] = [];

export type Conn = {
	readonly session: HostileSession;
	/** True once the client has gone away (closed, reset, or sent its FIN). */
	readonly gone: boolean;
	/** True once `startTls` ran. */
	readonly secure: boolean;
	/** The raw TCP socket (for injections under TLS). */
	readonly raw: net.Socket;
	/** Write on the current socket (plain, or TLS once started). */
	write(data: string | Buffer): void;
	/** Write on the raw TCP socket, whatever the TLS state. */
	writeRaw(data: string | Buffer): void;
	/** The next line the client sent (without CR LF), or undefined once it is gone or after `ms`. */
	nextLine(ms?: number): Promise<string | undefined>;
	/** The next raw chunk after `hold()` (the ClientHello), or undefined. Does not consume it. */
	peekRaw(ms?: number): Promise<Buffer | undefined>;
	/** Stop reading lines and keep the client's next bytes buffered (before `startTls`). */
	hold(): void;
	/** Become a TLS server on the socket as it stands (buffered bytes included). */
	startTls(credentials: {key: string; cert: string}): tls.TLSSocket;
	/** Write `data` one byte every `everyMs`, until done or the client is gone. */
	drip(data: string | Buffer, everyMs: number): Promise<void>;
	/** Write `chunk` again and again, with backpressure, until the client is gone. */
	flood(chunk: Buffer, maxMs?: number): Promise<void>;
	/** Wait, bounded, until the client closes. */
	waitGone(ms?: number): Promise<void>;
	/** The server closes first (FIN). */
	end(): void;
};

export type Behaviour = (conn: Conn) => Promise<void>;

export type HostileServer = {
	behaviour: string;
	host: string;
	port: number;
	sessions: HostileSession[];
	/** The first session, once a client connected (bounded wait). */
	session(ms?: number): Promise<HostileSession>;
	close(): Promise<void>;
};

let nextHost = 10;

/** A fresh address in 127.0.66.0/24 (10…249), one per listener of this process. */
export function hostileAddress(): string {
	if (nextHost > 249) {
		throw new Error('out of 127.0.66.x addresses');
	}

	return `127.0.66.${nextHost++}`;
}

/** Resolve with `promise`, or reject after `ms` saying `what`. */
export {bounded};

/** Bytes from UTF-8 strings and raw byte lists, in order. */
export function bytes(...parts: Array<string | number[] | Buffer>): Buffer {
	return Buffer.concat(parts.map(part => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part))));
}

function connection(raw: net.Socket, behaviour: string, address: string): Conn {
	const session: HostileSession = {
		behaviour,
		address,
		commands: [],
		chunks: 0,
		greeted: false,
		said421: false,
		serverClosedFirst: false,
		clientGone: false,
		bytesWritten: 0,
		openedAt: performance.now(),
		closed: Promise.resolve(),
		errors: [],
	};
	allHostileSessions.push(session);
	const line = new LineSocket(raw, {}, {
		onChunk() {
			session.chunks++;
			return true;
		},
		onLine({text, tls: secure, chunk}) {
			session.commands.push({text, tls: secure, chunk});
		},
		onTlsError(error) {
			session.errors.push(`tls: ${error.message}`);
		},
	});

	// Whoever did not close first is the client, whether it sent FIN, RST or failed a write.
	const markGone = (): void => {
		session.clientGone ||= !session.serverClosedFirst;
	};

	session.closed = new Promise<void>(resolve => {
		raw.once('close', () => {
			session.closedAt = performance.now();
			markGone();
			resolve();
		});
	});
	raw.on('end', markGone);
	raw.on('error', markGone);

	const put = (toRaw: boolean, data: string | Buffer): void => {
		const buffer = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
		if (!(toRaw ? line.writeRaw(buffer) : line.write(buffer))) {
			return;
		}

		if (/(?:^|\n)421[ -]/.test(buffer.toString('latin1'))) {
			session.said421 = true;
		}

		session.bytesWritten += buffer.length;
	};

	const conn: Conn = {
		session,
		get gone() {
			return line.over;
		},
		get secure() {
			return line.secure;
		},
		raw,
		write(data) {
			put(false, data);
		},
		writeRaw(data) {
			put(true, data);
		},
		async nextLine(ms = 5000) {
			return (await line.nextLine(ms))?.text;
		},
		async peekRaw(ms = 5000) {
			return line.peekHeld(ms);
		},
		hold() {
			line.hold();
		},
		startTls(credentials) {
			return line.startTls({key: credentials.key, cert: credentials.cert});
		},
		async drip(data, everyMs) {
			const buffer = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
			for (let index = 0; index < buffer.length && !line.over; index++) {
				put(false, buffer.subarray(index, index + 1));
				await line.waitFor(() => false, everyMs);
			}
		},
		async flood(chunk, maxMs = 20_000) {
			const stop = performance.now() + maxMs;
			// Past the client's FIN too: only its close ends a flood (a client must cut it).
			while (!line.closed && performance.now() < stop) {
				const socket = line.socket;
				if (socket.destroyed || socket.writableEnded) {
					return;
				}

				session.bytesWritten += chunk.length;
				if (!socket.write(chunk)) {
					await new Promise<void>(resolve => {
						const done = (): void => {
							socket.removeListener('drain', done);
							socket.removeListener('close', done);
							resolve();
						};

						socket.once('drain', done);
						socket.once('close', done);
					});
				}
			}
		},
		async waitGone(ms = 10_000) {
			await line.waitFor(() => false, ms);
		},
		end() {
			if (!line.closed) {
				session.serverClosedFirst = true;
			}

			line.socket.end();
		},
	};
	return conn;
}

export type HostileOptions = {
	host?: string;
	port?: number;
	/** Keep writing after the client's FIN (the default answers FIN with FIN). */
	allowHalfOpen?: boolean;
};

/** One listener for one behaviour. The connection is destroyed when the behaviour is done and the client has not closed within 10 s. */
export async function startHostile(behaviour: string, run: Behaviour, options: HostileOptions = {}): Promise<HostileServer> {
	const host = options.host ?? hostileAddress();
	const sessions: HostileSession[] = [];
	let announce: ((session: HostileSession) => void) | undefined;
	const first = new Promise<HostileSession>(resolve => {
		announce = resolve;
	});
	const listener = await listen({host, port: options.port ?? 0, allowHalfOpen: options.allowHalfOpen ?? false, noDelay: true}, raw => {
		const conn = connection(raw, behaviour, host);
		sessions.push(conn.session);
		announce?.(conn.session);
		announce = undefined;
		void run(conn)
			.catch((error: unknown) => {
				conn.session.errors.push(String(error));
			})
			.then(async () => {
				await conn.waitGone(10_000);
				raw.destroy();
			});
	});
	return {
		behaviour,
		host,
		port: listener.port,
		sessions,
		async session(ms = 5000) {
			return bounded(first, ms, `no client connected to ${behaviour}`);
		},
		async close() {
			await listener.close();
		},
	};
}

/** What a dialogue server answers; `undefined` keeps the default. Replies are raw bytes. */
export type DialogueSpec = {
	/** The greeting; undefined when the behaviour already greeted (the dialogue starts at EHLO). */
	banner?: string | Buffer;
	ehlo?: string | Buffer;
	helo?: string | Buffer;
	starttls?: string | Buffer;
	ehloTls?: string | Buffer;
	mail?: string | Buffer;
	rcpt?: string | Buffer;
	tls?: {key: string; cert: string};
};

/** An SMTP server that answers by verb from `spec` (and closes after QUIT). */
export function dialogue(spec: DialogueSpec): Behaviour {
	return async conn => {
		if (spec.banner !== undefined) {
			conn.write(spec.banner);
			conn.session.greeted = /^220 /m.test(Buffer.from(spec.banner).toString('latin1'));
		}

		if (!conn.session.greeted) {
			// A refused greeting: only QUIT is expected.
			const line = await conn.nextLine();
			if (line !== undefined) {
				conn.write('221 2.0.0 Bye\r\n');
			}

			conn.end();
			return;
		}

		let secure = conn.secure;
		for (let count = 0; count < 100; count++) {
			const line = await conn.nextLine();
			if (line === undefined) {
				return;
			}

			const verb = line.split(/[\s:]/)[0]!.toUpperCase();
			if (verb === 'EHLO') {
				conn.write((secure ? spec.ehloTls ?? spec.ehlo : spec.ehlo) ?? '250-mx.hostile.test\r\n250 STARTTLS\r\n');
			} else if (verb === 'HELO') {
				conn.write(spec.helo ?? '250 mx.hostile.test\r\n');
			} else if (verb === 'STARTTLS') {
				const reply = spec.starttls ?? '220 2.0.0 Ready\r\n';
				conn.write(reply);
				if (spec.tls && Buffer.from(reply).toString('latin1').startsWith('220 ')) {
					conn.startTls(spec.tls);
					secure = true;
				}
			} else if (verb === 'MAIL') {
				conn.write(spec.mail ?? '250 2.1.0 Ok\r\n');
			} else if (verb === 'RCPT') {
				conn.write(spec.rcpt ?? '554 5.7.1 Relay access denied\r\n');
			} else if (verb === 'RSET') {
				conn.write('250 2.0.0 Ok\r\n');
			} else if (verb === 'QUIT') {
				conn.write('221 2.0.0 Bye\r\n');
				conn.end();
				return;
			} else {
				conn.write('502 5.5.2 Error: command not recognized\r\n');
			}
		}
	};
}
