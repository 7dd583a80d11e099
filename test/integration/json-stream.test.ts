// The --json path (headless): a real round on loopback, its report written entry by entry, is
// byte for byte the whole report Monitor.report() gives.
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {defaultLimits} from '../../source/core/limits.js';
import {Monitor} from '../../source/core/run/monitor.js';
import {domainParts, reportHead} from '../../source/core/run/report-model.js';
import {startDnsServer} from '../../source/peers/dns-server.js';
import type {DnsServer} from '../../source/peers/dns-server.js';
import {startSmtpServer} from '../../source/peers/smtp-server.js';
import type {SmtpServer} from '../../source/peers/smtp-server.js';
import {jsonReport, jsonReportChunks} from '../../source/report/json.js';

const ips = ['127.0.31.1', '127.0.31.2', '127.0.31.3'];
let dns: DnsServer;
const servers: SmtpServer[] = [];

beforeAll(async () => {
	// Two domains share a provider's MX host (two addresses); one has a host of its own; one has no MX at all.
	dns = await startDnsServer({
		'a.test': {MX: [[10, 'mx.provider.test']]},
		'b.test': {MX: [[10, 'mx.provider.test'], [20, 'mx.b.test']]},
		'mx.provider.test': {A: [ips[0]!, ips[1]!]},
		'mx.b.test': {A: [ips[2]!]},
	}, '127.0.31.53');
	for (const ip of ips) {
		servers.push(await startSmtpServer({hostname: `mx-${ip}.test`, localDomains: ['a.test', 'b.test']}, ip, 0));
	}
});

afterAll(async () => {
	await Promise.all([dns.close(), ...servers.map(async server => server.close())]);
});

describe('the JSON report written entry by entry', () => {
	it('is byte for byte the report of the same round', async () => {
		const options = {version: 't', resolvers: [dns.address], port: 25, ports: Object.fromEntries(ips.map((ip, index) => [ip, servers[index]!.port])), ehloName: 'probe.example.net', relay: 'basic' as const, mailFrom: 'a@example.org', rcptTo: 'b@example.net', concurrency: 4, warnDays: 21, limits: defaultLimits, policy: false};
		const monitor = new Monitor(options);
		// Inputs as typed (upper case): the report names each by its domain.
		const inputs = ['A.TEST', 'b.test', 'none.test'];
		await monitor.round(inputs, {signal: AbortSignal.timeout(30_000)});
		const meta = monitor.meta();
		const head = reportHead(monitor.knowledge, meta, domainParts(monitor.knowledge, meta.domains));
		const whole = jsonReport(monitor.report());
		expect([...jsonReportChunks(head, domainParts(monitor.knowledge, meta.domains))].join('')).toBe(whole);
		const report = JSON.parse(whole) as {summary: {addresses: number}; domains: Array<{domain: string}>};
		expect(report.domains.map(domain => domain.domain)).toEqual(['a.test', 'b.test', 'none.test']);
		expect(report.summary.addresses).toBe(5);
	});
});
