// A tiny SMTP server that follows a script, for probe tests: every listener is on 127.0.0.1,
// port 0, and every wait it makes is bounded. It records what the client sent, in which
// read (chunk) each line arrived and whether it came inside TLS. The connection itself is the
// shared line socket of source/peers/, which the demo's servers use too.
import type net from 'node:net';
import {LineSocket} from '../../source/peers/line-socket.js';
import type {ClientLine} from '../../source/peers/line-socket.js';
import {closedPort, listen} from '../../source/peers/listener.js';

export type ReceivedLine = ClientLine;

export type Step =
	| {kind: 'send'; data: string}
	| {kind: 'expect'; match: RegExp; reply?: string; tls?: boolean}
	| {kind: 'batch'; match: RegExp[]; reply: string}
	| {kind: 'serve'; until: RegExp; respond: (line: string) => string}
	| {kind: 'pause'; ms: number}
	| {kind: 'quiet'}
	| {kind: 'tls'}
	| {kind: 'mute'}
	| {kind: 'close'};

/** Write raw bytes (one write, so one segment on loopback). */
export const send = (data: string): Step => ({kind: 'send', data});
/** Read one line, which must match, then write `reply` (if any) in one write. */
export const expectLine = (match: RegExp, reply?: string, options: {tls?: boolean} = {}): Step => ({kind: 'expect', match, ...(reply === undefined ? {} : {reply}), ...options});
/** Read as many lines as `match` has, answer nothing before the last arrived, then write `reply`. */
export const batch = (match: RegExp[], reply: string): Step => ({kind: 'batch', match, reply});
/** Answer every line with `respond(line)` until a line matching `until` has been answered. */
export const serve = (until: RegExp, respond: (line: string) => string): Step => ({kind: 'serve', until, respond});
/** Server-side pacing. */
export const pause = (ms: number): Step => ({kind: 'pause', ms});
/** A failure if the client has sent anything that has not been read yet. */
export const quiet = (): Step => ({kind: 'quiet'});
/** Start the server side of TLS at once, on the socket as it stands. */
export const startTls = (): Step => ({kind: 'tls'});
/** Never say anything again; keep reading until the client goes away. */
export const mute = (): Step => ({kind: 'mute'});
/** Close the connection (FIN). */
export const close = (): Step => ({kind: 'close'});

/** The usual answers to the relay part of a dialogue, for `serve`. */
export function smtpResponder(replies: {mail?: string; rcpt?: string; rset?: string; quit?: string; other?: string} = {}): (line: string) => string {
	return line => {
		const verb = line.split(/[\s:]/)[0]!.toUpperCase();
		switch (verb) {
			case 'MAIL': {
				return replies.mail ?? '250 2.1.0 Ok\r\n';
			}

			case 'RCPT': {
				return replies.rcpt ?? '554 5.7.1 Relay access denied\r\n';
			}

			case 'RSET': {
				return replies.rset ?? '250 2.0.0 Ok\r\n';
			}

			case 'QUIT': {
				return replies.quit ?? '221 2.0.0 Bye\r\n';
			}

			default: {
				return replies.other ?? '502 5.5.2 Error: command not recognized\r\n';
			}
		}
	};
}

export type Session = {
	/** Every line the client sent, in order. */
	lines: ReceivedLine[];
	/** What happened, in order: `S: …` written, `C: …` read, `-- …` events. */
	log: string[];
	/** Where the client did not follow the script. Empty when all went as planned. */
	failures: string[];
	/** Resolves when the connection is gone. */
	closed: Promise<void>;
	/** Resolves when the script has ended (or failed). */
	done: Promise<void>;
};

export type ScriptedServerOptions = {
	/** Key and certificate (PEM) for the `startTls` step. */
	tls?: {key: string; cert: string};
	/** Treat two client lines in one read as a failure and stop answering (a server that forbids pipelining). */
	oneCommandPerChunk?: boolean;
	/** How long one read may wait; the script fails after it. */
	readTimeoutMs?: number;
};

export type ScriptedServer = {
	port: number;
	sessions: Session[];
	/** The first session, once a client has connected (bounded wait). */
	session(timeoutMs?: number): Promise<Session>;
	close(): Promise<void>;
};

/** Resolve with `promise`, or reject after `ms` saying `what`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: NodeJS.Timeout | undefined;
	try {
		return await Promise.race([
			promise,
			new Promise<never>((_, reject) => {
				timer = setTimeout(() => {
					reject(new Error(`${what}: nothing within ${ms} ms`));
				}, ms);
			}),
		]);
	} finally {
		clearTimeout(timer);
	}
}

async function delay(ms: number): Promise<void> {
	await new Promise(resolve => {
		setTimeout(resolve, ms);
	});
}

/** `script` is every connection's, or a function of the connection's index (0 first) for servers that answer a retry differently. */
export async function startScriptedServer(script: Step[] | ((index: number) => Step[]), options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
	const sessions: Session[] = [];
	const readTimeoutMs = options.readTimeoutMs ?? 5000;
	let announce: ((session: Session) => void) | undefined;
	const first = new Promise<Session>(resolve => {
		announce = resolve;
	});

	const listener = await listen({host: '127.0.0.1'}, raw => {
		const session = runSession(raw, typeof script === 'function' ? script(sessions.length) : script, options, readTimeoutMs);
		sessions.push(session);
		announce?.(session);
		announce = undefined;
	});

	return {
		port: listener.port,
		sessions,
		async session(timeoutMs = 5000) {
			return within(first, timeoutMs, 'no client connected');
		},
		async close() {
			await listener.close();
		},
	};
}

