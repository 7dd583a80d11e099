// The policy layer's end-to-end contract (docs/checks.md: its findings in "The catalogue", "Would a
// strict sender deliver?" and "The JSON report"):
// the built CLI, run as a user would, against the real peers (test/peers/policy.ts, test/peers/postfix.ts):
// once through the validating Unbound, once through the non-validating dnsmasq.
import {beforeAll, describe, expect, inject, it} from 'vitest';
import {runCli} from '../helpers/run-cli.js';
import type {CliRun} from '../helpers/run-cli.js';
import {POLICY_DOMAINS} from '../peers/policy.js';

const postfix = inject('postfix');
const policy = inject('policy');
const missing = inject('policyMissing');

// The contract's JSON, loosely typed: this test must not depend on the engine's own types.
type Finding = {id: string};
type Delivery = {opportunistic: string; mtaSts: string; dane: string};
type Address = {
	ip: string; findings: Finding[]; delivery?: Delivery; tlsVersions?: Record<string, boolean>;
	dane?: {checked: boolean; match: string; depth?: number}; dnsbl?: Array<{zone: string; listed: boolean; codes: unknown[]; text?: string}>;
};
type Mx = {exchange: string; findings: Finding[]; addresses: Address[]; dnssec?: string; tlsa?: Array<{usage: number; selector: number; matchingType: number; data: string}>};
type Domain = {domain: string; findings: Finding[]; mx: Mx[]; policy?: {mtaSts: {record: {id: string} | null; policy: {mode: string; maxAge: number; mx: string[]} | null; fetch: {status?: number; contentType?: string} | null}; tlsRpt: {record: string | null; rua: string[]}}};
type Report = {findings: Finding[]; domains: Domain[]};

// What today's checks say of these listeners (measured against the peers without the policy layer).
const BASE = ['mx-single-point', 'mx-no-ipv6', 'mx-reserved-address', 'banner-software-disclosed'];
// The info findings of a domain that publishes no MTA-STS / TLS-RPT, and of a signed MX host without TLSA.
const NO_STS = 'mta-sts-none';
const NO_RPT = 'tlsrpt-none';
const NO_TLSA = 'dane-none';

type Expected = {
	ids: string[];
	delivery?: Delivery; // Of the domain's one address; undefined: the domain has no address.
	dnssec: string;
	dane?: {match: string; depth?: number};
};
const deliver = (mtaSts: string, dane: string): Delivery => ({opportunistic: 'deliver', mtaSts, dane});
const EXPECTED: Record<string, Expected> = {
	'sts-good.test': {ids: [...BASE, NO_TLSA], delivery: deliver('deliver', 'none'), dnssec: 'secure', dane: {match: 'none'}},
	'sts-mismatch.test': {ids: [...BASE, 'mta-sts-mx-mismatch', NO_RPT, NO_TLSA], delivery: deliver('fail', 'none'), dnssec: 'secure'},
	'sts-testing.test': {ids: [...BASE, 'mta-sts-testing', NO_RPT, NO_TLSA], delivery: deliver('deliver', 'none'), dnssec: 'secure'},
	'sts-multiple.test': {ids: [...BASE, 'mta-sts-record-multiple', NO_RPT, NO_TLSA], delivery: deliver('none', 'none'), dnssec: 'secure'},
	'sts-badid.test': {ids: [...BASE, 'mta-sts-record-invalid', NO_RPT, NO_TLSA], delivery: deliver('none', 'none'), dnssec: 'secure'},
	'sts-redirect.test': {ids: [...BASE, 'mta-sts-policy-unreachable', NO_RPT, NO_TLSA], delivery: deliver('none', 'none'), dnssec: 'secure'},
	'sts-badcert.test': {ids: [...BASE, 'mta-sts-policy-cert', NO_RPT, NO_TLSA], delivery: deliver('none', 'none'), dnssec: 'secure'},
	'sts-ctype.test': {ids: [...BASE, 'mta-sts-policy-invalid', NO_RPT, NO_TLSA], delivery: deliver('none', 'none'), dnssec: 'secure'},
	'sts-wildcard.test': {ids: [...BASE, 'mta-sts-mx-mismatch', NO_RPT, NO_TLSA], delivery: deliver('fail', 'none'), dnssec: 'secure'},
	'sts-expired.test': {ids: [...BASE, 'cert-expired', 'mta-sts-would-fail', NO_RPT, NO_TLSA], delivery: deliver('fail', 'none'), dnssec: 'secure'},
	'tlsrpt-bad.test': {ids: [...BASE, 'tlsrpt-invalid', NO_STS, NO_TLSA], delivery: deliver('none', 'none'), dnssec: 'secure'},
	'tlsrpt-multiple.test': {ids: [...BASE, 'tlsrpt-multiple', NO_STS, NO_TLSA], delivery: deliver('none', 'none'), dnssec: 'secure'},
	'dane-rollover.test': {ids: [...BASE, NO_STS, NO_RPT], delivery: deliver('none', 'deliver'), dnssec: 'secure', dane: {match: 'matched', depth: 0}},
	'dane-single.test': {ids: [...BASE, 'dane-no-rollover', NO_STS, NO_RPT], delivery: deliver('none', 'deliver'), dnssec: 'secure', dane: {match: 'matched', depth: 0}},
	'dane-mismatch.test': {ids: [...BASE, 'dane-mismatch', 'dane-no-rollover', NO_STS, NO_RPT], delivery: deliver('none', 'fail'), dnssec: 'secure', dane: {match: 'mismatch'}},
	'dane-ta.test': {ids: [...BASE, 'dane-no-rollover', NO_STS, NO_RPT], delivery: deliver('none', 'deliver'), dnssec: 'secure', dane: {match: 'matched', depth: 1}},
	'dane-unusable.test': {ids: [...BASE, 'dane-tlsa-unusable', NO_STS, NO_RPT], delivery: deliver('none', 'deliver'), dnssec: 'secure', dane: {match: 'unusable'}},
	'dane-notlsa.test': {ids: [...BASE, NO_TLSA, NO_STS, NO_RPT], delivery: deliver('none', 'none'), dnssec: 'secure', dane: {match: 'none'}},
	// The MX host's address cannot be validated: no address, so no address-level finding at all.
	'dane-bogus.test': {ids: ['dns-error', 'dnssec-bogus', NO_STS, NO_RPT], dnssec: 'bogus'},
	'dane-unsigned.test': {ids: [...BASE, 'dnssec-insecure', NO_STS, NO_RPT], delivery: deliver('none', 'none'), dnssec: 'insecure', dane: {match: 'none'}},
	'listed.test': {ids: [...BASE, 'open-relay', 'dnsbl-listed', NO_STS, NO_RPT, NO_TLSA], delivery: deliver('none', 'none'), dnssec: 'secure'},
	'tls10.test': {ids: [...BASE, 'tls-old-version', 'tls-weak-cipher', 'tls-no-1.3', 'tls-legacy-accepted', NO_STS, NO_RPT, NO_TLSA], delivery: deliver('none', 'none'), dnssec: 'secure'},
};
const DOMAINS = Object.keys(EXPECTED);

