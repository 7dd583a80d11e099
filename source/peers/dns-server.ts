// The scripted DNS peer: one zone, answered authoritatively over UDP and TCP, for the demo, the
// benchmark and the tests. A zone entry can also fail (SERVFAIL, REFUSED) or never answer, be
// DNSSEC-bogus (SERVFAIL unless CD is set) or force truncation over UDP. The root is the key '.'.
import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';
import type {Answer, Packet} from 'dns-packet';
import {dnsblName} from '../core/policy/lookups.js';
import {listen} from './listener.js';

/** One name's records. `rcode` answers every query for the name with that error; `mute` never answers. */
export type ZoneEntry = {
	MX?: Array<[preference: number, exchange: string]>;
	A?: string[];
	AAAA?: string[];
	CNAME?: string;
	PTR?: string[];
	/** Each string one record; a string longer than 255 bytes is split into 255-byte character-strings. */
	TXT?: string[];
	TLSA?: Array<{usage: number; selector: number; matchingType: number; /** hex */ data: string}>;
	/** For the root's DNSKEY (the resolver validation probe); `key` in base64. */
	DNSKEY?: Array<{flags: number; algorithm: number; key: string}>;
	rcode?: 'SERVFAIL' | 'REFUSED';
	mute?: boolean;
	/** As a validating resolver answers a name whose signatures fail: SERVFAIL unless CD is set, never AD. */
	bogus?: boolean;
	/** Over UDP, an empty answer with TC set, so the client must retry over TCP (which answers in full). */
	truncate?: boolean;
};

export type Zone = Record<string, ZoneEntry>;

export type DnsServer = {host: string; port: number; address: string; close(): Promise<void>};

const ttl = 60;
const rcodes = {NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5} as const;

function withRcode(response: Packet, rcode: keyof typeof rcodes, answers: Answer[] = []): Packet {
	return {...response, answers, flags: (response.flags ?? 0) | rcodes[rcode]};
}

/** The reverse-lookup name of an IPv4 or IPv6 address: reversed as a blocklist's name is, under .arpa. */
export function reverseName(ip: string): string {
	const name = dnsblName(ip, net.isIPv4(ip) ? 'in-addr.arpa' : 'ip6.arpa');
	if (!name) {
		throw new Error(`not an IP address: ${ip}`);
	}

	return name;
}

/** A TXT record's character-strings: at most 255 bytes each. */
function characterStrings(text: string): Buffer[] {
	const bytes = Buffer.from(text);
	const strings: Buffer[] = [];
	for (let start = 0; start < bytes.length || strings.length === 0; start += 255) {
		strings.push(bytes.subarray(start, start + 255));
	}

	return strings;
}

function zoneName(name: string): string {
	const lower = name.toLowerCase();
	return lower === '.' || lower === '' ? '.' : lower.replace(/\.$/, '');
}

type Reply = {packet: Packet; truncate: boolean};

function answer(zone: Zone, query: Packet, options: DnsServerOptions): Reply | undefined {
	const question = query.questions?.[0];
	const response: Packet = {type: 'response', id: query.id ?? 0, flags: packet.AUTHORITATIVE_ANSWER | packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE, questions: query.questions ?? [], answers: []};
	if (!question) {
		return {packet: withRcode(response, 'FORMERR'), truncate: false};
	}

	const name = zoneName(question.name);
	const entry = zone[name];
	if (entry?.mute) {
		return undefined;
	}

	const flags = query.flags ?? 0;
	const checkingDisabled = (flags & packet.CHECKING_DISABLED) !== 0;
	if (entry?.bogus && !checkingDisabled) {
		return {packet: withRcode(response, 'SERVFAIL'), truncate: false};
	}

	const reply = records(zone, question, response);
	// AD only when asked for (DO or AD in the query), as a validating resolver does (RFC 6840 §5.7).
	const dnssecOk = (query.additionals ?? []).some(record => record.type === 'OPT' && ((record.flags ?? 0) & packet.DNSSEC_OK) !== 0);
	const asked = dnssecOk || (flags & packet.AUTHENTIC_DATA) !== 0;
	const {authenticated} = options;
	const secure = typeof authenticated === 'function' ? authenticated(name) : Boolean(authenticated);
	if (asked && secure && !entry?.bogus && !checkingDisabled) {
		reply.flags = (reply.flags ?? 0) | packet.AUTHENTIC_DATA;
	}

	return {packet: reply, truncate: Boolean(entry?.truncate)};
}

