// The scripted DNS peer: one zone, answered authoritatively over UDP and TCP, for the demo, the
// benchmark and the tests. A zone entry can also fail (SERVFAIL, REFUSED) or never answer.
import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';
import type {Answer, Packet} from 'dns-packet';
import {listen} from './listener.js';

/** One name's records. `rcode` answers every query for the name with that error; `mute` never answers. */
export type ZoneEntry = {
	MX?: Array<[preference: number, exchange: string]>;
	A?: string[];
	AAAA?: string[];
	CNAME?: string;
	PTR?: string[];
	rcode?: 'SERVFAIL' | 'REFUSED';
	mute?: boolean;
};

export type Zone = Record<string, ZoneEntry>;

export type DnsServer = {host: string; port: number; address: string; close(): Promise<void>};

const ttl = 60;
const rcodes = {NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5} as const;

function withRcode(response: Packet, rcode: keyof typeof rcodes, answers: Answer[] = []): Packet {
	return {...response, answers, flags: (response.flags ?? 0) | rcodes[rcode]};
}

/** The reverse-lookup name of an IPv4 or IPv6 address. */
export function reverseName(ip: string): string {
	if (net.isIPv4(ip)) {
		return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
	}

	const groups = ip.split('::');
	const head = groups[0] ? groups[0].split(':') : [];
	const tail = groups[1] ? groups[1].split(':') : [];
	const full = [...head, ...Array.from({length: 8 - head.length - tail.length}, () => '0'), ...tail];
	return `${full.map(group => group.padStart(4, '0')).join('').split('').reverse().join('.')}.ip6.arpa`;
}

function answer(zone: Zone, query: Packet): Packet | undefined {
	const question = query.questions?.[0];
	const response: Packet = {type: 'response', id: query.id ?? 0, flags: packet.AUTHORITATIVE_ANSWER | packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE, questions: query.questions ?? [], answers: []};
	if (!question) {
		return withRcode(response, 'FORMERR');
	}

	const answers: Answer[] = [];
	let name = question.name.toLowerCase().replace(/\.$/, '');
	let entry = zone[name];
	if (entry?.mute) {
		return undefined;
	}

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

		default: {
			break;
		}
	}

	return withRcode(response, 'NOERROR', answers);
}

function respond(zone: Zone, message: Buffer): Buffer | undefined {
	let query: Packet;
	try {
		query = packet.decode(message);
	} catch {
		return undefined;
	}

	const reply = answer(zone, query);
	return reply ? packet.encode(reply) : undefined;
}

export type DnsServerOptions = {
	/**
	 * The UDP socket's receive buffer. The default (~200 datagrams) is enough for the demo; a
	 * round that asks hundreds of questions at once (the benchmark) overflows it, and each lost
	 * question costs c-ares a 3 s retry, which a real resolver would not cost.
	 */
	udpReceiveBufferBytes?: number;
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
				const reply = respond(zone, buffered.subarray(2, 2 + length));
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
		let reply = respond(zone, message);
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
