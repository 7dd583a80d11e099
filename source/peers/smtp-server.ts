// A scripted SMTP server for the demo and the benchmark (and the tests of both): enough of
// RFC 5321 and RFC 3207 for a probe to see a greeting, EHLO, STARTTLS and a relay verdict, with
// the limits a real server has. Built on the shared line socket and listener.
import type net from 'node:net';
import tls from 'node:tls';
import {LineSocket} from './line-socket.js';
import {listen} from './listener.js';
import type {Listener} from './listener.js';

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

export type SmtpServer = Listener;

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
	const context = behaviour.tls ? tls.createSecureContext({
		key: behaviour.tls.key,
		cert: behaviour.tls.cert,
		...(behaviour.tls.minVersion ? {minVersion: behaviour.tls.minVersion} : {}),
		...(behaviour.tls.maxVersion ? {maxVersion: behaviour.tls.maxVersion} : {}),
	}) : undefined;
	return listen({host, port, maxConnections: limits.maxConnections}, raw => {
		serve(raw, behaviour, context, limits);
	});
}

function serve(raw: net.Socket, behaviour: SmtpBehaviour, context: tls.SecureContext | undefined, limits: SmtpServerLimits): void {
	let received = 0;
	let greeted = false;
	let closing = false;
	let helo = false;
	let mailFrom: string | undefined;
	const local = new Set((behaviour.localDomains ?? []).map(domain => domain.toLowerCase()));

	const send = (text: string): void => {
		if (!closing) {
			conn.write(text);
		}
	};

	const hangUp = (text: string): void => {
		send(text);
		closing = true;
		conn.discard();
		conn.socket.end();
	};

	const onTimeout = (): void => {
		hangUp(reply(421, ['4.4.2 Idle timeout, closing connection']));
		// A client that never reads or never closes does not hold the socket past a second more.
		conn.later(1000, () => raw.destroy());
	};

	const ehloLines = (): string[] => [
		behaviour.hostname,
		'PIPELINING',
		'SIZE 52428800',
		'8BITMIME',
		...(context && !conn.secure ? ['STARTTLS'] : []),
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

				if (conn.secure) {
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

	/** Answer the lines received so far, in order; before the greeting they wait (bounded by maxSessionBytes). */
	const drain = (): void => {
		while (greeted && !closing) {
			const line = conn.takeLine();
			if (!line) {
				return;
			}

			const text = answer(line.text);
			if (text) {
				send(text);
			}
		}
	};

	const conn: LineSocket = new LineSocket(raw, {maxLineBytes: limits.maxLineBytes, readDelayMs: behaviour.replyDelayMs ?? 0, idleMs: limits.idleMs}, {
		onChunk(chunk) {
			if (closing) {
				return false;
			}

			received += chunk.length;
			if (received > limits.maxSessionBytes) {
				hangUp(reply(421, ['4.7.0 Too much data, closing connection']));
				return false;
			}

			return true;
		},
		onLine: drain,
		onOverlong() {
			// Only the unfinished last line counts against maxLineBytes.
			if (!closing) {
				hangUp(reply(500, ['5.5.2 Error: line too long']));
			}
		},
		onIdle: onTimeout,
		onTlsError() {
			conn.socket.destroy();
		},
	});

	function upgrade(secureContext: tls.SecureContext): void {
		send(reply(220, ['2.0.0 Ready to start TLS']));
		// Whatever came after STARTTLS in the clear is dropped, never read as a command inside
		// TLS (RFC 3207 §4.2, CVE-2011-0411).
		conn.discard();
		const upgraded = conn.startTls({secureContext});
		helo = false;
		mailFrom = undefined;
		upgraded.once('close', () => raw.destroy());
	}

	const greet = (): void => {
		if (closing || raw.destroyed) {
			return;
		}

		greeted = true;
		send(reply(220, [`${behaviour.hostname} ESMTP`]));
		drain();
	};

	conn.later((behaviour.greetingDelayMs ?? 0) + (behaviour.replyDelayMs ?? 0), greet);
}