function records(zone: Zone, question: NonNullable<Packet['questions']>[number], response: Packet): Packet {
	const answers: Answer[] = [];
	let name = zoneName(question.name);
	let entry = zone[name];

	// Follow CNAMEs within the zone, as a recursive resolver would, but never forever.
	for (let hops = 0; entry?.CNAME && question.type !== 'CNAME' && hops < 10; hops++) {
		answers.push({type: 'CNAME', name, ttl, data: entry.CNAME});
		name = entry.CNAME.toLowerCase();
		entry = zone[name];
	}

	if (!entry) {
		return withRcode(response, answers.length > 0 ? 'NOERROR' : 'NXDOMAIN', answers);
	}

	if (entry.rcode) {
		return withRcode(response, entry.rcode);
	}

	switch (question.type) {
		case 'MX': {
			answers.push(...(entry.MX ?? []).map(([preference, exchange]) => ({type: 'MX' as const, name, ttl, data: {preference, exchange}})));
			break;
		}

		case 'A':
		case 'AAAA': {
			answers.push(...(entry[question.type] ?? []).map(data => ({type: question.type, name, ttl, data}) as Answer));
			break;
		}

		case 'CNAME': {
			if (entry.CNAME) {
				answers.push({type: 'CNAME', name, ttl, data: entry.CNAME});
			}

			break;
		}

		case 'PTR': {
			answers.push(...(entry.PTR ?? []).map(data => ({type: 'PTR' as const, name, ttl, data})));
			break;
		}

		case 'TXT': {
			answers.push(...(entry.TXT ?? []).map(text => ({type: 'TXT' as const, name, ttl, data: characterStrings(text)})));
			break;
		}

		case 'TLSA': {
			answers.push(...(entry.TLSA ?? []).map(({usage, selector, matchingType, data}) => ({type: 'TLSA' as const, name, ttl, data: {usage, selector, matchingType, certificate: Buffer.from(data, 'hex')}})));
			break;
		}

		case 'DNSKEY': {
			answers.push(...(entry.DNSKEY ?? []).map(({flags, algorithm, key}) => ({type: 'DNSKEY' as const, name, ttl, data: {flags, algorithm, key: Buffer.from(key, 'base64')}})));
			break;
		}

		default: {
			break;
		}
	}

	return withRcode(response, 'NOERROR', answers);
}

function respond(zone: Zone, message: Buffer, options: DnsServerOptions, udp: boolean): Buffer | undefined {
	let query: Packet;
	try {
		query = packet.decode(message);
	} catch {
		return undefined;
	}

	for (const question of query.questions ?? []) {
		options.onQuery?.(question.name.toLowerCase(), question.type);
	}

	const reply = answer(zone, query, options);
	if (!reply) {
		return undefined;
	}

	if (udp && reply.truncate) {
		return packet.encode({...reply.packet, flags: (reply.packet.flags ?? 0) | packet.TRUNCATED_RESPONSE, answers: []});
	}

	try {
		const encoded = packet.encode(reply.packet);
		// A DNS message over TCP has a 2-byte length: a larger answer cannot be sent at all.
		if (encoded.length <= 65_535) {
			return encoded;
		}
	} catch {
		// A record too large to encode (rdata above 65535 bytes) fails the same way.
	}

	return packet.encode(withRcode({...reply.packet, answers: []}, 'SERVFAIL'));
}

export type DnsServerOptions = {
	/**
	 * The UDP socket's receive buffer. The default (~200 datagrams) is enough for the demo; a
	 * round that asks hundreds of questions at once (the benchmark) overflows it, and each lost
	 * question costs c-ares a 3 s retry, which a real resolver would not cost.
	 */
	udpReceiveBufferBytes?: number;
	/**
	 * Set AD on answers to queries with DO or AD set, for the names (the question's, lower case,
	 * '.' for the root) it is true for: the demo's answers look validated, as from a validating resolver.
	 */
	authenticated?: boolean | ((name: string) => boolean);
	/** Told of every question (lower-case name, type), as it arrives: tests count what was asked. */
	onQuery?: (name: string, type: string) => void;
};

/**
 * A small authoritative DNS server on loopback, over UDP and TCP on one port, for the demo,
 * the benchmark and the tests. Answers above 512 bytes over UDP are truncated so the client
 * retries on TCP.
 */
export async function startDnsServer(zone: Zone, host = '127.0.0.1', port = 0, options: DnsServerOptions = {}): Promise<DnsServer> {
	const tcp = await listen({host, port}, socket => {
		socket.setTimeout(10_000, () => socket.destroy());
		let buffered = Buffer.alloc(0);
		socket.on('error', () => undefined);
		socket.on('data', chunk => {
			buffered = Buffer.concat([buffered, chunk]);
			while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
				const length = buffered.readUInt16BE(0);
				const reply = respond(zone, buffered.subarray(2, 2 + length), options, false);
				buffered = buffered.subarray(2 + length);
				if (reply) {
					const size = Buffer.alloc(2);
					size.writeUInt16BE(reply.length);
					socket.write(Buffer.concat([size, reply]));
				}
			}

			if (buffered.length > 65_537) {
				socket.destroy();
			}
		});
	});
	const udp = dgram.createSocket({type: net.isIPv6(host) ? 'udp6' : 'udp4', ...(options.udpReceiveBufferBytes ? {recvBufferSize: options.udpReceiveBufferBytes} : {})});
	udp.on('message', (message, remote) => {
		let reply = respond(zone, message, options, true);
		if (reply && reply.length > 512) {
			const decoded = packet.decode(reply);
			reply = packet.encode({...decoded, flags: (decoded.flags ?? 0) | packet.TRUNCATED_RESPONSE, answers: []});
		}

		if (reply) {
			udp.send(reply, remote.port, remote.address);
		}
	});
	try {
		await new Promise<void>((resolve, reject) => {
			udp.once('error', reject);
			udp.bind(tcp.port, host, () => {
				udp.removeListener('error', reject);
				// A reply that cannot be sent is a lost datagram, as on a network; the client retries.
				udp.on('error', () => undefined);
				resolve();
			});
		});
	} catch (error) {
		await tcp.close();
		throw error;
	}

	return {
		host,
		port: tcp.port,
		address: net.isIPv6(host) ? `[${host}]:${tcp.port}` : `${host}:${tcp.port}`,
		async close() {
			udp.close();
			await tcp.close();
		},
	};
}
