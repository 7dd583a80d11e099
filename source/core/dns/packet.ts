// Raw DNS queries with dns-packet: node:dns has no TLSA call and never shows the AD bit, which
// the policy layer (DANE, DNSSEC status) needs. UDP first, TCP when the answer is truncated.
import {randomInt} from 'node:crypto';
import dgram from 'node:dgram';
import {getServers} from 'node:dns';
import net from 'node:net';
import * as packet from 'dns-packet';
import type {Answer, DecodedPacket, Packet, RecordType} from 'dns-packet';
import type {DnsFailure} from '../types.js';
import {Slots} from '../run/slots.js';

/** A whole answer, whatever its rcode; `server` is the resolver (as given) that sent it. */
export type RawAnswer = {rcode: string; ad: boolean; answers: Answer[]; authorities: Answer[]; server: string};

export type RawQueryOptions = {dnssec?: boolean; checkingDisabled?: boolean; timeoutMs: number; signal?: AbortSignal};

const rcodeNames = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];
// RFC 8020 §5 / DNS flag day 2020: a payload size that avoids IP fragmentation.
const udpPayloadSize = 1232;
const maxTcpMessage = 65_535;

/** The resolvers node:dns would use (resolv.conf), in the string form parseResolver makes. */
export function defaultServers(): string[] {
	return getServers();
}

/** Host and port of `127.0.0.1`, `127.0.0.1:5353`, `[::1]:53`, `[::1]` or a bare IPv6 address. */
function parseServer(server: string): {host: string; port: number} | undefined {
	const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(server) ?? /^([^:]+)(?::(\d+))?$/.exec(server);
	const [host, port] = match ? [match[1]!, match[2]] : [server, undefined];
	const number = port === undefined ? 53 : Number(port);
	return net.isIP(host) && number >= 1 && number <= 65_535 ? {host, port: number} : undefined;
}

function normalName(name: string): string {
	return name.toLowerCase().replace(/\.$/, '');
}

function failure(kind: DnsFailure['kind'], code: string, message: string): DnsFailure {
	return {kind, code, message};
}

type Attempt = {response: DecodedPacket} | {failure: DnsFailure};

/** Decode a reply and check it answers our question; undefined when it is someone else's (ignored). */
function check(message: Buffer, id: number, name: string, type: RecordType): Attempt | undefined {
	if (message.length < 12 || message.readUInt16BE(0) !== id) {
		return undefined;
	}

	let response: DecodedPacket;
	try {
		response = packet.decode(message);
	} catch (error) {
		return {failure: failure('other', 'EBADRESP', `malformed DNS answer: ${(error as Error).message}`)};
	}

	const question = response.questions?.[0];
	if (response.type !== 'response' || response.questions?.length !== 1 || !question
		|| normalName(question.name) !== normalName(name) || question.type !== type) {
		return undefined;
	}

	return {response};
}

/** One UDP exchange with one server: the query sent twice (one retry) within `budgetMs`. */
async function udpAttempt(server: {host: string; port: number}, query: Buffer, id: number, name: string, type: RecordType, budgetMs: number, signal?: AbortSignal): Promise<Attempt> {
	return new Promise<Attempt>(resolve => {
		const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
		const timers: NodeJS.Timeout[] = [];
		let done = false;
		const finish = (result: Attempt) => {
			if (done) {
				return;
			}

			done = true;
			for (const timer of timers) {
				clearTimeout(timer);
			}

			signal?.removeEventListener('abort', onAbort);
			try {
				socket.close();
			} catch {
				// Already closed.
			}

			resolve(result);
		};

		const onAbort = () => {
			finish({failure: failure('timeout', 'ECANCELLED', 'query cancelled')});
		};

		const send = () => {
			socket.send(query, error => {
				if (error) {
					finish({failure: failure('unreachable', (error as NodeJS.ErrnoException).code ?? 'ESEND', `cannot send to ${server.host}: ${error.message}`)});
				}
			});
		};

		signal?.addEventListener('abort', onAbort);
		socket.on('error', (error: NodeJS.ErrnoException) => {
			// A connected UDP socket reports ICMP port unreachable as ECONNREFUSED.
			finish({failure: failure('unreachable', error.code ?? 'EUDP', `${server.host} port ${server.port}: ${error.message}`)});
		});
		socket.on('message', message => {
			const result = check(message, id, name, type);
			if (result) {
				finish(result);
			}
		});
		// Connected: the kernel drops datagrams from any other address and port.
		socket.connect(server.port, server.host, () => {
			send();
			timers.push(setTimeout(send, Math.floor(budgetMs / 2)));
		});
		timers.push(setTimeout(() => {
			finish({failure: failure('timeout', 'ETIMEOUT', `no answer from ${server.host} within ${Math.round(budgetMs)} ms`)});
		}, budgetMs));
		if (signal?.aborted) {
			onAbort();
		}
	});
}

