// The MTA-STS policy fetch (RFC 8461 §3.3): GET https://mta-sts.<domain>/.well-known/mta-sts.txt,
// bounded in time and size. The address comes from mxdash's own resolver (never the system's);
// we make the TLS connection ourselves and judge the certificate before anything is sent, then
// hand the verified socket to Node's HTTP client, which parses the response (chunked included).
import http from 'node:http';
import type {Duplex} from 'node:stream';
import tls from 'node:tls';
import {cachedContext, contextWithRoots} from '../tls/inspect.js';
import {mtaStsDomainName, policyUrl} from './mta-sts.js';
import type {FetchErrorKind, PolicyFetch} from './types.js';

export type FetchOptions = {
	/** Addresses through mxdash's own resolver, never dns.lookup. */
	lookup: (name: string) => Promise<string[] | {message: string}>;
	/** Extra PEM roots, in addition to tls.rootCertificates. */
	ca?: string[];
	/** 443 unless given (the demo uses another). */
	port?: number;
	/** The whole fetch's deadline: lookup, connection, handshake, response. */
	timeoutMs: number;
	/** The largest body accepted; 65536 unless given. */
	maxBytes?: number;
	signal?: AbortSignal;
	now?: () => Date;
};

type Certificate = NonNullable<PolicyFetch['certificate']>;

/** A failure of one step; the fetch turns it into `error`. */
class Failure extends Error {
	constructor(readonly kind: FetchErrorKind, message: string) {
		super(message);
	}
}

/** OpenSSL's verification codes that a policy host's certificate is likely to hit, in words. */
const verifyWords: Record<string, string> = {
	CERT_HAS_EXPIRED: 'the certificate has expired',
	CERT_NOT_YET_VALID: 'the certificate is not valid yet',
	DEPTH_ZERO_SELF_SIGNED_CERT: 'the certificate is self-signed',
	SELF_SIGNED_CERT_IN_CHAIN: 'the chain ends in a self-signed root that is not trusted',
	UNABLE_TO_GET_ISSUER_CERT: 'the issuer of a certificate in the chain is unknown',
	UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the certificate\'s issuer is not a trusted root (or the server did not send the intermediate)',
	UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate\'s issuer is not a trusted root (or the server did not send the intermediate)',
	CERT_SIGNATURE_FAILURE: 'a signature in the chain is wrong',
	CERT_REVOKED: 'the certificate is revoked',
	INVALID_CA: 'a certificate in the chain is not a CA',
	INVALID_PURPOSE: 'the certificate is not for TLS servers',
};

function words(code: string): string {
	const known = verifyWords[code];
	return known ? `${known} (${code})` : code;
}

function certificateOf(socket: tls.TLSSocket, name: string): Certificate {
	const peer = socket.getPeerCertificate();
	const certificate: Certificate = {authorized: false};
	if (!peer || Object.keys(peer).length === 0) {
		certificate.error = 'the server sent no certificate';
		return certificate;
	}

	const subject = peer.subject?.CN;
	const issuer = peer.issuer?.CN ?? peer.issuer?.O;
	if (subject) {
		certificate.subject = String(subject);
	}

	if (issuer) {
		certificate.issuer = String(issuer);
	}

	if (peer.valid_to) {
		certificate.validTo = new Date(peer.valid_to).toISOString();
	}

	if (peer.subjectaltname) {
		certificate.san = peer.subjectaltname.split(/,\s*/).filter(entry => entry.startsWith('DNS:')).map(entry => entry.slice(4)).slice(0, 100);
	}

	// Node checks the name only once the chain is good, so check it here too, for both faults' words.
	const mismatch = tls.checkServerIdentity(name, peer);
	const problems: string[] = [];
	const code = String(socket.authorizationError ?? '');
	if (!socket.authorized && code !== 'ERR_TLS_CERT_ALTNAME_INVALID') {
		problems.push(words(code || 'not trusted'));
	}

	if (mismatch) {
		const names = certificate.san?.length ? certificate.san.join(', ') : certificate.subject ?? 'no name';
		problems.push(`the certificate is not for ${name} (it names ${names})`);
	}

	if (problems.length > 0) {
		certificate.error = problems.join('; and ');
	} else {
		certificate.authorized = socket.authorized;
		if (!socket.authorized) {
			certificate.error = words(code || 'not trusted');
		}
	}

	return certificate;
}

type Step<T> = (settle: {resolve: (value: T) => void; reject: (error: Failure) => void; cleanup: (undo: () => void) => void}) => void;

