import {Duplex} from 'node:stream';
import tls from 'node:tls';
import type {Limits} from '../limits.js';
import {initialState, start, step} from '../smtp/machine.js';
import type {MachineAction, MachineState} from '../smtp/machine.js';
import {relayPairs} from '../smtp/relay-variants.js';
import {ReplyReader} from '../smtp/reply-reader.js';
import {detectSoftware} from '../smtp/software.js';
import {nameCheckCertificate, secureContext, tlsInfo} from '../tls/inspect.js';
import type {TlsInfo} from '../types.js';

// A throwaway identity for a handshake with ourselves in memory: never sent anywhere, trusted
// by nothing (P-256, self-signed, valid to 2126).
const warmUpKey = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgTD6Bwia7yNb8Anpl
aVtuI6MF2gONbgkrWVxH2JQsur2hRANCAAS1pXcPGBbMmx7LTX2h18sKv4uLKLIH
7WrvPLyCwa3CJqLFFJ/szWMtGKZ0w11nfbZkoZ7gZbPb0BH6lXeW+Sb6
-----END PRIVATE KEY-----
`;
const warmUpCert = `-----BEGIN CERTIFICATE-----
MIIBpzCCAU2gAwIBAgIUUw8gnr6X+8hj6onsWUqATDZi7LwwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPd2FybS11cC5pbnZhbGlkMCAXDTI2MTIwMjExMDA1MFoYDzIx
MjYxMTA4MTEwMDUwWjAaMRgwFgYDVQQDDA93YXJtLXVwLmludmFsaWQwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAAS1pXcPGBbMmx7LTX2h18sKv4uLKLIH7WrvPLyC
wa3CJqLFFJ/szWMtGKZ0w11nfbZkoZ7gZbPb0BH6lXeW+Sb6o28wbTAdBgNVHQ4E
FgQUHiBmvklHEHZy7ZuTD4Y9oBiZEvgwHwYDVR0jBBgwFoAUHiBmvklHEHZy7ZuT
D4Y9oBiZEvgwDwYDVR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgg93YXJtLXVwLmlu
dmFsaWQwCgYIKoZIzj0EAwIDSAAwRQIhAI3rE3J+y+OoBYMi+sjWk/ocDXgXfRbm
H/FoGPmDyKISAiAErDlPmf3sp9WcdbYZIwXTZ/iBVDKzzHuMJvTDuTATxg==
-----END CERTIFICATE-----
`;

/** Two ends of an in-memory stream: what one writes, the other reads. */
function streamPair(): [Duplex, Duplex] {
	const ends: Duplex[] = [];
	const end = (other: () => Duplex): Duplex => new Duplex({
		read() {
			// Pushed by the other end's writes.
		},
		write(chunk: Buffer, _encoding, callback) {
			other().push(chunk);
			callback();
		},
		final(callback) {
			other().push(null);
			callback();
		},
	});
	ends.push(end(() => ends[1]!), end(() => ends[0]!));
	return [ends[0]!, ends[1]!];
}

// What a server of ours says, reply by reply, to what the machine sends it.
const dialogue = [
	'220 mx.warm-up.invalid ESMTP Postfix\r\n',
	'250-mx.warm-up.invalid\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n',
	'220 2.0.0 Ready to start TLS\r\n',
	'250-mx.warm-up.invalid\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n',
	'250 2.1.0 Ok\r\n554 5.7.1 <x@warm-up.example>: Relay access denied\r\n221 2.0.0 Bye\r\n',
];

/**
 * A whole session through the SMTP machine and the reply reader, with no socket: their code's
 * first run. Returns whether the machine got to its end (QUIT answered, the relay judged).
 */
function warmUpMachine(info: TlsInfo, limits: Limits): boolean {
	const deadlines = {banner: limits.bannerMs, command: limits.commandMs, tls: limits.tlsMs, quit: limits.quitMs};
	let state: MachineState = start(initialState({ehloName: 'warm-up.invalid', relay: relayPairs('basic', 'w@warm-up.invalid', 'x@warm-up.example', 'mx.warm-up.invalid', '192.0.2.1'), deadlines}), limits.connectMs).state;
	let closed = false;
	const apply = (next: {state: MachineState; actions: MachineAction[]}): void => {
		state = next.state;
		closed ||= next.actions.some(action => action.type === 'close');
	};

	apply(step(state, {type: 'connected', at: 0}));
	const reader = new ReplyReader(limits);
	for (const [index, text] of dialogue.entries()) {
		for (const output of reader.feed(Buffer.from(text))) {
			if (output.type === 'reply') {
				apply(step(state, {type: 'reply', at: index, reply: output.reply}));
			}
		}

		if (index === 2) {
			apply(step(state, {type: 'tls-ready', at: index, version: info.version}));
			apply(step(state, {type: 'tls-info', info}));
		}
	}

	detectSoftware(state.banner?.text, state.ehlo?.text, state.ehlo?.extensions);
	return closed && state.relay.tested && state.tls !== undefined;
}

/** The far end of the warm-up's stream: a TLS server with the throwaway identity. */
function serveTls(far: Duplex, fail: () => void): {destroy(): void} {
	const server = new tls.TLSSocket(far, {isServer: true, secureContext: tls.createSecureContext({key: warmUpKey, cert: warmUpCert})});
	server.on('error', fail);
	return server;
}

/**
 * The handshake with ourselves, then the machine's dialogue; false when either did not run to
 * its end within `timeoutMs` (`answer` is the far end: the test gives one that never answers).
 */
export async function selfSession(context: tls.SecureContext, ca: string[] | undefined, limits: Limits, {timeoutMs = 2000, answer = serveTls}: {timeoutMs?: number; answer?: (far: Duplex, fail: () => void) => {destroy(): void}} = {}): Promise<boolean> {
	return new Promise<boolean>(resolve => {
		const [near, far] = streamPair();
		const server = answer(far, () => {
			done(false);
		});
		const client = tls.connect({socket: near, servername: 'warm-up.invalid', rejectUnauthorized: false, secureContext: context});
		const done = (completed: boolean): void => {
			clearTimeout(timer);
			client.destroy();
			server.destroy();
			resolve(completed);
		};

		// Nothing here waits on the network: the bound is for a bug, and it never keeps the process up.
		const timer = setTimeout(() => {
			done(false);
		}, timeoutMs);
		timer.unref();
		client.on('error', () => {
			done(false);
		});
		client.once('secureConnect', () => {
			const {leaf} = nameCheckCertificate(client, ca);
			const info = tlsInfo(client, 'warm-up.invalid', new Date(), ca, leaf);
			done(info.sent?.length === 1 && info.version === 'TLSv1.3' && warmUpMachine(info, limits));
		});
	});
}

let warmed: Promise<boolean> | undefined;

/**
 * The probes' TLS context for `ca`, and once per process a session with ourselves in memory
 * through the code a real one runs: a TLS 1.3 handshake (OpenSSL's first use, Node's TLS layer,
 * our reading of the certificates), then the SMTP machine and reply reader through a dialogue.
 * Run while the first questions travel (the round asks for it once they are out, unless plans were
 * asked for during start-up) or else the first connections, it takes that code's first-run cost
 * (~10 ms of CPU in all, otherwise paid between a reply's arrival and our answer) off the
 * sessions' critical path.
 * Resolves whether all of it ran to its end.
 */
export function warmUp(ca: string[] | undefined, limits: Limits): Promise<boolean> {
	const context = secureContext(ca);
	warmed ??= selfSession(context, ca, limits);
	return warmed;
}
