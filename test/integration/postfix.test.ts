import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest';
import {startDnsServer, reverseName} from '../../source/peers/dns-server.js';
import type {DnsServer, Zone} from '../../source/peers/dns-server.js';
import type {AddressReport, DomainReport, Report} from '../../source/core/run/report-model.js';
import {isTerminalSafe} from '../../source/core/sanitize.js';
import {runCli} from '../helpers/run-cli.js';
import {HEALTHY_EXTRA_NAMES} from '../peers/postfix.js';

const postfix = inject('postfix');
const missing = inject('postfixMissing');

function zoneFor(peer: NonNullable<typeof postfix>): Zone {
	const {healthy, plain, relay, expired, mismatch, leafOnly} = peer.listeners;
	const zone: Zone = {
		'good.test': {MX: [[10, healthy.name]]},
		'plain.test': {MX: [[10, plain.name]]},
		'relay.test': {MX: [[10, relay.name]]},
		'expired.test': {MX: [[10, expired.name]]},
		'mismatch.test': {MX: [[10, 'mx.mismatch.test']]},
		'leafonly.test': {MX: [[10, leafOnly.name]]},
		'multi.test': {MX: [[20, plain.name], [10, healthy.name]]},
		'null.test': {MX: [[0, '.']]},
		'implicit.test': {A: [healthy.ip]},
		'cname.test': {MX: [[10, 'alias.cname.test']]},
		'alias.cname.test': {CNAME: healthy.name},
		'dangling.test': {MX: [[10, 'nowhere.dangling.test']]},
		'literal.test': {MX: [[10, healthy.ip]]},
		'servfail.test': {rcode: 'SERVFAIL'},
		'mx.mismatch.test': {A: [mismatch.ip]},
		[reverseName(healthy.ip)]: {PTR: [healthy.name]},
		[reverseName(relay.ip)]: {PTR: ['elsewhere.test']},
	};
	for (const listener of [healthy, plain, relay, expired, leafOnly]) {
		zone[listener.name] = {A: [listener.ip]};
	}

	return zone;
}

function domain(report: Report, name: string): DomainReport {
	const found = report.domains.find(item => item.domain === name);
	expect(found, name).toBeDefined();
	return found!;
}

function firstAddress(report: Report, name: string): AddressReport {
	const address = domain(report, name).mx[0]?.addresses[0];
	expect(address, name).toBeDefined();
	return address!;
}

const ids = (items: Array<{id: string}>): string[] => items.map(item => item.id);
/** A domain's own finding ids: the run's (repeated in every domain's list) aside. */
const ownIds = (report: Report, items: Array<{id: string}>): string[] => ids(items).filter(id => !ids(report.findings).includes(id));

