// The DNS planner (source/core/dns.ts) against the in-process DNS server of the demo
// (source/peers/dns-server.ts), over UDP and TCP on loopback. Record data is never contacted.
import {reservedRange} from '../../source/core/dns/address-ranges.js';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {Dns, normalizeDomain, parseResolver} from '../../source/core/dns/resolver.js';
import {MxdashError} from '../../source/core/errors.js';
import {defaultLimits} from '../../source/core/limits.js';
import {diagnosePlan} from '../../source/core/checks/index.js';
import type {Finding, MxHost, MxPlan} from '../../source/core/types.js';
import {reverseName, startDnsServer} from '../../source/peers/dns-server.js';
import type {DnsServer, Zone} from '../../source/peers/dns-server.js';

const dnsMs = 800;
const limits = {...defaultLimits, dnsMs};

const manyCount = 40;
const many: Zone = {
	'many.test': {
		// Listed in reverse so the planner has to sort them.
		MX: Array.from({length: manyCount}, (_, index) => [manyCount - 1 - index, `mx${String(manyCount - 1 - index).padStart(2, '0')}.many.test`] as [number, string]),
	},
	...Object.fromEntries(Array.from({length: manyCount}, (_, index) => [`mx${String(index).padStart(2, '0')}.many.test`, {A: [`127.0.1.${index + 1}`]}])),
};

const zone: Zone = {
	'sorted.test': {MX: [[20, 'mx-b.sorted.test'], [10, 'mx-c.sorted.test'], [20, 'mx-a.sorted.test'], [5, 'MX-D.sorted.test']]},
	'mx-a.sorted.test': {A: ['127.0.0.11']},
	'mx-b.sorted.test': {A: ['127.0.0.12']},
	'mx-c.sorted.test': {A: ['127.0.0.13']},
	'mx-d.sorted.test': {A: ['127.0.0.14'], AAAA: ['::1']},

	'nullmx.test': {MX: [[0, '.']]},
	'nullmixed.test': {MX: [[0, '.'], [10, 'mx.nullmixed.test']]},
	'mx.nullmixed.test': {A: ['127.0.0.15']},

	'implicit.test': {A: ['127.0.0.21']},
	'nothing.test': {},

	'broken.test': {rcode: 'SERVFAIL'},
	'refused.test': {rcode: 'REFUSED'},
	'mute.test': {mute: true},

	'cname.test': {MX: [[10, 'mail.cname.test']]},
	'mail.cname.test': {CNAME: 'relay.cname.test'},
	'relay.cname.test': {CNAME: 'real.cname.test'},
	'real.cname.test': {A: ['127.0.0.31'], AAAA: ['::1']},

	'loop.test': {MX: [[10, 'a.loop.test']]},
	'a.loop.test': {CNAME: 'b.loop.test'},
	'b.loop.test': {CNAME: 'a.loop.test'},

	'literal.test': {MX: [[10, '192.0.2.25']]},

	'unresolvable.test': {MX: [[10, 'ghost.unresolvable.test'], [20, 'mx.unresolvable.test']]},
	'mx.unresolvable.test': {A: ['127.0.0.41']},

	'single.test': {MX: [[10, 'mx1.single.test'], [20, 'mx2.single.test']]},
	'mx1.single.test': {A: ['127.0.0.51']},
	'mx2.single.test': {A: ['127.0.0.51']},

	'dup.test': {MX: [[20, 'MX.dup.test.'], [10, 'mx.dup.test'], [30, 'backup.dup.test']]},
	'mx.dup.test': {A: ['127.0.0.61'], AAAA: ['::1']},
	'backup.dup.test': {A: ['127.0.0.62']},

	...many,

	// PTR: one that resolves back, one that does not, and (127.0.0.12) none at all.
	[reverseName('127.0.0.10')]: {PTR: ['mx.ptr.test']},
	'mx.ptr.test': {A: ['127.0.0.10']},
	[reverseName('127.0.0.11')]: {PTR: ['liar.ptr.test']},
	'liar.ptr.test': {A: ['127.0.0.99']},
	[reverseName('2001:db8::25')]: {PTR: ['v6.ptr.test.']},
	'v6.ptr.test': {AAAA: ['2001:db8:0:0:0:0:0:25']},
};