/** The same query over TCP (after a truncated UDP answer), length-prefixed, read bounded to 65535 bytes. */
async function tcpAttempt(server: {host: string; port: number}, query: Buffer, id: number, name: string, type: RecordType, budgetMs: number, signal?: AbortSignal): Promise<Attempt> {
	return new Promise<Attempt>(resolve => {
		const socket = net.connect({host: server.host, port: server.port});
		let buffered = Buffer.alloc(0);
		let done = false;
		const finish = (result: Attempt) => {
			if (!done) {
				done = true;
				clearTimeout(timer);
				signal?.removeEventListener('abort', onAbort);
				socket.destroy();
				resolve(result);
			}
		};

		const onAbort = () => {
			finish({failure: failure('timeout', 'ECANCELLED', 'query cancelled')});
		};

		const timer = setTimeout(() => {
			finish({failure: failure('timeout', 'ETIMEOUT', `no TCP answer from ${server.host} within ${Math.round(budgetMs)} ms`)});
		}, budgetMs);
		signal?.addEventListener('abort', onAbort);
		if (signal?.aborted) {
			onAbort();
		}

		socket.on('error', (error: NodeJS.ErrnoException) => {
			finish({failure: failure('unreachable', error.code ?? 'ETCP', `TCP to ${server.host} port ${server.port}: ${error.message}`)});
		});
		socket.on('connect', () => {
			const size = Buffer.alloc(2);
			size.writeUInt16BE(query.length);
			socket.write(Buffer.concat([size, query]));
		});
		socket.on('data', chunk => {
			buffered = Buffer.concat([buffered, chunk]);
			if (buffered.length > 2 + maxTcpMessage) {
				finish({failure: failure('other', 'EBADRESP', 'TCP answer longer than its length prefix')});
				return;
			}

			if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
				const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
				// Over TCP nobody can inject, so a mismatch is a broken server, not a spoof.
				finish(check(message, id, name, type) ?? {failure: failure('other', 'EBADRESP', 'TCP answer does not match the query')});
			}
		});
		socket.on('end', () => {
			finish({failure: failure('other', 'EBADRESP', `TCP connection closed after ${buffered.length} bytes, before a whole answer`)});
		});
	});
}

/**
 * One query, tried on each server in order, ending by an absolute deadline. NXDOMAIN, SERVFAIL
 * and every other rcode come back as a RawAnswer; a DnsFailure means no usable answer at all.
 */
export async function rawQuery(servers: string[], name: string, type: RecordType, options: RawQueryOptions): Promise<RawAnswer | DnsFailure> {
	return inFlight.run(async () => ask(servers, name, type, options));
}

/** Each raw query holds a socket of its own: a large round's thousands at once, 128 at a time. */
const inFlight = new Slots(128);

async function ask(servers: string[], name: string, type: RecordType, options: RawQueryOptions): Promise<RawAnswer | DnsFailure> {
	const deadline = Date.now() + options.timeoutMs;
	const parsed = servers.flatMap(given => {
		const server = parseServer(given);
		return server ? [{...server, given}] : [];
	});
	if (parsed.length === 0) {
		return failure('other', 'ENOSERVER', servers.length > 0 ? `no usable resolver address in ${JSON.stringify(servers)}` : 'no resolver configured');
	}

	const id = randomInt(0x1_00_00);
	const query: Packet = {
		type: 'query',
		id,
		// AD in the query asks a resolver to report it even without DO (RFC 6840 §5.7).
		flags: packet.RECURSION_DESIRED | packet.AUTHENTIC_DATA | (options.checkingDisabled ? packet.CHECKING_DISABLED : 0),
		questions: [{type, name, class: 'IN'}],
		additionals: [{type: 'OPT', name: '.', udpPayloadSize, extendedRcode: 0, ednsVersion: 0, flags: options.dnssec ? packet.DNSSEC_OK : 0, flag_do: Boolean(options.dnssec), options: []}],
	};
	let encoded: Buffer;
	try {
		encoded = packet.encode(query);
	} catch (error) {
		return failure('other', 'EBADNAME', `cannot encode a query for ${JSON.stringify(name)}: ${(error as Error).message}`);
	}

	let last: DnsFailure | undefined;
	let refused: RawAnswer | undefined;
	for (const [index, server] of parsed.entries()) {
		const remaining = deadline - Date.now();
		if (remaining <= 0 || options.signal?.aborted) {
			break;
		}

		// Each server left gets an equal share of the time left.
		const budget = remaining / (parsed.length - index);
		let attempt = await udpAttempt(server, encoded, id, name, type, budget, options.signal);
		if ('response' in attempt && attempt.response.flag_tc) {
			attempt = await tcpAttempt(server, encoded, id, name, type, Math.max(1, deadline - Date.now()), options.signal);
		}

		if ('failure' in attempt) {
			last = attempt.failure;
			continue;
		}

		const answer = toRaw(attempt.response, server.given);
		if (answer.rcode !== 'REFUSED') {
			return answer;
		}

		// A server that refuses us is not the last word: another may answer.
		refused = answer;
	}

	if (refused) {
		return refused;
	}

	if (options.signal?.aborted) {
		return failure('timeout', 'ECANCELLED', 'query cancelled');
	}

	return last?.kind === 'timeout' || !last ? failure('timeout', 'ETIMEOUT', `no answer for ${name} ${type} within ${options.timeoutMs} ms`) : last;
}

function toRaw(response: DecodedPacket, server: string): RawAnswer {
	const code = (response.flags ?? 0) & 0xF;
	return {
		rcode: rcodeNames[code] ?? `RCODE${code}`,
		ad: response.flag_ad,
		answers: (response.answers ?? []).filter(answer => answer.type !== 'OPT'),
		authorities: response.authorities ?? [],
		server,
	};
}

/** Whether a rawQuery result is a failure (no answer at all). */
export function isDnsFailure(value: RawAnswer | DnsFailure): value is DnsFailure {
	return 'kind' in value;
}
