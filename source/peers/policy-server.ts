// An HTTPS MTA-STS policy host for the demo and the tests: one server on one loopback address,
// answering each TLS server name (SNI) with that name's certificate and its route, well-behaved
// or hostile (an endless body, a slow drip, a server that never answers, garbage for HTTP).
import type {ServerResponse} from 'node:http';
import https from 'node:https';
import type {Socket} from 'node:net';
import tls from 'node:tls';
import {serve} from './listener.js';

export type PolicyRoute = {
	/** 200 unless given. */
	status?: number;
	/** `text/plain` unless given; an empty string sends no Content-Type at all. */
	contentType?: string;
	body?: string;
	/** The Location header (for a 3xx). */
	location?: string;
	/** Send the body in several chunks with `Transfer-Encoding: chunked` instead of a Content-Length. */
	chunked?: boolean;
	/**
	 * endless: a 200 whose chunked body never ends; drip: a 200 whose body comes one byte every
	 * 100 ms; hang: read the request, never answer; garbage: answer with bytes that are not HTTP;
	 * cut: promise the body's length, send half of it and close.
	 */
	behaviour?: 'endless' | 'drip' | 'hang' | 'garbage' | 'cut';
};

export type PolicyHost = PolicyRoute & {key: string; cert: string};

export type PolicyServerOptions = {
	host: string;
	/** 0 (the default) picks a free unprivileged port. */
	port?: number;
	/** Per TLS server name (e.g. `mta-sts.healthy.demo`): its key, certificate chain and route. */
	hosts: Record<string, PolicyHost>;
};

export type PolicyServer = {
	host: string;
	port: number;
	/** Every request served, oldest first (the tests look at what the client sent). */
	requests: Array<{servername: string; host?: string; path?: string}>;
	/** Destroy every open connection (the endless and hanging ones too), then stop listening. */
	close(): Promise<void>;
};

const dripMs = 100;

function respond(route: PolicyRoute, response: ServerResponse, socket: Socket): void {
	const headers: Record<string, string> = {};
	const contentType = route.contentType ?? 'text/plain';
	if (contentType !== '') {
		headers['content-type'] = contentType;
	}

	if (route.location !== undefined) {
		headers.location = route.location;
	}

	switch (route.behaviour) {
		case 'hang': {
			return;
		}

		case 'garbage': {
			socket.end('SMTP/2 what\r\n\0\0\0 not a response at all\r\n\r\n');
			return;
		}

		case 'cut': {
			const body = route.body ?? 'version: STSv1\n';
			headers['content-length'] = String(Buffer.byteLength(body));
			response.writeHead(route.status ?? 200, headers);
			response.write(body.slice(0, Math.floor(body.length / 2)), () => {
				socket.destroy();
			});
			return;
		}

		case 'endless': {
			response.writeHead(route.status ?? 200, headers);
			const chunk = 'mx: mx.example.test\n'.repeat(512);
			// Write while the client reads, stop when it goes: backpressure keeps memory flat.
			const pump = (): void => {
				while (!response.destroyed && response.write(chunk)) {
					// Keep filling until the socket's buffer is full.
				}
			};

			response.on('drain', pump);
			pump();
			return;
		}

		case 'drip': {
			response.writeHead(route.status ?? 200, headers);
			response.flushHeaders();
			const timer = setInterval(() => {
				if (response.destroyed) {
					clearInterval(timer);
				} else {
					response.write('m');
				}
			}, dripMs);
			response.once('close', () => {
				clearInterval(timer);
			});
			return;
		}

		default: {
			const body = route.body ?? '';
			if (route.chunked) {
				response.writeHead(route.status ?? 200, headers);
				// Three pieces, each its own chunk on the wire.
				const third = Math.ceil(body.length / 3);
				for (let start = 0; start < body.length; start += Math.max(third, 1)) {
					response.write(body.slice(start, start + Math.max(third, 1)));
				}

				response.end();
			} else {
				headers['content-length'] = String(Buffer.byteLength(body));
				response.writeHead(route.status ?? 200, headers);
				response.end(body);
			}
		}
	}
}

export async function startPolicyServer(options: PolicyServerOptions): Promise<PolicyServer> {
	const names = Object.keys(options.hosts);
	const contexts = new Map(names.map(name => [name.toLowerCase(), tls.createSecureContext({key: options.hosts[name]!.key, cert: options.hosts[name]!.cert})]));
	const first = names[0] === undefined ? undefined : options.hosts[names[0]];
	if (!first) {
		throw new Error('startPolicyServer needs at least one host');
	}

	const requests: PolicyServer['requests'] = [];
	const server = https.createServer({
		key: first.key,
		cert: first.cert,
		// An unknown name gets the first host's certificate (and then a 404).
		SNICallback(servername, callback) {
			callback(null, contexts.get(servername.toLowerCase()));
		},
	}, (request, response) => {
		const socket = request.socket as tls.TLSSocket;
		const servername = typeof socket.servername === 'string' ? socket.servername.toLowerCase() : '';
		if (requests.length < 1000) {
			requests.push({servername, ...(request.headers.host === undefined ? {} : {host: request.headers.host}), ...(request.url === undefined ? {} : {path: request.url})});
		}

		const route = options.hosts[names.find(name => name.toLowerCase() === servername) ?? ''];
		if (!route || request.method !== 'GET' || request.url !== '/.well-known/mta-sts.txt') {
			response.writeHead(404, {'content-type': 'text/plain', 'content-length': '10'});
			response.end('not found\n');
			return;
		}

		respond(route, response, socket);
	});
	// A client that breaks the handshake is its own business, not the server's.
	server.on('tlsClientError', () => undefined);
	return {...await serve(server, options.host, options.port), requests};
}
