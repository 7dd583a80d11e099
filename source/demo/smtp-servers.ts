import net from 'node:net';
import type {AddressInfo} from 'node:net';
import tls from 'node:tls';

/** How one demo server behaves. Nothing it does ever accepts a message: DATA is always refused. */
export type SmtpBehaviour = {
	/** The name in the greeting and the first EHLO line. */
	hostname: string;
	/** Offer STARTTLS with this key and chain (leaf first, then the intermediates). */
	tls?: {key: string; cert: string; minVersion?: tls.SecureVersion; maxVersion?: tls.SecureVersion};
	/** Wait this long after the connection before the 220 greeting (a greet pause, a tarpit). */
	greetingDelayMs?: number;
	/** Accept RCPT for any address: an open relay (yet still refuse DATA). */
	openRelay?: boolean;
	/** Domains this server takes mail for: RCPT to them is accepted, to anything else refused. */
	localDomains?: string[];
	/**
	 * Handle each read this long after it arrives, and greet this much later too, so every reply
	 * comes about this late: a stand-in for network latency (the benchmark; there is no netem).
	 */
	replyDelayMs?: number;
};

export type SmtpServerLimits = {
	/** A connection silent this long is closed with a 421. */
	idleMs: number;
	/** Longest command line, CRLF included. */
	maxLineBytes: number;
	/** Most bytes a client may send in one connection, before TLS and inside it. */
	maxSessionBytes: number;
	maxConnections: number;
};

export type SmtpServer = {host: string; port: number; close(): Promise<void>};

export const defaultServerLimits: SmtpServerLimits = {
	idleMs: 30_000,
	maxLineBytes: 1024,
	maxSessionBytes: 64 * 1024,
	maxConnections: 32,
};

const mailbox = /^<?([^\s<>@%!":]+)@([a-z\d.-]+)>?$/i;

/** The address of `MAIL FROM:<…>` or `RCPT TO:<…>`, or undefined when the syntax is wrong. */
function pathOf(argument: string, keyword: 'FROM' | 'TO'): string | undefined {
	const match = new RegExp(`^${keyword}:\\s*(<[^>]*>|\\S+)`, 'i').exec(argument);
	return match?.[1]?.replace(/^<|>$/g, '');
}

function reply(code: number, lines: string[]): string {
	return lines.map((line, index) => `${code}${index === lines.length - 1 ? ' ' : '-'}${line}\r\n`).join('');
}

/**
 * One scripted SMTP server on `host`:`port` (0 picks a free unprivileged port): enough of
 * RFC 5321 and RFC 3207 for a probe to see a greeting, EHLO, STARTTLS and a relay verdict.
 */
export async function startSmtpServer(behaviour: SmtpBehaviour, host: string, port = 0, limits: SmtpServerLimits = defaultServerLimits): Promise<SmtpServer> {
	const sockets = new Set<net.Socket>();
	const timers = new Set<NodeJS.Timeout>();
	const context = behaviour.tls ? tls.createSecureContext({
		key: behaviour.tls.key,
		cert: behaviour.tls.cert,
		...(behaviour.tls.minVersion ? {minVersion: behaviour.tls.minVersion} : {}),
		...(behaviour.tls.maxVersion ? {maxVersion: behaviour.tls.maxVersion} : {}),
	}) : undefined;

	const server = net.createServer(raw => {
		sockets.add(raw);
		raw.once('close', () => sockets.delete(raw));
		serve(raw, behaviour, context, limits, timers);
	});
	server.maxConnections = limits.maxConnections;
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, () => {
			server.removeListener('error', reject);
			resolve();
		});
	});

	return {
		host,
		port: (server.address() as AddressInfo).port,
		async close() {
			for (const timer of timers) {
				clearTimeout(timer);
			}

			for (const socket of sockets) {
				socket.destroy();
			}

			await new Promise<void>(resolve => {
				server.close(() => {
					resolve();
				});
			});
		},
	};
}

