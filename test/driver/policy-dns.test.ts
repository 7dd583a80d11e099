// The policy layer's DNS lookups (source/core/policy/lookups.ts over source/core/dns/packet.ts)
// against the scripted DNS peer and raw UDP servers on 127.0.0.1, port 0: no socket mocks.
import dgram from 'node:dgram';
import net from 'node:net';
import * as packet from 'dns-packet';
import type {DecodedPacket} from 'dns-packet';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {isDnsFailure, rawQuery} from '../../source/core/dns/packet.js';
import {PolicyDns, dnsblName, knownDnsblZones} from '../../source/core/policy/lookups.js';
import {startDnsServer} from '../../source/peers/dns-server.js';
import type {DnsServer, Zone} from '../../source/peers/dns-server.js';

const dnsMs = 2000;
const leaf = 'ab'.repeat(32);
const other = 'cd'.repeat(32);

const zone: Zone = {
	'.': {DNSKEY: [{flags: 257, algorithm: 8, key: Buffer.from('root key').toString('base64')}]},
	'mx.secure.test': {A: ['127.0.0.1']},
	'_25._tcp.mx.secure.test': {TLSA: [{usage: 3, selector: 1, matchingType: 1, data: leaf.toUpperCase()}, {usage: 2, selector: 0, matchingType: 2, data: other}]},
	'mx.plain.test': {A: ['127.0.0.1']},
	'_25._tcp.mx.plain.test': {TLSA: [{usage: 3, selector: 1, matchingType: 1, data: leaf}]},
	'mx.bogus.secure.test': {A: ['127.0.0.1'], bogus: true},
	'mx.badtlsa.secure.test': {A: ['127.0.0.1']},
	'_25._tcp.mx.badtlsa.secure.test': {TLSA: [{usage: 3, selector: 1, matchingType: 1, data: leaf}], bogus: true},
	'mx.slow.secure.test': {A: ['127.0.0.1']},
	'_25._tcp.mx.slow.secure.test': {mute: true},
	// An alias with TLSA at both names: the target's wins (RFC 7672 §2.2.2).
	'alias.secure.test': {CNAME: 'target.secure.test'},
	'target.secure.test': {A: ['127.0.0.1']},
	'_25._tcp.target.secure.test': {TLSA: [{usage: 3, selector: 1, matchingType: 1, data: leaf}]},
	'_25._tcp.alias.secure.test': {TLSA: [{usage: 3, selector: 1, matchingType: 1, data: other}]},
	// An alias whose target has none: the original name's.
	'alias2.secure.test': {CNAME: 'target2.secure.test'},
	'target2.secure.test': {A: ['127.0.0.1']},
	'_25._tcp.alias2.secure.test': {TLSA: [{usage: 3, selector: 1, matchingType: 1, data: other}]},

	'txt.test': {TXT: ['v=STSv1; id=20260101', `x${'y'.repeat(299)}`, 'tab\there']},
	'alias-txt.test': {CNAME: 'real-txt.test'},
	'real-txt.test': {TXT: ['v=TLSRPTv1; rua=mailto:tls@real-txt.test']},
	'nothing.test': {},
	'trunc.test': {TXT: ['only over TCP'], truncate: true},
	'huge.test': {TXT: Array.from({length: 100}, (_, index) => String(index % 10).repeat(400))},
	'many.test': {TXT: Array.from({length: 80}, (_, index) => `r${index}`)},

	// Blocklists: the zones are names in this loopback peer only.
	[dnsblName('192.0.2.5', 'zen.spamhaus.org')!]: {A: ['127.0.0.2', '127.0.0.4', '127.0.0.99'], TXT: ['https://www.spamhaus.org/query/ip/192.0.2.5', 'second']},
	[dnsblName('192.0.2.7', 'zen.spamhaus.org')!]: {A: ['127.255.255.254']},
	[dnsblName('192.0.2.8', 'bl.test')!]: {A: ['10.0.0.1']},
	[dnsblName('2001:db8::1', 'bl.test')!]: {A: ['127.0.0.2']},
	[dnsblName('127.0.0.2', 'bl.test')!]: {A: ['127.0.0.2'], TXT: ['test entry']},
	[dnsblName('127.0.0.2', 'dead.test')!]: {},
	[dnsblName('127.0.0.2', 'all.test')!]: {A: ['127.0.0.2']},
	[dnsblName('127.0.0.1', 'all.test')!]: {A: ['127.0.0.2']},
	[dnsblName('127.0.0.2', 'refusing.test')!]: {A: ['127.255.255.255']},
	[dnsblName('127.0.0.1', 'refusing.test')!]: {A: ['127.255.255.255']},
	[dnsblName('127.0.0.2', 'mute.test')!]: {mute: true},
	[dnsblName('127.0.0.1', 'mute.test')!]: {mute: true},
};

