import type {MonitorEvent} from '../../source/core/run/monitor.js';
import type {Report} from '../../source/core/run/report-model.js';
import {probeKey} from '../../source/core/run/report-model.js';
import type {CertInfo, Finding, ProbeResult, Stage, StageName, TranscriptLine} from '../../source/core/types.js';
import {stageNames} from '../../source/core/types.js';

export type FakeHost = {exchange: string; ip: string; banner?: string; open?: boolean; findings?: Finding[]};

const leaf: CertInfo = {
	subject: 'CN=mx.test', issuer: 'CN=Test CA', serialNumber: '01', validFrom: '2025-01-01T00:00:00.000Z', validTo: '2099-01-01T00:00:00.000Z', daysLeft: 400,
	san: ['DNS:mx.test'], fingerprint256: 'AB:CD', keyType: 'ec', keyBits: 256, signatureAlgorithm: 'ecdsa-with-SHA256', selfSigned: false, ca: false,
};
const root: CertInfo = {...leaf, subject: 'CN=Test CA', issuer: 'CN=Test CA', fingerprint256: 'EF:01', selfSigned: true, ca: true};

function result(host: FakeHost): ProbeResult {
	const stages = Object.fromEntries(stageNames.map((name, index) => [name, {status: 'ok', startedAt: index * 10, ms: 9}])) as Record<StageName, Stage>;
	if (host.open) {
		stages.relay = {status: 'critical', startedAt: 60, ms: 9, detail: 'OPEN'};
	}

	const banner = host.banner ?? `${host.exchange} ESMTP`;
	const transcript: TranscriptLine[] = [
		{t: 1, dir: 'info', text: `connected to ${host.ip} port 25`},
		{t: 2, dir: 'server', text: `220 ${banner}`},
		{t: 3, dir: 'client', text: 'EHLO probe.mxdash.test'},
		{t: 4, dir: 'server', text: '250-mx.test'},
		{t: 4, dir: 'server', text: '250 STARTTLS'},
		{t: 5, dir: 'client', text: 'STARTTLS'},
		{t: 6, dir: 'server', text: '220 go ahead'},
		{t: 20, dir: 'client', text: 'EHLO probe.mxdash.test', tls: true},
		{t: 21, dir: 'server', text: '250 mx.test', tls: true},
	];
	return {
		target: {exchange: host.exchange, ip: host.ip, port: 25}, family: 4, startedAt: '2026-01-01T00:00:00.000Z', ms: 80, stages,
		banner: {code: 220, text: banner, delayMs: 1},
		ehlo: {greeting: 'EHLO', hostname: 'mx.test', extensions: [{keyword: 'STARTTLS', params: []}], extensionsAfterTls: [{keyword: 'SIZE', params: ['1000']}]},
		tls: {version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', authorized: true, hostnameMatch: true, chain: [leaf, root], chainIncomplete: false},
		relay: {tested: true, open: Boolean(host.open), attempts: [{label: 'basic', mailFrom: 'a@example.org', rcptTo: 'b@example.net', code: host.open ? 250 : 554, accepted: Boolean(host.open)}]},
		transcript,
	};
}

/** The events of one finished round over `domains`, as the engine would emit them. */
export function roundEvents(domains: Record<string, FakeHost[]>, finishedAt = '2026-01-01T00:01:00.000Z'): MonitorEvent[] {
	const events: MonitorEvent[] = [{type: 'round-start', domains: Object.keys(domains), at: '2026-01-01T00:00:00.000Z'}];
	const report: Report = {
		tool: 'mxdash', version: 'test', schema: 1, startedAt: '2026-01-01T00:00:00.000Z', finishedAt, findings: [], domains: [],
		summary: {status: 'ok', exitCode: 0, domains: 0, hosts: 0, addresses: 0, findings: {info: 0, warning: 0, critical: 0}},
	};
	for (const [domain, hosts] of Object.entries(domains)) {
		events.push({type: 'plan', plan: {domain, input: domain, findings: [], mx: hosts.map((host, index) => ({exchange: host.exchange, preference: (index + 1) * 10, implicit: false, ipLiteral: false, addresses: [host.ip], findings: []}))}});
		const mx = [];
		for (const host of hosts) {
			const key = probeKey(host.exchange, host.ip, 25);
			const probe = result(host);
			events.push({type: 'queued', key, target: probe.target});
			for (const line of probe.transcript) {
				events.push({type: 'probe', key, event: {type: 'line', line}});
			}

			events.push({type: 'probe', key, event: {type: 'tls', info: probe.tls!}}, {type: 'probe', key, event: {type: 'done', result: probe}});
			const findings = host.findings ?? (host.open ? [{id: 'open-relay', severity: 'critical' as const, message: 'The server accepted 1 of 1 relay attempt(s).', advice: 'Close the relay now.'}] : []);
			const {target, ...rest} = probe;
			mx.push({exchange: host.exchange, preference: 10, implicit: false, ipLiteral: false, findings: [], addresses: [{...rest, ip: target.ip, port: 25, ptr: null, ptrNames: [], fcrdns: null, status: host.open ? 'critical' as const : 'ok' as const, findings}]});
		}

		report.domains.push({domain, input: domain, status: hosts.some(host => host.open) ? 'critical' : 'ok', findings: [], mx});
	}

	events.push({type: 'round-done', report});
	return events;
}