/** Fetch the policy of `domain`. Never throws: every failure is `error` in the result. */
export async function fetchPolicy(domain: string, options: FetchOptions): Promise<PolicyFetch> {
	const now = options.now ?? (() => new Date());
	const started = now().getTime();
	const name = mtaStsDomainName(domain);
	const result: PolicyFetch = {url: policyUrl(domain), ms: 0};
	const maxBytes = options.maxBytes ?? 65_536;
	const port = options.port ?? 443;

	// One deadline and one cancellation for every step; each step registers what to undo.
	const controller = new AbortController();
	const timer = setTimeout(() => {
		controller.abort(new Failure('timeout', `no complete answer within ${options.timeoutMs} ms`));
	}, options.timeoutMs);
	const onCancel = (): void => {
		controller.abort(new Failure('timeout', 'the fetch was cancelled'));
	};

	options.signal?.addEventListener('abort', onCancel, {once: true});
	if (options.signal?.aborted) {
		onCancel();
	}

	const step = async <T>(run: Step<T>): Promise<T> => new Promise<T>((resolve, reject) => {
		const undo: Array<() => void> = [];
		let done = false;
		const finish = (): void => {
			done = true;
			controller.signal.removeEventListener('abort', onAbort);
			for (const action of undo) {
				action();
			}
		};

		const onAbort = (): void => {
			if (!done) {
				finish();
				reject(controller.signal.reason as Failure);
			}
		};

		if (controller.signal.aborted) {
			onAbort();
			return;
		}

		controller.signal.addEventListener('abort', onAbort);
		const settle: Parameters<Step<T>>[0] = {
			resolve(value) {
				if (!done) {
					finish();
					resolve(value);
				}
			},
			reject(error) {
				if (!done) {
					finish();
					reject(error);
				}
			},
			cleanup(action) {
				undo.push(action);
			},
		};
		try {
			run(settle);
		} catch (error) {
			settle.reject(new Failure('protocol', error instanceof Error ? error.message : String(error)));
		}
	});

	let socket: tls.TLSSocket | undefined;
	try {
		// A name Node's TLS and HTTP code would refuse (or a hostile one) goes no further.
		if (!/^[a-z\d_-]+(?:\.[a-z\d_-]+)*$/.test(name) || name.length > 253) {
			throw new Failure('dns', `${JSON.stringify(name.slice(0, 80))} is not a domain name`);
		}

		const addresses = await step<string[]>(({resolve, reject}) => {
			// Through a promise, so that a lookup that throws at once is a dns failure too.
			Promise.resolve().then(async () => options.lookup(name)).then(answer => {
				if (Array.isArray(answer)) {
					if (answer.length === 0) {
						reject(new Failure('dns', `${name} has no address`));
					} else {
						resolve(answer);
					}
				} else {
					reject(new Failure('dns', `${name}: ${answer.message}`));
				}
			}, (error: unknown) => {
				reject(new Failure('dns', `${name}: ${error instanceof Error ? error.message : String(error)}`));
			});
		});

		// Connect to each address in turn until one answers; a TLS failure is final (it was the host).
		let connectError = '';
		for (const ip of addresses.slice(0, 16)) {
			try {
				socket = await connect(ip, port, name, options.ca, step);
				result.ip = ip;
				break;
			} catch (error) {
				if (error instanceof Failure && error.kind === 'connect') {
					connectError = error.message;
					continue;
				}

				result.ip = ip;
				throw error;
			}
		}

		if (!socket) {
			throw new Failure('connect', connectError);
		}

		result.certificate = certificateOf(socket, name);
		if (!result.certificate.authorized) {
			throw new Failure('tls', `the certificate of ${name} is not valid: ${result.certificate.error ?? 'not trusted'}`);
		}

		const verified = socket;
		const response = await step<http.IncomingMessage>(({resolve, reject, cleanup}) => {
			const request = http.request({
				host: name,
				port,
				path: '/.well-known/mta-sts.txt',
				method: 'GET',
				// No agent: with one, Node would ignore createConnection and resolve the name itself.
				createConnection: () => verified as Duplex as ReturnType<NonNullable<http.RequestOptions['createConnection']>>,
				maxHeaderSize: 16_384,
				headers: {host: port === 443 ? name : `${name}:${port}`, connection: 'close', 'user-agent': 'mxdash'},
			}, resolve);
			request.on('error', (error: NodeJS.ErrnoException) => {
				reject(httpFailure(error));
			});
			cleanup(() => {
				request.removeAllListeners('response');
			});
			request.end();
		});

		result.status = response.statusCode;
		const type = response.headers['content-type'];
		if (type !== undefined) {
			result.contentType = type;
		}

		const status = response.statusCode ?? 0;
		if (status >= 300 && status < 400) {
			const {location} = response.headers;
			if (location !== undefined) {
				result.location = location;
			}

			throw new Failure('redirect', `${status} redirect to ${location ?? '(no Location)'}, not followed`);
		}

		if (status !== 200) {
			throw new Failure('http-status', `the server answered ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}, not 200`);
		}

		const declared = Number(response.headers['content-length']);
		if (Number.isFinite(declared) && declared > maxBytes) {
			throw new Failure('too-large', `the body is ${declared} bytes (Content-Length), more than ${maxBytes}`);
		}

		result.body = await step<string>(({resolve, reject, cleanup}) => {
			const chunks: Buffer[] = [];
			let size = 0;
			response.on('data', (chunk: Buffer) => {
				size += chunk.length;
				if (size > maxBytes) {
					reject(new Failure('too-large', `the body is more than ${maxBytes} bytes`));
				} else {
					chunks.push(chunk);
				}
			});
			response.on('end', () => {
				resolve(new TextDecoder().decode(Buffer.concat(chunks)));
			});
			response.on('error', (error: NodeJS.ErrnoException) => {
				reject(httpFailure(error));
			});
			// A close before the end is a cut response; after 'end' this does nothing.
			response.on('close', () => {
				if (!response.complete) {
					reject(new Failure('protocol', 'the server closed the connection before the body ended'));
				}
			});
			cleanup(() => {
				response.removeAllListeners('data');
			});
		});
	} catch (error) {
		result.error = error instanceof Failure ? {kind: error.kind, message: error.message} : {kind: 'protocol', message: error instanceof Error ? error.message : String(error)};
	} finally {
		clearTimeout(timer);
		options.signal?.removeEventListener('abort', onCancel);
		// Whatever is still coming, it is not read: stop it at once.
		socket?.destroy();
		result.ms = Math.max(0, now().getTime() - started);
	}

	return result;
}