let server: DnsServer;

type JudgedPlan = Omit<MxPlan, 'mx'> & {findings: Finding[]; mx: Array<MxHost & {findings: Finding[]}>};

/** The resolver's facts, with the dns-plan check's verdict beside them. */
function dns(): {plan(input: string): Promise<JudgedPlan>; ptr: Dns['ptr']} {
	const resolver = new Dns({servers: [server.address], limits});
	return {
		ptr: async ip => resolver.ptr(ip),
		async plan(input) {
			const plan = await resolver.plan(input);
			const verdict = diagnosePlan(plan, {warnDays: 21, bannerSlowMs: 5000, now: Date.now});
			return {...plan, findings: verdict.findings, mx: plan.mx.map((host, index) => ({...host, findings: verdict.mx[index]!}))};
		},
	};
}

/** Finding ids, without mx-reserved-address: every test address here is loopback. */
function ids(findings: Finding[]): string[] {
	return findings.map(item => item.id).filter(id => id !== 'mx-reserved-address');
}

function findingOf(findings: Finding[], id: string): Finding {
	const found = findings.find(item => item.id === id);
	expect(found, `finding ${id} in ${JSON.stringify(ids(findings))}`).toBeDefined();
	return found!;
}

function exchanges(plan: Pick<MxPlan, 'mx'>): string[] {
	return plan.mx.map(host => host.exchange);
}

beforeAll(async () => {
	server = await startDnsServer(zone, '127.0.0.1', 0);
});

afterAll(async () => {
	await server?.close();
});