function runSession(raw: net.Socket, script: Step[], options: ScriptedServerOptions, readTimeoutMs: number): Session {
	const session: Session = {lines: [], log: [], failures: [], closed: Promise.resolve(), done: Promise.resolve()};
	let frozen = false;
	const conn = new LineSocket(raw, {}, {
		onChunk(chunk) {
			const text = chunk.toString('latin1');
			if (options.oneCommandPerChunk && !frozen && text.split('\n').length > 2) {
				frozen = true;
				session.failures.push(`two commands in one read: ${JSON.stringify(text)}`);
			}

			return true;
		},
		onLine(line) {
			session.lines.push(line);
			session.log.push(`C: ${line.text}`);
		},
		onTlsError(error) {
			session.log.push(`-- tls error ${error.message}`);
		},
	});

	session.closed = new Promise<void>(resolve => {
		raw.once('close', () => {
			session.log.push('-- closed');
			resolve();
		});
	});
	raw.on('error', error => {
		session.log.push(`-- error ${error.message}`);
	});

	const write = (data: string): void => {
		if (frozen || conn.closed) {
			return;
		}

		for (const line of data.split(/(?<=\n)/)) {
			session.log.push(`S: ${line.replace(/\r?\n$/, '')}`);
		}

		conn.write(data);
	};

	/** The next line, or undefined once the client is gone or nothing came within the read timeout. */
	const next = async (what: string): Promise<ReceivedLine | undefined> => {
		const line = await conn.nextLine(readTimeoutMs);
		if (!line) {
			session.failures.push(conn.over ? `the client went away while the server waited for ${what}` : `no ${what} within ${readTimeoutMs} ms`);
		}

		return line;
	};

	const run = async (): Promise<void> => {
		for (const step of script) {
			if (conn.closed && step.kind !== 'close') {
				if (step.kind !== 'mute') {
					session.failures.push(`the client went away before the step ${step.kind}`);
				}

				return;
			}

			switch (step.kind) {
				case 'send': {
					write(step.data);
					break;
				}

				case 'expect': {
					const line = await next(String(step.match));
					if (!line) {
						return;
					}

					if (!step.match.test(line.text) || (step.tls !== undefined && line.tls !== step.tls)) {
						session.failures.push(`expected ${String(step.match)}${step.tls === undefined ? '' : ` (tls: ${String(step.tls)})`}, got ${JSON.stringify(line.text)} (tls: ${String(line.tls)})`);
						write('500 5.5.2 script mismatch\r\n');
						return;
					}

					if (step.reply !== undefined) {
						write(step.reply);
					}

					break;
				}

				case 'batch': {
					for (const match of step.match) {
						const line = await next(String(match));
						if (!line) {
							return;
						}

						if (!match.test(line.text)) {
							session.failures.push(`expected ${String(match)} in a batch, got ${JSON.stringify(line.text)}`);
							return;
						}
					}

					write(step.reply);
					break;
				}

				case 'serve': {
					for (;;) {
						const line = await next(`a command up to ${String(step.until)}`);
						if (!line) {
							return;
						}

						write(step.respond(line.text));
						if (step.until.test(line.text)) {
							break;
						}
					}

					break;
				}

				case 'pause': {
					await delay(step.ms);
					break;
				}

				case 'quiet': {
					if (conn.pending.length > 0) {
						session.failures.push(`the client spoke too early: ${conn.pending.map(line => JSON.stringify(line.text)).join(', ')}`);
					}

					break;
				}

				case 'tls': {
					if (!options.tls) {
						throw new Error('the script starts TLS but the server has no certificate');
					}

					const wrapped = conn.startTls({key: options.tls.key, cert: options.tls.cert});
					wrapped.once('secure', () => {
						session.log.push('-- tls established');
					});
					session.log.push('-- tls start');
					break;
				}

				case 'mute': {
					frozen = true;
					session.log.push('-- mute');
					await session.closed;
					return;
				}

				case 'close': {
					session.log.push('-- server closes');
					conn.socket.end();
					return;
				}
			}
		}

		// The script is over: end the connection the way a server does after 221.
		conn.socket.end();
	};

	session.done = run().catch((error: unknown) => {
		session.failures.push(`script error: ${String(error)}`);
		conn.socket.destroy();
	});
	return session;
}

/** A port on 127.0.0.1 where nothing listens (listened on, then closed). */
export async function freePort(): Promise<number> {
	return closedPort('127.0.0.1');
}