/** An error of Node's HTTP client, as a fetch failure: its parser's codes are garbage HTTP. */
function httpFailure(error: NodeJS.ErrnoException): Failure {
	if (error.code?.startsWith('HPE_')) {
		return new Failure('protocol', `the answer is not valid HTTP/1.1 (${error.code}${error.message ? `: ${error.message}` : ''})`);
	}

	return new Failure('protocol', `the connection broke during the HTTP exchange (${error.code ?? error.message})`);
}

/** Node's roots plus --ca, with Node's defaults (WebPKI, as MTA-STS senders verify), built once per set. */
function webPkiContext(ca: string[]): tls.SecureContext {
	return cachedContext(`webpki\n${ca.join('\n')}`, () => contextWithRoots({}, ca));
}

/** One TCP connection and TLS handshake; a failure before TCP connects is `connect`, after it `tls`. */
async function connect(ip: string, port: number, name: string, ca: string[] | undefined, step: <T>(run: Step<T>) => Promise<T>): Promise<tls.TLSSocket> {
	return step<tls.TLSSocket>(({resolve, reject, cleanup}) => {
		let connected = false;
		const socket = tls.connect({
			host: ip,
			port,
			servername: name,
			...(ca && ca.length > 0 ? {secureContext: webPkiContext(ca)} : {}),
			// We judge the certificate ourselves, to record why it is bad.
			rejectUnauthorized: false,
			ALPNProtocols: ['http/1.1'],
		});
		const onError = (error: NodeJS.ErrnoException): void => {
			reject(connected
				? new Failure('tls', `the TLS handshake with ${name} at ${ip} failed: ${error.message}`)
				: new Failure('connect', `could not connect to ${ip} port ${port}: ${error.code ?? error.message}`));
		};

		socket.once('connect', () => {
			connected = true;
		});
		socket.on('error', onError);
		socket.once('secureConnect', () => {
			socket.removeListener('error', onError);
			// Errors from here on are the HTTP client's to report; this keeps none unhandled.
			socket.on('error', () => undefined);
			resolve(socket);
		});
		// On a timeout or a failure before the handshake ended, nothing may stay open.
		cleanup(() => {
			if (socket.listenerCount('secureConnect') > 0) {
				socket.destroy();
			}
		});
	});
}
