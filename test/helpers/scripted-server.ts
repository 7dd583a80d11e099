// A tiny SMTP server that follows a script, for probe tests: every listener is on 127.0.0.1,
// port 0, and every wait it makes is bounded. It records what the client sent, in which
// read (chunk) each line arrived and whether it came inside TLS.
import net from 'node:net';
import type {AddressInfo} from 'node:net';
import tls from 'node:tls';

export type ReceivedLine = {text: string; chunk: number; tls: boolean; at: number};

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

export async function startScriptedServer(script: Step[], options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
	const sessions: Session[] = [];
	const sockets = new Set<net.Socket>();
	const readTimeoutMs = options.readTimeoutMs ?? 5000;
	let announce: ((session: Session) => void) | undefined;
	const first = new Promise<Session>(resolve => {
		announce = resolve;
	});

	const server = net.createServer(raw => {
		sockets.add(raw);
		const session = runSession(raw, script, options, readTimeoutMs);
		sessions.push(session);
		announce?.(session);
		announce = undefined;
		void session.closed.then(() => sockets.delete(raw));
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			resolve();
		});
	});

	return {
		port: (server.address() as AddressInfo).port,
		sessions,
		async session(timeoutMs = 5000) {
			return within(first, timeoutMs, 'no client connected');
		},
		async close() {
			await closeServer(server, sockets);
		},
	};
}

function runSession(raw: net.Socket, script: Step[], options: ScriptedServerOptions, readTimeoutMs: number): Session {
	const session: Session = {lines: [], log: [], failures: [], closed: Promise.resolve(), done: Promise.resolve()};
	let socket: net.Socket = raw;
	let secure = false;
	let chunks = 0;
	let buffer = '';
	let gone = false;
	let frozen = false;
	const queue: ReceivedLine[] = [];
	let wake: (() => void) | undefined;

	session.closed = new Promise<void>(resolve => {
		raw.once('close', () => {
			gone = true;
			session.log.push('-- closed');
			wake?.();
			resolve();
		});
	});
	raw.on('error', error => {
		session.log.push(`-- error ${error.message}`);
	});

	const onData = (chunk: Buffer): void => {
		chunks++;
		const text = chunk.toString('latin1');
		if (options.oneCommandPerChunk && !frozen && text.split('\n').length > 2) {
			frozen = true;
			session.failures.push(`two commands in one read: ${JSON.stringify(text)}`);
		}

		buffer += text;
		let newline = buffer.indexOf('\n');
		while (newline !== -1) {
			const line = {text: buffer.slice(0, newline).replace(/\r$/, ''), chunk: chunks, tls: secure, at: performance.now()};
			buffer = buffer.slice(newline + 1);
			session.lines.push(line);
			session.log.push(`C: ${line.text}`);
			queue.push(line);
			newline = buffer.indexOf('\n');
		}

		wake?.();
	};

	raw.on('data', onData);

	const write = (data: string): void => {
		if (frozen || gone) {
			return;
		}

		for (const line of data.split(/(?<=\n)/)) {
			session.log.push(`S: ${line.replace(/\r?\n$/, '')}`);
		}

		socket.write(data);
	};

	/** The next line, or undefined once the client is gone or nothing came within the read timeout. */
	const next = async (what: string): Promise<ReceivedLine | undefined> => {
		const deadline = performance.now() + readTimeoutMs;
		while (queue.length === 0) {
			const left = deadline - performance.now();
			if (gone || left <= 0) {
				session.failures.push(gone ? `the client went away while the server waited for ${what}` : `no ${what} within ${readTimeoutMs} ms`);
				return undefined;
			}

			await new Promise<void>(resolve => {
				const timer = setTimeout(resolve, left);
				wake = () => {
					clearTimeout(timer);
					wake = undefined;
					resolve();
				};
			});
		}

		return queue.shift();
	};

	const run = async (): Promise<void> => {
		for (const step of script) {
			if (gone && step.kind !== 'close') {
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
					if (queue.length > 0) {
						session.failures.push(`the client spoke too early: ${queue.map(line => JSON.stringify(line.text)).join(', ')}`);
					}

					break;
				}

				case 'tls': {
					if (!options.tls) {
						throw new Error('the script starts TLS but the server has no certificate');
					}

					// Synchronous since the last write: no client byte can have been read in between.
					raw.removeListener('data', onData);
					const wrapped = new tls.TLSSocket(raw, {isServer: true, key: options.tls.key, cert: options.tls.cert});
					wrapped.on('error', error => {
						session.log.push(`-- tls error ${error.message}`);
					});
					wrapped.once('secure', () => {
						session.log.push('-- tls established');
					});
					wrapped.on('data', onData);
					socket = wrapped;
					secure = true;
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
					socket.end();
					return;
				}
			}
		}

		// The script is over: end the connection the way a server does after 221.
		socket.end();
	};

	session.done = run().catch((error: unknown) => {
		session.failures.push(`script error: ${String(error)}`);
		socket.destroy();
	});
	return session;
}

/** A port on 127.0.0.1 where nothing listens (listened on, then closed). */
export async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			resolve();
		});
	});
	const {port} = server.address() as AddressInfo;
	await new Promise<void>(resolve => {
		server.close(() => {
			resolve();
		});
	});
	return port;
}

/** Destroy every open connection, then close the listener. */
export async function closeServer(server: net.Server, sockets: Iterable<net.Socket>): Promise<void> {
	for (const socket of sockets) {
		socket.destroy();
	}

	await new Promise<void>(resolve => {
		server.close(() => {
			resolve();
		});
	});
}