describe('Dns.plan', () => {
	it('sorts MX hosts by preference, ties by name, and lowercases them', async () => {
		const plan = await dns().plan('sorted.test');
		expect(plan.domain).toBe('sorted.test');
		expect(exchanges(plan)).toEqual(['mx-d.sorted.test', 'mx-c.sorted.test', 'mx-a.sorted.test', 'mx-b.sorted.test']);
		expect(plan.mx.map(host => host.preference)).toEqual([5, 10, 20, 20]);
		expect(plan.mx.every(host => !host.implicit && !host.ipLiteral && ids(host.findings).length === 0)).toBe(true);
		expect(plan.mx[0]!.addresses).toEqual(['127.0.0.14', '::1']);
		expect(plan.mx[1]!.addresses).toEqual(['127.0.0.13']);
		expect(plan.findings).toEqual([]);
		expect(plan.unknown).toBeUndefined();
	});

	it('reports a null MX and plans no host', async () => {
		const plan = await dns().plan('nullmx.test');
		expect(ids(plan.findings)).toEqual(['mx-null']);
		expect(findingOf(plan.findings, 'mx-null').severity).toBe('info');
		expect(plan.mx).toEqual([]);
	});

	it('reports a null MX mixed with other MX records', async () => {
		const plan = await dns().plan('nullmixed.test');
		expect(ids(plan.findings)).toEqual(['mx-null', 'mx-null-mixed']);
		expect(findingOf(plan.findings, 'mx-null-mixed').message).toContain('1 other MX');
		expect(plan.mx).toEqual([]);
	});

	it('falls back to the implicit MX when there is no MX but an A record', async () => {
		const plan = await dns().plan('implicit.test');
		expect(ids(plan.findings)).toContain('mx-implicit');
		expect(findingOf(plan.findings, 'mx-implicit').severity).toBe('warning');
		expect(plan.mx).toHaveLength(1);
		expect(plan.mx[0]).toMatchObject({exchange: 'implicit.test', preference: 0, implicit: true, ipLiteral: false, addresses: ['127.0.0.21']});
		expect(ids(plan.mx[0]!.findings)).toEqual([]);
		expect(ids(plan.findings)).toEqual(['mx-implicit', 'mx-single-point', 'mx-no-ipv6']);
	});

	it('reports mx-none when there is neither MX nor A/AAAA', async () => {
		const plan = await dns().plan('nothing.test');
		expect(ids(plan.findings)).toEqual(['mx-none']);
		expect(findingOf(plan.findings, 'mx-none').severity).toBe('critical');
		expect(plan.mx).toEqual([]);
	});

	it('reports NXDOMAIN', async () => {
		const plan = await dns().plan('does-not-exist.test');
		expect(ids(plan.findings)).toEqual(['dns-nxdomain']);
		expect(plan.mx).toEqual([]);
		expect(plan.unknown).toBeUndefined();
	});

	it('reports SERVFAIL as dns-error and never falls back to the implicit MX', async () => {
		const plan = await dns().plan('broken.test');
		expect(ids(plan.findings)).toEqual(['dns-error']);
		expect(findingOf(plan.findings, 'dns-error').message).toContain('SERVFAIL');
		expect(plan.mx).toEqual([]);
	});

	it('reports REFUSED as dns-error and says which', async () => {
		const plan = await dns().plan('refused.test');
		expect(ids(plan.findings)).toEqual(['dns-error']);
		expect(findingOf(plan.findings, 'dns-error').message).toContain('REFUSED');
		expect(plan.mx).toEqual([]);
	});

	it('gives up on a resolver that never answers by the deadline, verdict unknown', async () => {
		const started = performance.now();
		const plan = await dns().plan('mute.test');
		const elapsed = performance.now() - started;
		expect(ids(plan.findings)).toEqual(['dns-error']);
		expect(findingOf(plan.findings, 'dns-error').message).toContain('timeout');
		expect(plan.unknown).toBe(true);
		expect(plan.mx).toEqual([]);
		expect(elapsed).toBeLessThan(dnsMs + 500);
	});

	it('reports an MX host that is an alias, with its chain, and resolves through it', async () => {
		const plan = await dns().plan('cname.test');
		expect(plan.mx).toHaveLength(1);
		const [host] = plan.mx;
		expect(host!.exchange).toBe('mail.cname.test');
		expect(host!.cname).toEqual(['relay.cname.test', 'real.cname.test']);
		expect(ids(host!.findings)).toEqual(['mx-cname']);
		expect(findingOf(host!.findings, 'mx-cname').message).toContain('relay.cname.test → real.cname.test');
		expect(host!.addresses).toEqual(['127.0.0.31', '::1']);
	});

	it('reports a CNAME loop without hanging', async () => {
		const plan = await dns().plan('loop.test');
		const [host] = plan.mx;
		expect(ids(host!.findings)).toEqual(['mx-cname-loop']);
		expect(findingOf(host!.findings, 'mx-cname-loop').severity).toBe('critical');
		expect(host!.cname).toEqual(['b.loop.test', 'a.loop.test']);
		expect(host!.addresses).toEqual([]);
	});

	it('reports an MX exchange that is an IP literal, and uses the address as is', async () => {
		const plan = await dns().plan('literal.test');
		const [host] = plan.mx;
		expect(host).toMatchObject({exchange: '192.0.2.25', ipLiteral: true, addresses: ['192.0.2.25']});
		expect(ids(host!.findings)).toEqual(['mx-ip-literal']);
	});

	it('reports an MX host name with no address', async () => {
		const plan = await dns().plan('unresolvable.test');
		expect(exchanges(plan)).toEqual(['ghost.unresolvable.test', 'mx.unresolvable.test']);
		const [ghost, real] = plan.mx;
		expect(ids(ghost!.findings)).toEqual(['mx-unresolvable']);
		expect(findingOf(ghost!.findings, 'mx-unresolvable').message).toContain('NXDOMAIN');
		expect(ghost!.addresses).toEqual([]);
		expect(ids(real!.findings)).toEqual([]);
		expect(real!.addresses).toEqual(['127.0.0.41']);
	});

	it('reports a single point of failure and no IPv6', async () => {
		const plan = await dns().plan('single.test');
		expect(exchanges(plan)).toEqual(['mx1.single.test', 'mx2.single.test']);
		expect(ids(plan.findings)).toEqual(['mx-single-point', 'mx-no-ipv6']);
		expect(findingOf(plan.findings, 'mx-single-point').message).toContain('127.0.0.51');
	});

	it('caps the MX hosts at maxMxHosts (a large answer that only TCP carries)', async () => {
		const plan = await dns().plan('many.test');
		expect(ids(plan.findings)).toContain('mx-too-many');
		// 40 records came back: the UDP answer was truncated, so c-ares retried over TCP.
		expect(findingOf(plan.findings, 'mx-too-many').message).toContain(`${manyCount} MX hosts`);
		expect(plan.mx).toHaveLength(limits.maxMxHosts);
		expect(plan.mx.map(host => host.preference)).toEqual(Array.from({length: limits.maxMxHosts}, (_, index) => index));
		expect(plan.mx[0]!.exchange).toBe('mx00.many.test');
		expect(plan.mx[0]!.addresses).toEqual(['127.0.1.1']);
		expect(plan.mx.at(-1)!.addresses).toEqual([`127.0.1.${limits.maxMxHosts}`]);
	});

	it('counts the same MX name listed twice (any case, trailing dot) as one host, at its best preference', async () => {
		const plan = await dns().plan('dup.test');
		expect(exchanges(plan)).toEqual(['mx.dup.test', 'backup.dup.test']);
		expect(plan.mx[0]!.preference).toBe(10);
		expect(plan.findings).toEqual([]);
	});

	it('normalizes what it is given before querying', async () => {
		const plan = await dns().plan('  Sorted.TEST. ');
		expect(plan.domain).toBe('sorted.test');
		expect(plan.input).toBe('  Sorted.TEST. ');
		expect(plan.mx).toHaveLength(4);
	});

	it('works with the server on ::1 (IPv6 resolver address, UDP and TCP)', async () => {
		const server6 = await startDnsServer(zone, '::1', 0);
		try {
			expect(server6.address).toBe(`[::1]:${server6.port}`);
			const resolver = new Dns({servers: [parseResolver(server6.address)], limits});
			expect(exchanges(await resolver.plan('sorted.test'))).toHaveLength(4);
			expect(await resolver.plan('many.test')).toMatchObject({mx: {length: limits.maxMxHosts}});
		} finally {
			await server6.close();
		}
	});
});

