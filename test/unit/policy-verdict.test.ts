import {describe, expect, it} from 'vitest';
import {Knowledge} from '../../source/core/run/knowledge.js';
import {defaultDnsbl, policyOptions} from '../../source/options.js';
import {buildReport} from '../../source/core/run/report-model.js';
import type {AddressReport} from '../../source/core/run/report-model.js';
import type {DomainPolicy, MxPolicy} from '../../source/core/policy/types.js';
import type {CertInfo, MxPlan, ProbeResult, Stage, StageName, TlsInfo} from '../../source/core/types.js';
import {stageNames} from '../../source/core/types.js';

// The policy layer judged end to end from facts: Knowledge → checks → delivery → the JSON report.

const context = {warnDays: 21, bannerSlowMs: 5000, now: () => Date.parse('2026-12-01T00:00:00Z')};

function cert(overrides: Partial<CertInfo> = {}): CertInfo {
	return {
		subject: 'CN=mx.a.test', issuer: 'CN=CA', serialNumber: '01', validFrom: '2020-01-01T00:00:00.000Z', validTo: '2099-01-01T00:00:00.000Z',
		daysLeft: 900, san: ['DNS:mx.a.test'], fingerprint256: 'AA', keyType: 'ec', keyBits: 256, signatureAlgorithm: 'ecdsa-with-SHA256', selfSigned: false, ca: false,
		...overrides,
	};
}