let secure: DnsServer;
let plain: DnsServer;
let dns: PolicyDns;

beforeAll(async () => {
	// A validating resolver's view: the root and *.secure.test validate, nothing else does.
	secure = await startDnsServer(zone, '127.0.0.1', 0, {authenticated: name => name === '.' || name.endsWith('.secure.test')});
	plain = await startDnsServer(zone, '127.0.0.1', 0);
	dns = new PolicyDns({servers: [secure.address], limits: {dnsMs}});
});

afterAll(async () => {
	await secure?.close();
	await plain?.close();
});

/** A raw UDP server on 127.0.0.1 that answers each query with `reply` (any number of datagrams). */
async function rawServer(reply: (query: DecodedPacket, raw: Buffer) => Buffer[]): Promise<{address: string; port: number; queries: DecodedPacket[]; close(): Promise<void>}> {
	const socket = dgram.createSocket('udp4');
	const queries: DecodedPacket[] = [];
	socket.on('message', (message, remote) => {
		const query = packet.decode(message);
		queries.push(query);
		for (const datagram of reply(query, message)) {
			socket.send(datagram, remote.port, remote.address);
		}
	});
	await new Promise<void>(resolve => {
		socket.bind(0, '127.0.0.1', resolve);
	});
	return {
		address: `127.0.0.1:${socket.address().port}`,
		port: socket.address().port,
		queries,
		async close() {
			await new Promise<void>(resolve => {
				socket.close(() => {
					resolve();
				});
			});
		},
	};
}

function response(query: DecodedPacket, changes: Partial<DecodedPacket> = {}): Buffer {
	return packet.encode({type: 'response', id: query.id, flags: packet.RECURSION_AVAILABLE, questions: query.questions, answers: [], ...changes});
}