describe('Dns.ptr', () => {
	it('finds a PTR that resolves back to the address (FCrDNS)', async () => {
		expect(await dns().ptr('127.0.0.10')).toEqual({ptr: 'mx.ptr.test', ptrNames: ['mx.ptr.test'], fcrdns: true});
	});

	it('finds a PTR that does not resolve back', async () => {
		expect(await dns().ptr('127.0.0.11')).toEqual({ptr: 'liar.ptr.test', ptrNames: ['liar.ptr.test'], fcrdns: false});
	});

	it('reports no PTR as an empty list, not an error', async () => {
		const info = await dns().ptr('127.0.0.12');
		expect(info.ptrNames).toEqual([]);
		expect(info.ptr).toBeUndefined();
		expect(info.error).toBeUndefined();
	});

	it('checks an IPv6 PTR against AAAA records', async () => {
		expect(await dns().ptr('2001:db8::25')).toEqual({ptr: 'v6.ptr.test', ptrNames: ['v6.ptr.test'], fcrdns: true});
	});
});

describe('normalizeDomain', () => {
	it('converts IDN to ASCII', () => {
		expect(normalizeDomain('bücher.example')).toBe('xn--bcher-kva.example');
		expect(normalizeDomain('BÜCHER.example')).toBe('xn--bcher-kva.example');
	});

	it('accepts a trailing dot and lowers upper case', () => {
		expect(normalizeDomain('Example.TEST.')).toBe('example.test');
		expect(normalizeDomain('mx_1.example.test')).toBe('mx_1.example.test');
		expect(normalizeDomain(`${'a'.repeat(63)}.test`)).toBe(`${'a'.repeat(63)}.test`);
	});

	it.each([
		['', 'empty'],
		['.', 'only a dot'],
		['a..b', 'an empty label'],
		['exa mple.com', 'a space'],
		['1.2.3.4', 'an IPv4 address'],
		['::1', 'an IPv6 address'],
		[`${'a'.repeat(64)}.test`, 'a 64-character label'],
		['-bad.test', 'a leading hyphen'],
		['exa\u0001mple.com', 'a control character'],
		// domainToASCII alone would silently drop these (URL parser rules) and query another name.
		['exa\nmple.com', 'a newline'],
		['exa\tmple.com', 'a tab'],
		['bü\ncher.example', 'an IDN with a newline'],
		['bücher%2eexample', 'an IDN with a percent escape'],
		[`${Array.from({length: 5}, () => 'a'.repeat(60)).join('.')}.test`, 'a name over 253 characters'],
	])('rejects %j (%s) with bad-domain', (input) => {
		let caught: unknown;
		try {
			normalizeDomain(input);
		} catch (error) {
			caught = error;
		}

		expect(caught).toBeInstanceOf(MxdashError);
		expect((caught as MxdashError).code).toBe('bad-domain');
	});
});