function session(exchange: string, tls: Partial<TlsInfo> | null = {}): ProbeResult {
	const stages = Object.fromEntries(stageNames.map(name => [name, {state: 'done', outcome: 'ok', startedAt: 0, ms: 1}])) as Record<StageName, Stage>;
	if (!tls) {
		stages.starttls = {state: 'done', outcome: 'failed', error: 'missing', detail: 'not advertised'};
		stages.tls = {state: 'skipped'};
	}

	return {
		target: {exchange, ip: '192.0.2.1', port: 25}, family: 4, startedAt: '2026-12-01T00:00:00.000Z', ms: 10, stages,
		banner: {code: 220, text: `${exchange} ESMTP`, hostname: exchange, delayMs: 1},
		ehlo: {greeting: 'EHLO', hostname: exchange, extensions: [{keyword: 'PIPELINING', params: []}, ...(tls ? [{keyword: 'STARTTLS', params: []}] : [])]},
		...(tls ? {tls: {version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', authorized: true, hostnameMatch: true, chain: [cert(), cert({subject: 'CN=CA', ca: true})], chainIncomplete: false, ...tls}} : {}),
		relay: {tested: true, open: false, attempts: []}, transcript: [],
	};
}

const plan = (domain: string, exchange: string): MxPlan => ({domain, input: domain, query: {answer: 'records', records: 1, nullRecords: 0, hosts: 1}, mx: [{exchange, preference: 10, implicit: false, ipLiteral: false, addresses: ['192.0.2.1', '2001:db8::1']}]});

function stsPolicy(domain: string, body: string, record = 'v=STSv1; id=20261201;', contentType = 'text/plain'): DomainPolicy {
	return {
		mtaSts: {txt: {records: [record]}, fetch: {url: `https://mta-sts.${domain}/.well-known/mta-sts.txt`, ms: 5, status: 200, contentType, body, certificate: {authorized: true}}},
		tlsRpt: {txt: {records: [`v=TLSRPTv1; rua=mailto:tls@${domain}`]}},
	};
}

/** One domain, one MX host, one address probed: the report's address and all ids of the domain. */
function judge(facts: {domain?: DomainPolicy; mx?: Partial<MxPolicy>; validates?: boolean; result?: ProbeResult}): {address: AddressReport; ids: string[]} {
	const knowledge = new Knowledge(context, () => 25);
	const domainPlan = plan('a.test', 'mx.a.test');
	domainPlan.mx[0]!.addresses = ['192.0.2.1'];
	knowledge.setPlan(domainPlan);
	knowledge.setValidation({resolver: '127.0.0.1', validates: facts.validates ?? true});
	if (facts.domain) {
		knowledge.setDomainPolicy('a.test', facts.domain);
	}

	if (facts.mx) {
		knowledge.setMxPolicy({exchange: 'mx.a.test', tlsaName: '_25._tcp.mx.a.test', dnssec: 'secure', tlsaDnssec: 'secure', tlsa: [], ...facts.mx});
	}

	knowledge.setSession(knowledge.keyOf('mx.a.test', '192.0.2.1'), facts.result ?? session('mx.a.test'));
	knowledge.judgeRun();
	const report = buildReport(knowledge, {version: 't', domains: ['a.test'], startedAt: new Date(), finishedAt: new Date()});
	const domain = report.domains[0]!;
	const address = domain.mx[0]!.addresses[0]!;
	return {address, ids: [...new Set([...report.findings, ...domain.findings, ...domain.mx[0]!.findings, ...address.findings].map(item => item.id))].sort()};
}

const enforce = 'version: STSv1\r\nmode: enforce\r\nmx: mx.a.test\r\nmax_age: 604800\r\n';

describe('MTA-STS verdicts', () => {
	it('delivers under a good enforce policy, and says nothing but the facts', () => {
		const {address, ids} = judge({domain: stsPolicy('a.test', enforce)});
		expect(address.delivery).toMatchObject({opportunistic: 'deliver', mtaSts: 'deliver', dane: 'none'});
		expect(ids.filter(id => id.startsWith('mta-sts') || id.startsWith('tlsrpt'))).toEqual([]);
	});

	it.each([
		['an expired certificate', session('mx.a.test', {authorized: false, authorizationError: 'CERT_HAS_EXPIRED', chain: [cert({daysLeft: -2, validTo: '2026-11-29T00:00:00.000Z'})]}), 'expired'],
		['no STARTTLS', session('mx.a.test', null), 'no STARTTLS'],
		['TLS 1.1', session('mx.a.test', {version: 'TLSv1.1'}), 'under TLS 1.2'],
		['a certificate for another name', session('mx.a.test', {hostnameMatch: false}), 'does not name mx.a.test'],
	])('fails an enforce sender on %s, only warns in testing', (_label, result, why) => {
		const enforced = judge({domain: stsPolicy('a.test', enforce), result});
		expect(enforced.address.delivery).toMatchObject({opportunistic: 'deliver', mtaSts: 'fail'});
		const finding = enforced.address.findings.find(item => item.id === 'mta-sts-would-fail');
		expect(finding?.severity).toBe('critical');
		expect(finding?.message).toContain(why);
		const testing = judge({domain: stsPolicy('a.test', enforce.replace('enforce', 'testing')), result});
		expect(testing.address.delivery?.mtaSts).toBe('deliver');
		expect(testing.address.findings.find(item => item.id === 'mta-sts-would-fail')?.severity).toBe('warning');
	});

	it.each([
		['a wildcard one label too high', enforce.replace('mx: mx.a.test', 'mx: *.test'), 'mta-sts-mx-mismatch', 'fail'],
		['two records', undefined, 'mta-sts-record-multiple', 'none'],
		['a bad id', undefined, 'mta-sts-record-invalid', 'none'],
		['text/html', undefined, 'mta-sts-policy-invalid', 'none'],
		['mode none', enforce.replace('enforce', 'none'), undefined, 'none'],
	])('%s', (label, body, id, verdict) => {
		let policy = stsPolicy('a.test', body ?? enforce);
		if (label === 'two records') {
			policy = {...policy, mtaSts: {txt: {records: ['v=STSv1; id=1;', 'v=STSv1; id=2;']}}};
		} else if (label === 'a bad id') {
			policy = {...policy, mtaSts: {txt: {records: ['v=STSv1; id=bad-id!;']}}};
		} else if (label === 'text/html') {
			policy = stsPolicy('a.test', enforce, undefined, 'text/html');
		}

		const {address, ids} = judge({domain: policy});
		expect(address.delivery?.mtaSts).toBe(verdict);
		if (id) {
			expect(ids).toContain(id);
		}
	});

	it('an unreachable policy and a bad policy certificate leave senders with no policy', () => {
		const unreachable = stsPolicy('a.test', enforce);
		unreachable.mtaSts.fetch = {url: 'https://mta-sts.a.test/.well-known/mta-sts.txt', ms: 3, status: 301, location: 'https://elsewhere.test/', error: {kind: 'redirect', message: 'HTTP 301 to https://elsewhere.test/ (never followed)'}, certificate: {authorized: true}};
		const first = judge({domain: unreachable});
		expect(first.ids).toContain('mta-sts-policy-unreachable');
		expect(first.address.delivery?.mtaSts).toBe('none');
		const badCert = stsPolicy('a.test', enforce);
		badCert.mtaSts.fetch = {url: 'x', ms: 3, certificate: {authorized: false, error: 'Hostname/IP does not match certificate\'s altnames'}, error: {kind: 'tls', message: 'certificate'}};
		expect(judge({domain: badCert}).ids).toContain('mta-sts-policy-cert');
	});
});

describe('DANE verdicts', () => {
	it('a bogus MX host fails DANE senders; an unsigned one has no DANE; a non-validating resolver judges nothing', () => {
		const bogus = judge({mx: {dnssec: 'bogus'}});
		expect(bogus.ids).toContain('dnssec-bogus');
		expect(bogus.address.delivery?.dane).toBe('fail');
		const unsigned = judge({mx: {dnssec: 'insecure', tlsaDnssec: 'insecure', tlsa: [{usage: 3, selector: 1, matchingType: 1, data: '00'.repeat(32)}]}});
		expect(unsigned.ids).toContain('dnssec-insecure');
		expect(unsigned.ids).not.toContain('dane-mismatch');
		expect(unsigned.address.delivery?.dane).toBe('none');
		const blind = judge({validates: false, mx: {tlsa: [{usage: 3, selector: 1, matchingType: 1, data: '00'.repeat(32)}]}});
		expect(blind.ids.filter(id => id.startsWith('dane') || id.startsWith('dnssec-'))).toEqual(['dnssec-resolver-not-validating']);
		expect(blind.address.delivery?.dane).toBe('none');
	});

	it('TLSA records that are all unusable make TLS mandatory but unauthenticated', () => {
		const unusable = {tlsa: [{usage: 1, selector: 1, matchingType: 1, data: '00'.repeat(32)}]};
		const withTls = judge({mx: unusable});
		expect(withTls.ids).toContain('dane-tlsa-unusable');
		expect(withTls.address.delivery?.dane).toBe('deliver');
		expect(judge({mx: unusable, result: session('mx.a.test', null)}).address.delivery?.dane).toBe('fail');
	});

	it('a signed zone without TLSA is dane-none, and DANE does not apply', () => {
		const {ids, address} = judge({mx: {}});
		expect(ids).toContain('dane-none');
		expect(address.delivery?.dane).toBe('none');
	});
});

describe('the policy flags', () => {
	it.each([
		[{dnsbl: []}, defaultDnsbl, true, false],
		[{dnsbl: [false]}, [], true, false],
		[{dnsbl: ['BL.Example.', 'bl.example']}, ['bl.example'], true, false],
		[{dnsbl: [], policy: false, tlsVersions: true}, defaultDnsbl, false, true],
	])('%j', (flags, dnsbl, policy, tlsVersions) => {
		expect(policyOptions(flags)).toEqual({dnsbl, policy, tlsVersions});
	});

	it('refuses a zone that is not a domain name in one line', () => {
		expect(() => policyOptions({dnsbl: ['bad zone!']})).toThrow('--dnsbl needs a blocklist\'s DNS zone, like zen.spamhaus.org, not "bad zone!"');
	});
});