describe('rawQuery', () => {
	it('sends RD, AD, EDNS0 (1232, DO) and CD, and ignores datagrams with a wrong id or question', async () => {
		const server = await rawServer(query => [
			response(query, {id: (query.id! + 1) % 65_536, answers: [{type: 'A', name: 'spoof.test', ttl: 1, data: '10.0.0.1'}]}),
			response(query, {questions: [{type: 'A', name: 'other.test'}], answers: [{type: 'A', name: 'other.test', ttl: 1, data: '10.0.0.2'}]}),
			response(query, {answers: [{type: 'A', name: 'spoof.test', ttl: 1, data: '127.0.0.9'}]}),
		]);
		try {
			const answer = await rawQuery([server.address], 'spoof.test', 'A', {dnssec: true, checkingDisabled: true, timeoutMs: dnsMs});
			expect(isDnsFailure(answer)).toBe(false);
			expect(answer).toMatchObject({rcode: 'NOERROR', ad: false, server: server.address, answers: [{type: 'A', data: '127.0.0.9'}]});
			const query = server.queries[0]!;
			expect([query.flag_rd, query.flag_ad, query.flag_cd]).toEqual([true, true, true]);
			expect(query.additionals).toMatchObject([{type: 'OPT', udpPayloadSize: 1232, flag_do: true}]);
		} finally {
			await server.close();
		}
	});

	it('times out within the deadline against a server that never answers, after one UDP retry', async () => {
		const server = await rawServer(() => []);
		try {
			const started = Date.now();
			const answer = await rawQuery([server.address], 'silent.test', 'A', {timeoutMs: 400});
			const elapsed = Date.now() - started;
			expect(answer).toMatchObject({kind: 'timeout'});
			expect(elapsed).toBeGreaterThanOrEqual(390);
			expect(elapsed).toBeLessThan(1500);
			expect(server.queries.length).toBe(2);
		} finally {
			await server.close();
		}
	});

	it('gives a malformed answer as a failure, not a throw', async () => {
		const server = await rawServer((_query, raw) => [Buffer.concat([raw.subarray(0, 2), Buffer.from([0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xFF])])]);
		try {
			const answer = await rawQuery([server.address], 'broken.test', 'A', {timeoutMs: dnsMs});
			expect(answer).toMatchObject({kind: 'other', code: 'EBADRESP'});
			expect(isDnsFailure(answer) && answer.message).toMatch(/^malformed DNS answer/);
		} finally {
			await server.close();
		}
	});

	it('moves on from an unreachable resolver to the next one', async () => {
		const closed = await rawServer(() => []);
		await closed.close();
		const answer = await rawQuery([closed.address, plain.address], 'mx.plain.test', 'A', {timeoutMs: dnsMs});
		expect(answer).toMatchObject({rcode: 'NOERROR', server: plain.address, answers: [{data: '127.0.0.1'}]});
		expect(await rawQuery([closed.address], 'mx.plain.test', 'A', {timeoutMs: dnsMs})).toMatchObject({kind: 'unreachable'});
	});

	it('retries over TCP when the UDP answer is truncated', async () => {
		const answer = await rawQuery([plain.address], 'trunc.test', 'TXT', {timeoutMs: dnsMs});
		expect(answer).toMatchObject({rcode: 'NOERROR', answers: [{type: 'TXT', data: [Buffer.from('only over TCP')]}]});
	});

	it('fails cleanly on a TCP answer that stops short or answers another query', async () => {
		for (const [send, message] of [
			// A length prefix promising more than ever comes, then the end of the connection.
			[(query: Buffer) => Buffer.concat([Buffer.from([0xFF, 0xFF]), query]), /closed after/],
			// A whole message with another id: over TCP that is a broken server.
			[(query: Buffer) => {
				const copy = Buffer.from(query);
				copy.writeUInt16BE((copy.readUInt16BE(0) + 1) % 65_536, 0);
				copy[2]! |= 0x80;
				return Buffer.concat([Buffer.from([copy.length >> 8, copy.length & 0xFF]), copy]);
			}, /does not match/],
		] as const) {
			const udp = await rawServer(query => [response(query, {flags: packet.TRUNCATED_RESPONSE})]);
			const tcp = net.createServer(socket => {
				socket.once('data', chunk => {
					socket.end(send(chunk.subarray(2)));
				});
			});
			await new Promise<void>(resolve => {
				tcp.listen(udp.port, '127.0.0.1', resolve);
			});
			try {
				const answer = await rawQuery([udp.address], 'tcp.test', 'TXT', {timeoutMs: dnsMs});
				expect(answer).toMatchObject({kind: 'other', message: expect.stringMatching(message) as unknown});
			} finally {
				await udp.close();
				await new Promise(resolve => {
					tcp.close(resolve);
				});
			}
		}
	});

	it('ends at once when its signal is aborted', async () => {
		const server = await rawServer(() => []);
		try {
			const controller = new AbortController();
			const pending = rawQuery([server.address], 'silent.test', 'A', {timeoutMs: 10_000, signal: controller.signal});
			controller.abort();
			const started = Date.now();
			expect(await pending).toMatchObject({kind: 'timeout', code: 'ECANCELLED'});
			expect(Date.now() - started).toBeLessThan(500);
		} finally {
			await server.close();
		}
	});

	it('returns NXDOMAIN and SERVFAIL as answers', async () => {
		expect(await rawQuery([plain.address], 'missing.test', 'A', {timeoutMs: dnsMs})).toMatchObject({rcode: 'NXDOMAIN', answers: []});
		expect(await rawQuery([plain.address], 'mx.bogus.secure.test', 'A', {timeoutMs: dnsMs})).toMatchObject({rcode: 'SERVFAIL'});
	});
});