function serve(raw: net.Socket, behaviour: SmtpBehaviour, context: tls.SecureContext | undefined, limits: SmtpServerLimits, timers: Set<NodeJS.Timeout>): void {
	let socket: net.Socket = raw;
	let buffer = '';
	let received = 0;
	let greeted = false;
	let closing = false;
	let secure = false;
	let helo = false;
	let mailFrom: string | undefined;
	const local = new Set((behaviour.localDomains ?? []).map(domain => domain.toLowerCase()));

	const send = (text: string): void => {
		if (!closing && socket.writable) {
			socket.write(text);
		}
	};

	const hangUp = (text: string): void => {
		send(text);
		closing = true;
		buffer = '';
		socket.end();
	};

	const onTimeout = (): void => {
		hangUp(reply(421, ['4.4.2 Idle timeout, closing connection']));
		// A client that never reads or never closes does not hold the socket past a second more.
		const linger = setTimeout(() => raw.destroy(), 1000);
		timers.add(linger);
		raw.once('close', () => {
			clearTimeout(linger);
			timers.delete(linger);
		});
	};

	const ehloLines = (): string[] => [
		behaviour.hostname,
		'PIPELINING',
		'SIZE 52428800',
		'8BITMIME',
		...(context && !secure ? ['STARTTLS'] : []),
		'ENHANCEDSTATUSCODES',
	];

	const rcpt = (argument: string): string => {
		// The null sender (MAIL FROM:<>) is a sender too.
		if (mailFrom === undefined) {
			return reply(503, ['5.5.1 Error: need MAIL command']);
		}

		const address = pathOf(argument, 'TO');
		if (address === undefined) {
			return reply(501, ['5.5.4 Syntax: RCPT TO:<address>']);
		}

		// Only a plain user@domain of a local domain is delivered locally; every relay trick
		// (percent hack, bang path, source route, quoted local part) is mail for elsewhere.
		const domain = mailbox.exec(address)?.[2]?.toLowerCase();
		if (behaviour.openRelay || (domain && local.has(domain))) {
			return reply(250, ['2.1.5 Ok']);
		}

		return reply(554, [`5.7.1 <${address}>: Relay access denied`]);
	};

	/** The reply to one command line, or undefined when the command itself sent it. */
	const answer = (line: string): string | undefined => {
		const space = line.indexOf(' ');
		const verb = (space === -1 ? line : line.slice(0, space)).toUpperCase();
		const argument = space === -1 ? '' : line.slice(space + 1).trim();
		switch (verb) {
			case 'EHLO':
			case 'HELO': {
				if (!argument) {
					return reply(501, [`5.5.4 Syntax: ${verb} hostname`]);
				}

				helo = true;
				mailFrom = undefined;
				return verb === 'EHLO' ? reply(250, ehloLines()) : reply(250, [behaviour.hostname]);
			}

			case 'STARTTLS': {
				if (!context) {
					return reply(502, ['5.5.1 Error: command not implemented']);
				}

				if (secure) {
					return reply(503, ['5.5.1 Error: TLS already active']);
				}

				if (argument) {
					return reply(501, ['5.5.4 Syntax: STARTTLS']);
				}

				upgrade(context);
				return undefined;
			}

			case 'MAIL': {
				if (!helo) {
					return reply(503, ['5.5.1 Error: send HELO/EHLO first']);
				}

				if (mailFrom !== undefined) {
					return reply(503, ['5.5.1 Error: nested MAIL command']);
				}

				const address = pathOf(argument, 'FROM');
				if (address === undefined) {
					return reply(501, ['5.5.4 Syntax: MAIL FROM:<address>']);
				}

				mailFrom = address;
				return reply(250, ['2.1.0 Ok']);
			}

			case 'RCPT': {
				return rcpt(argument);
			}

			case 'DATA': {
				// The demo never takes a message, whatever RCPT said.
				return reply(502, ['5.5.1 Error: the mxdash demo accepts no mail']);
			}

			case 'RSET': {
				mailFrom = undefined;
				return reply(250, ['2.0.0 Ok']);
			}

			case 'NOOP': {
				return reply(250, ['2.0.0 Ok']);
			}

			case 'QUIT': {
				hangUp(reply(221, ['2.0.0 Bye']));
				return undefined;
			}

			default: {
				return reply(502, ['5.5.2 Error: command not recognized']);
			}
		}
	};

	const drain = (): void => {
		let newline = buffer.indexOf('\n');
		while (greeted && !closing && newline !== -1) {
			const line = buffer.slice(0, newline).replace(/\r$/, '');
			buffer = buffer.slice(newline + 1);
			const text = answer(line);
			if (text) {
				send(text);
			}

			newline = buffer.indexOf('\n');
		}

		// Before the greeting whole lines wait here too (bounded by maxSessionBytes); only the
		// unfinished last line counts against maxLineBytes.
		if (!closing && buffer.length - (buffer.lastIndexOf('\n') + 1) > limits.maxLineBytes) {
			hangUp(reply(500, ['5.5.2 Error: line too long']));
		}
	};

	const take = (chunk: Buffer): void => {
		if (closing) {
			return;
		}

		received += chunk.length;
		if (received > limits.maxSessionBytes) {
			hangUp(reply(421, ['4.7.0 Too much data, closing connection']));
			return;
		}

		buffer += chunk.toString('latin1');
		drain();
	};

	const onData = (chunk: Buffer): void => {
		const delay = behaviour.replyDelayMs ?? 0;
		if (delay <= 0) {
			take(chunk);
			return;
		}

		const from = socket;
		const timer = setTimeout(() => {
			timers.delete(timer);
			// Read in the clear but due after STARTTLS: dropped, as the upgrade drops the buffer.
			if (socket === from) {
				take(chunk);
			}
		}, delay);
		timers.add(timer);
	};

	function upgrade(secureContext: tls.SecureContext): void {
		send(reply(220, ['2.0.0 Ready to start TLS']));
		// Whatever came after STARTTLS in the clear is dropped, never read as a command inside
		// TLS (RFC 3207 §4.2, CVE-2011-0411).
		buffer = '';
		raw.removeListener('data', onData);
		raw.setTimeout(0);
		const upgraded = new tls.TLSSocket(raw, {isServer: true, secureContext});
		socket = upgraded;
		secure = true;
		helo = false;
		mailFrom = undefined;
		upgraded.setTimeout(limits.idleMs, onTimeout);
		upgraded.on('error', () => {
			upgraded.destroy();
		});
		upgraded.on('data', onData);
		upgraded.once('close', () => raw.destroy());
	}

	raw.setTimeout(limits.idleMs, onTimeout);
	raw.on('error', () => undefined);
	raw.on('data', onData);
	const greet = (): void => {
		timers.delete(greeting);
		if (closing || raw.destroyed) {
			return;
		}

		greeted = true;
		send(reply(220, [`${behaviour.hostname} ESMTP`]));
		drain();
	};

	const greeting = setTimeout(greet, (behaviour.greetingDelayMs ?? 0) + (behaviour.replyDelayMs ?? 0));
	timers.add(greeting);
	raw.once('close', () => {
		clearTimeout(greeting);
		timers.delete(greeting);
	});
}

/**
 * A port on `host` where nothing listens, so connecting is refused at once: bind port 0 to
 * learn a free port, then close it. Another program could take it meanwhile; on a loopback
 * address of its own that is unlikely.
 */
export async function closedPort(host: string): Promise<number> {
	const probe = net.createServer();
	await new Promise<void>((resolve, reject) => {
		probe.once('error', reject);
		probe.listen(0, host, () => {
			resolve();
		});
	});
	const {port} = probe.address() as AddressInfo;
	await new Promise<void>(resolve => {
		probe.close(() => {
			resolve();
		});
	});
	return port;
}