// Through dnsmasq nothing is validated: no DANE or DNSSEC finding, and bogus.test. resolves like any zone.
function throughForwarder(domain: string): Expected {
	const {ids, delivery} = EXPECTED[domain]!;
	// Without validation the bogus host resolves: its session shows the certificate, which does not name it.
	if (domain === 'dane-bogus.test') return {ids: [...BASE, NO_STS, NO_RPT, 'cert-hostname-mismatch'], delivery: deliver('none', 'none'), dnssec: 'unknown'};
	return {ids: ids.filter(id => !/^(dane|dnssec)-/.test(id)), delivery: {...delivery!, dane: 'none'}, dnssec: 'unknown'};
}

const unique = (ids: string[]) => [...new Set(ids)].sort();
/** Every id of a domain, its MX hosts and addresses; the run's own findings (repeated in each domain's list) aside. */
const idsOf = (domain: Domain, report: Report) => unique([
	...domain.findings.filter(finding => !report.findings.some(run => run.id === finding.id)),
	...domain.mx.flatMap(mx => [...mx.findings, ...mx.addresses.flatMap(address => address.findings)]),
].map(finding => finding.id));

function parse(run: CliRun): Report {
	let report: Report | undefined;
	try {
		report = JSON.parse(run.stdout) as Report;
	} catch {
		// Reported below with the CLI's stderr.
	}

	expect(report, `no JSON report (exit ${run.code}): ${run.stderr.slice(0, 2000)}`).toBeDefined();
	return report!;
}

function find(report: Report, name: string): Domain {
	const domain = report.domains.find(item => item.domain === name);
	expect(domain, name).toBeDefined();
	return domain!;
}