describe('PolicyDns', () => {
	it('tells a validating resolver (AD on the root DNSKEY) from one that is not', async () => {
		expect(await dns.validation()).toEqual({resolver: secure.address, validates: true, detail: 'AD set on the root\'s DNSKEY'});
		expect(await new PolicyDns({servers: [plain.address], limits: {dnsMs}}).validation()).toEqual({resolver: plain.address, validates: false, detail: 'AD not set on the root\'s DNSKEY'});
	});

	it('reads a secure MX host and its TLSA set, hex in lower case', async () => {
		expect(await dns.mxPolicy({exchange: 'mx.secure.test'})).toEqual({
			exchange: 'mx.secure.test',
			tlsaName: '_25._tcp.mx.secure.test',
			dnssec: 'secure',
			tlsaDnssec: 'secure',
			tlsa: [{usage: 3, selector: 1, matchingType: 1, data: leaf}, {usage: 2, selector: 0, matchingType: 2, data: other}],
		});
	});

	it('reads an unsigned host as insecure', async () => {
		expect(await dns.mxPolicy({exchange: 'mx.plain.test'})).toMatchObject({dnssec: 'insecure', tlsaDnssec: 'insecure', tlsa: [{data: leaf}]});
		// No TLSA at all, proven secure: NXDOMAIN with AD.
		expect(await dns.mxPolicy({exchange: 'target2.secure.test'})).toMatchObject({dnssec: 'secure', tlsaDnssec: 'secure', tlsa: [], tlsaName: '_25._tcp.target2.secure.test'});
	});

	it('finds a bogus answer: SERVFAIL that CD clears', async () => {
		const host = await dns.mxPolicy({exchange: 'mx.bogus.secure.test'});
		expect(host).toMatchObject({dnssec: 'bogus', tlsaDnssec: 'secure'});
		expect(host.error).toBeUndefined();
		expect(await dns.mxPolicy({exchange: 'mx.badtlsa.secure.test'})).toMatchObject({dnssec: 'secure', tlsaDnssec: 'bogus'});
	});

	it('looks TLSA up at an alias\'s target first, then at the original name', async () => {
		expect(await dns.mxPolicy({exchange: 'alias.secure.test', cname: ['target.secure.test']})).toMatchObject({tlsaName: '_25._tcp.target.secure.test', tlsaDnssec: 'secure', tlsa: [{data: leaf}]});
		expect(await dns.mxPolicy({exchange: 'alias2.secure.test', cname: ['target2.secure.test']})).toMatchObject({tlsaName: '_25._tcp.alias2.secure.test', tlsaDnssec: 'secure', tlsa: [{data: other}]});
	});

	it('gives a TLSA timeout as an error and unknown, within the deadline', async () => {
		const started = Date.now();
		const host = await new PolicyDns({servers: [secure.address], limits: {dnsMs: 300}}).mxPolicy({exchange: 'mx.slow.secure.test'});
		expect(Date.now() - started).toBeLessThan(1500);
		expect(host).toMatchObject({dnssec: 'secure', tlsaDnssec: 'unknown', tlsa: []});
		expect(host.error).toMatch(/^TLSA _25\._tcp\.mx\.slow\.secure\.test: timeout/);
	});

	it('joins each TXT record\'s strings and keeps non-printables', async () => {
		expect(await dns.txt('txt.test')).toEqual({records: ['v=STSv1; id=20260101', `x${'y'.repeat(299)}`, 'tab\there']});
	});

	it('reports the CNAME chain of a TXT answer, and NXDOMAIN / NODATA as failures', async () => {
		expect(await dns.txt('alias-txt.test')).toEqual({records: ['v=TLSRPTv1; rua=mailto:tls@real-txt.test'], cname: ['real-txt.test']});
		expect(await dns.txt('missing.test')).toMatchObject({failure: {kind: 'nxdomain'}});
		expect(await dns.txt('nothing.test')).toMatchObject({failure: {kind: 'nodata'}});
	});

	it('bounds a huge TXT answer (over TCP) to 16 KiB and 64 records', async () => {
		const huge = await dns.txt('huge.test');
		expect('records' in huge).toBe(true);
		const records = 'records' in huge ? huge.records : [];
		expect(records.join('').length).toBe(16 * 1024);
		expect(records).toHaveLength(41);
		expect(records[40]).toBe('0'.repeat(384));
		const many = await dns.txt('many.test');
		expect('records' in many && many.records).toHaveLength(64);
	});

	it('reads a TXT answer that needs TCP', async () => {
		expect(await dns.txt('trunc.test')).toEqual({records: ['only over TCP']});
	});

	it('reads a listing with its codes, their meanings and the TXT', async () => {
		expect(await dns.dnsbl('192.0.2.5', 'zen.spamhaus.org')).toEqual({
			zone: 'zen.spamhaus.org',
			listed: true,
			codes: ['127.0.0.2', '127.0.0.4', '127.0.0.99'],
			meanings: [knownDnsblZones['zen.spamhaus.org']!['127.0.0.2'], 'XBL (exploited: CBL botnet/proxy)'],
			text: 'https://www.spamhaus.org/query/ip/192.0.2.5',
		});
		expect(await dns.dnsbl('2001:db8::1', 'bl.test')).toEqual({zone: 'bl.test', listed: true, codes: ['127.0.0.2']});
	});

	it('reads no listing, a refusal and a misbehaving list as no verdict', async () => {
		expect(await dns.dnsbl('192.0.2.6', 'zen.spamhaus.org')).toEqual({zone: 'zen.spamhaus.org', listed: false, codes: []});
		const refused = await dns.dnsbl('192.0.2.7', 'zen.spamhaus.org');
		expect(refused).toMatchObject({listed: false, codes: ['127.255.255.254']});
		expect(refused.error).toMatch(/public\/open resolver refused/);
		expect(await dns.dnsbl('192.0.2.8', 'bl.test')).toMatchObject({listed: false, error: 'answer outside 127.0.0.0/8: list misbehaving'});
		expect(await dns.dnsbl('not-an-ip', 'bl.test')).toMatchObject({listed: false, error: expect.stringMatching(/not an IP address/) as unknown});
	});

	it('makes the query names: reversed octets, and 32 reversed nibbles for IPv6', () => {
		expect(dnsblName('192.0.2.5', 'zone')).toBe('5.2.0.192.zone');
		expect(dnsblName('2001:db8::1', 'zone')).toBe('1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zone');
		expect(dnsblName('::ffff:192.0.2.1', 'zone')).toBe('1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.zone');
		expect(dnsblName('example.org', 'zone')).toBeUndefined();
	});

	it('self-tests a list (RFC 5782 §5): good, dead, listing everything, refusing, silent', async () => {
		expect(await dns.dnsblHealth('bl.test')).toMatchObject({zone: 'bl.test', usable: true});
		expect(await dns.dnsblHealth('dead.test')).toMatchObject({usable: false, detail: expect.stringMatching(/127\.0\.0\.2 is not listed/) as unknown});
		expect(await dns.dnsblHealth('all.test')).toMatchObject({usable: false, detail: expect.stringMatching(/127\.0\.0\.1 is listed/) as unknown});
		expect(await dns.dnsblHealth('refusing.test')).toMatchObject({usable: false, detail: expect.stringMatching(/rate limit/) as unknown});
		const started = Date.now();
		expect(await new PolicyDns({servers: [secure.address], limits: {dnsMs: 300}}).dnsblHealth('mute.test')).toMatchObject({usable: false, detail: expect.stringMatching(/^timeout/) as unknown});
		expect(Date.now() - started).toBeLessThan(1500);
	});
});