describe.skipIf(!postfix)(`mxdash --json against a real Postfix${missing ? ` (${missing})` : ''}`, () => {
	let dns: DnsServer;
	let report: Report;
	let exitCode: number;
	let common: string[];

	beforeAll(async () => {
		dns = await startDnsServer(zoneFor(postfix!));
		common = ['--resolver', dns.address, '--ca', postfix!.caFile, '--ehlo-name', 'probe.mxdash.test', '--timeout', '10'];
		const run = await runCli(['--json', ...common, 'good.test', 'plain.test', 'relay.test', 'expired.test', 'mismatch.test', 'leafonly.test', 'multi.test', 'null.test', 'implicit.test', 'cname.test', 'dangling.test', 'literal.test', 'nothere.test', 'servfail.test', 'bücher.test.']);
		expect(run.stderr).toBe('');
		report = JSON.parse(run.stdout) as Report;
		exitCode = run.code;
	}, 120_000);

	afterAll(async () => {
		await dns?.close();
	});

	it('follows the JSON contract and the exit code of the worst finding', () => {
		expect(report).toMatchObject({tool: 'mxdash', schema: 1, summary: {status: 'critical', exitCode: 2, domains: 15}});
		expect(exitCode).toBe(2);
		expect(Date.parse(report.finishedAt)).toBeGreaterThanOrEqual(Date.parse(report.startedAt));
		const total = report.summary.findings;
		expect(total.critical).toBeGreaterThan(0);
	});

	it('a healthy Postfix: every stage ok, TLS inspected, chain from the test CA, relay closed', () => {
		const good = domain(report, 'good.test');
		const address = firstAddress(report, 'good.test');
		expect(address.stages.connect.status).toBe('ok');
		for (const stage of ['connect', 'banner', 'ehlo', 'starttls', 'tls', 'ehloTls', 'relay', 'quit'] as const) {
			expect(address.stages[stage].status, stage).toBe('ok');
			expect(address.stages[stage].ms, stage).toBeGreaterThanOrEqual(0);
		}

		expect(address.banner).toMatchObject({code: 220, hostname: postfix!.listeners.healthy.name, software: 'Postfix'});
		expect(address.ehlo?.extensions.map(extension => extension.keyword)).toContain('STARTTLS');
		expect(address.ehlo?.extensionsAfterTls?.map(extension => extension.keyword)).not.toContain('STARTTLS');
		expect(address.tls).toMatchObject({authorized: true, hostnameMatch: true, chainIncomplete: false});
		expect(address.tls?.version).toMatch(/^TLSv1\.[23]$/);
		const [leaf, intermediate] = address.tls!.chain;
		// The extra names are the policy layer's MX hosts (test/peers/policy.ts).
		const san = [postfix!.listeners.healthy.name, ...HEALTHY_EXTRA_NAMES].map(name => `DNS:${name}`);
		expect(leaf).toMatchObject({selfSigned: false, ca: false, san});
		expect(leaf!.daysLeft).toBeGreaterThan(21);
		expect(leaf!.fingerprint256).toMatch(/^([\dA-F]{2}:){31}[\dA-F]{2}$/);
		expect(leaf!.signatureAlgorithm).toMatch(/SHA256/i);
		expect(intermediate?.ca).toBe(true);
		expect(address.relay).toMatchObject({tested: true, open: false});
		expect(address.relay.attempts[0]?.code).toBeGreaterThanOrEqual(500);
		expect(address.ptr).toBe(postfix!.listeners.healthy.name);
		expect(address.fcrdns).toBe(true);
		expect(good.status).toBe('ok');
		expect(ids(address.findings).filter(id => !['banner-software-disclosed', 'tls-no-1.3'].includes(id))).toEqual([]);
		const directions = new Set(address.transcript.map(line => line.dir));
		expect(directions).toEqual(new Set(['client', 'server', 'info']));
		expect(address.transcript.some(line => line.dir === 'client' && line.text === 'EHLO probe.mxdash.test')).toBe(true);
		expect(address.transcript.some(line => line.text === 'DATA')).toBe(false);
		expect(address.transcript.at(-1)?.t).toBeGreaterThan(0);
	});

	it('no STARTTLS, open relay, expired, mismatched and incomplete chains', () => {
		expect(ids(firstAddress(report, 'plain.test').findings)).toContain('starttls-missing');
		const relay = firstAddress(report, 'relay.test');
		expect(ids(relay.findings)).toContain('open-relay');
		expect(relay.relay.attempts[0]).toMatchObject({accepted: true, code: 250});
		expect(ids(relay.findings)).toContain('ptr-mismatch');
		const expired = firstAddress(report, 'expired.test');
		expect(ids(expired.findings)).toContain('cert-expired');
		expect(expired.tls!.chain[0]!.daysLeft).toBeLessThan(0);
		expect(ids(firstAddress(report, 'mismatch.test').findings)).toContain('cert-hostname-mismatch');
		const leafOnly = firstAddress(report, 'leafonly.test');
		expect(ids(leafOnly.findings)).toContain('cert-chain-incomplete');
		expect(leafOnly.tls?.chain).toHaveLength(1);
		expect(ids(firstAddress(report, 'good.test').findings)).not.toContain('ptr-missing');
		expect(ids(firstAddress(report, 'plain.test').findings)).toContain('ptr-missing');
	});

	it('DNS cases: null MX, implicit MX, CNAME, dangling, IP literal, NXDOMAIN, SERVFAIL, IDN', () => {
		expect(ownIds(report, domain(report, 'null.test').findings)).toEqual(['mx-null']);
		expect(domain(report, 'null.test').mx).toEqual([]);
		const implicit = domain(report, 'implicit.test');
		expect(ids(implicit.findings)).toContain('mx-implicit');
		expect(implicit.mx[0]).toMatchObject({exchange: 'implicit.test', implicit: true});
		expect(implicit.mx[0]?.addresses[0]?.stages.banner.status).toBe('ok');
		const cname = domain(report, 'cname.test');
		expect(ids(cname.mx[0]!.findings)).toContain('mx-cname');
		expect(cname.mx[0]?.addresses[0]?.ip).toBe(postfix!.listeners.healthy.ip);
		expect(ids(cname.mx[0]!.addresses[0]!.findings)).toContain('cert-hostname-mismatch');
		expect(ids(domain(report, 'dangling.test').mx[0]!.findings)).toEqual(['mx-unresolvable']);
		expect(ids(domain(report, 'literal.test').mx[0]!.findings)).toContain('mx-ip-literal');
		expect(ownIds(report, domain(report, 'nothere.test').findings)).toEqual(['dns-nxdomain']);
		const servfail = domain(report, 'servfail.test');
		expect(ownIds(report, servfail.findings)).toEqual(['dns-error']);
		expect(servfail.findings[0]?.message).toContain('SERVFAIL');
		expect(servfail.mx).toEqual([]);
		expect(domain(report, 'xn--bcher-kva.test').input).toBe('bücher.test.');
	});

	it('probes an MX host at an address once per round, sharing the result between domains', () => {
		const multi = domain(report, 'multi.test');
		expect(multi.mx.map(mx => mx.exchange)).toEqual([postfix!.listeners.healthy.name, postfix!.listeners.plain.name]);
		expect(multi.mx[0]!.addresses[0]!.startedAt).toBe(firstAddress(report, 'good.test').startedAt);
		const healthyStarts = report.domains.flatMap(item => item.mx).filter(mx => mx.exchange === postfix!.listeners.healthy.name).map(mx => mx.addresses[0]!.startedAt);
		expect(new Set(healthyStarts).size).toBe(1);
	});

	it('exit codes per verdict, and --relay thorough against the open relay', async () => {
		const good = await runCli([...common, 'good.test']);
		expect(good.code).toBe(0);
		expect(isTerminalSafe(good.stdout.replaceAll('\n', ''))).toBe(true);
		expect(good.stdout).toMatch(/^good\.test {2}OK/m);
		const warning = await runCli([...common, 'mismatch.test']);
		expect(warning.code).toBe(1);
		const thorough = await runCli(['--json', ...common, '--relay', 'thorough', 'relay.test']);
		const attempts = (JSON.parse(thorough.stdout) as Report).domains[0]!.mx[0]!.addresses[0]!.relay.attempts;
		expect(attempts).toHaveLength(16);
		expect(attempts.filter(attempt => attempt.accepted).length).toBeGreaterThan(0);
		const skipped = await runCli(['--json', ...common, '--no-relay', 'relay.test']);
		const address = (JSON.parse(skipped.stdout) as Report).domains[0]!.mx[0]!.addresses[0]!;
		expect(address.stages.relay.status).toBe('skipped');
		expect(address.relay.tested).toBe(false);
	}, 60_000);
});