describe('parseResolver', () => {
	it.each([
		['127.0.0.1', '127.0.0.1'],
		['127.0.0.1:5353', '127.0.0.1:5353'],
		['::1', '::1'],
		['[::1]:53', '[::1]:53'],
		['[::1]', '::1'],
	])('accepts %j as %j', (input, expected) => {
		expect(parseResolver(input)).toBe(expected);
	});

	it.each(['dns.google', '1.2.3.4:99999', '1.2.3.4:0', '', '[dns.google]:53', '::1:53x'])('rejects %j with bad-resolver', input => {
		let caught: unknown;
		try {
			parseResolver(input);
		} catch (error) {
			caught = error;
		}

		expect(caught).toBeInstanceOf(MxdashError);
		expect((caught as MxdashError).code).toBe('bad-resolver');
	});
});

describe('reservedRange', () => {
	it.each([
		['127.0.0.1', 'loopback'], ['10.1.2.3', 'private (RFC 1918)'], ['172.31.255.255', 'private (RFC 1918)'], ['192.168.1.1', 'private (RFC 1918)'],
		['100.64.0.1', 'shared address space (RFC 6598)'], ['169.254.1.1', 'link-local'], ['192.0.2.7', 'documentation (TEST-NET-1)'],
		['::1', 'loopback'], ['fd00::1', 'unique local (fc00::/7)'], ['fe80::1', 'link-local'], ['2001:db8::1', 'documentation'],
		['8.8.8.8', undefined], ['172.32.0.1', undefined], ['2a00:1450::1', undefined],
	])('%s is %s', (ip, name) => {
		expect(reservedRange(ip)).toBe(name);
	});

	it('marks an MX host on a reserved address', async () => {
		const plan = await dns().plan('sorted.test');
		const findings = plan.mx[0]!.findings.filter(item => item.id === 'mx-reserved-address');
		expect(findings.map(item => item.message)).toEqual([
			'mx-d.sorted.test resolves to 127.0.0.14, in the loopback range, which senders on the Internet cannot reach.',
			'mx-d.sorted.test resolves to ::1, in the loopback range, which senders on the Internet cannot reach.',
		]);
		expect(findings[0]!.severity).toBe('info');
	});
});