describe.skipIf(!policy || !postfix)(`mxdash --json: the policy layer against real peers${missing ? ` (skipped: ${missing})` : ''}`, () => {
	let validated: CliRun;
	let forwarded: CliRun;
	const cli = (resolver: string) => [
		'--json', '--resolver', resolver, '--ca', postfix!.caFile, '--dnsbl', 'bl.test', '--dnsbl', 'refuse.test', '--tls-versions', ...DOMAINS,
	];

	beforeAll(async () => {
		[validated, forwarded] = await Promise.all([runCli(cli(policy!.ips.validating)), runCli(cli(policy!.ips.forwarding))]);
	}, 120_000);

	it('expects a result for every domain the peers publish, and only for those', () => {
		expect([...DOMAINS].sort()).toEqual([...POLICY_DOMAINS].sort());
	});

	describe('through the validating resolver (Unbound)', () => {
		it('exits 2 (critical findings) with one run-level finding: the refusing blocklist', () => {
			const report = parse(validated);
			expect(validated.code, validated.stderr).toBe(2);
			expect(report.findings.map(finding => finding.id)).toEqual(['dnsbl-unusable']);
		});

		for (const name of DOMAINS) {
			it(`${name}: ${EXPECTED[name]!.ids.filter(id => !BASE.includes(id)).join(', ')}`, () => {
				const expected = EXPECTED[name]!;
				const report = parse(validated);
				const domain = find(report, name);
				expect(idsOf(domain, report)).toEqual(unique(expected.ids));
				const [mx] = domain.mx;
				expect(domain.mx).toHaveLength(1);
				expect(mx!.dnssec).toBe(expected.dnssec);
				if (expected.delivery === undefined) {
					expect(mx!.addresses).toEqual([]);
					return;
				}

				expect(mx!.addresses).toHaveLength(1);
				const address = mx!.addresses[0]!;
				expect(address.delivery).toMatchObject(expected.delivery);
				if (expected.dane) expect(address.dane).toMatchObject({checked: true, ...expected.dane});
				// Every address is asked of both lists; only the relay is listed, refuse.test never says "listed".
				expect(address.dnsbl?.map(entry => [entry.zone, entry.listed]).sort()).toEqual([['bl.test', name === 'listed.test'], ['refuse.test', false]]);
			});
		}

		it('mx.tlsa: the records published for each signed DANE host', () => {
			const report = parse(validated);
			const sorted = (records: Mx['tlsa']) => (records ?? []).map(r => `${r.usage} ${r.selector} ${r.matchingType} ${r.data.toLowerCase()}`).sort();
			for (const [domain, host] of [['dane-rollover.test', 'rollover.dane.test'], ['dane-single.test', 'single.dane.test'], ['dane-mismatch.test', 'mismatch.dane.test'], ['dane-ta.test', 'ta.dane.test'], ['dane-unusable.test', 'unusable.dane.test']]) {
				expect(sorted(find(report, domain!).mx[0]?.tlsa), host).toEqual(sorted(policy!.tlsa[host!]));
			}

			expect(find(report, 'dane-notlsa.test').mx[0]?.tlsa).toEqual([]);
		});

		it('address.dnsbl: the listing of the relay, with its code and TXT reason', () => {
			const address = find(parse(validated), 'listed.test').mx[0]!.addresses[0]!;
			const entry = address.dnsbl?.find(item => item.zone === 'bl.test');
			expect(entry).toMatchObject({listed: true, text: 'listed by the mxdash test list'});
			expect(JSON.stringify(entry?.codes)).toContain('127.0.0.2');
		});

		it('address.tlsVersions: tls10 speaks TLS 1.0 only, the healthy listener 1.2 and 1.3', () => {
			const report = parse(validated);
			expect(find(report, 'tls10.test').mx[0]!.addresses[0]!.tlsVersions).toEqual({TLSv1: true, 'TLSv1.1': false, 'TLSv1.2': false, 'TLSv1.3': false});
			expect(find(report, 'sts-good.test').mx[0]!.addresses[0]!.tlsVersions).toEqual({TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true});
		});

		it('domain.policy: the record, the policy and the fetch as seen', () => {
			const report = parse(validated);
			expect(find(report, 'sts-good.test').policy).toMatchObject({
				mtaSts: {record: {id: '2026120101'}, policy: {mode: 'enforce', maxAge: 604800, mx: ['mx.good.test']}, fetch: {status: 200}},
				tlsRpt: {record: 'v=TLSRPTv1; rua=mailto:tlsrpt@sts-good.test', rua: ['mailto:tlsrpt@sts-good.test']},
			});
			expect(find(report, 'sts-testing.test').policy?.mtaSts.policy).toMatchObject({mode: 'testing'});
			expect(find(report, 'sts-wildcard.test').policy?.mtaSts.policy).toMatchObject({mx: ['*.wild.test']});
			// The redirect is reported, never followed (its target is a valid policy).
			expect(find(report, 'sts-redirect.test').policy?.mtaSts).toMatchObject({policy: null, fetch: {status: 301}});
			expect(find(report, 'sts-ctype.test').policy?.mtaSts.fetch?.contentType).toMatch(/^text\/html/);
			expect(find(report, 'tlsrpt-bad.test').policy?.mtaSts.record).toBeNull();
		});
	});

	describe('through the non-validating resolver (dnsmasq)', () => {
		it('says once, at run level, that the resolver does not validate', () => {
			const report = parse(forwarded);
			expect(report.findings.map(finding => finding.id).sort()).toEqual(['dnsbl-unusable', 'dnssec-resolver-not-validating']);
		});

		for (const name of DOMAINS) {
			it(`${name}: no DANE verdict, the rest as through Unbound`, () => {
				const expected = throughForwarder(name);
				const report = parse(forwarded);
				const domain = find(report, name);
				expect(idsOf(domain, report)).toEqual(unique(expected.ids));
				const mx = domain.mx[0]!;
				expect(mx.dnssec).toBe('unknown');
				expect(mx.addresses).toHaveLength(1);
				expect(mx.addresses[0]!.delivery).toMatchObject(expected.delivery!);
			});
		}
	});
});
