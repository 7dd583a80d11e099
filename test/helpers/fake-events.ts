import type {DaneResult, Delivery, DnsblAnswer, DomainPolicy, MxPolicy, ResolverValidation, Verdict} from '../../source/core/policy/types.js';
import type {MonitorEvent} from '../../source/core/run/monitor.js';
import {Knowledge, probeKey} from '../../source/core/run/knowledge.js';
import type {CertInfo, Finding, MxPlan, ProbeResult, Stage, StageName, TranscriptLine} from '../../source/core/types.js';
import {stageNames} from '../../source/core/types.js';

/** `extensions`: EHLO keywords offered before and after TLS (default: STARTTLS before, SIZE after). */
export type FakeHost = {
	exchange: string; ip: string; banner?: string; open?: boolean; fingerprint?: string; validTo?: string; tlsVersion?: string; extensions?: string[];
	// The policy layer (the engine's side is written elsewhere: these are its events as they will come).
	/** The domain's verdict for this address: what each sender would do, and its policy findings. */
	delivery?: Delivery;
	policyFindings?: Finding[];
	dane?: DaneResult;
	dnsbl?: DnsblAnswer[];
	/** The MX host's TLSA set (a `mx-policy` event for its exchange). */
	mxPolicy?: Omit<MxPolicy, 'exchange'>;
	/** The certificates as sent (default: none, as before the policy layer). */
	sent?: CertInfo[];
};

/** The policy-layer facts of a round that are not per host. */
export type FakePolicies = {domains?: Record<string, DomainPolicy>; validation?: ResolverValidation};

/**
 * A finding of the policy layer's checks (mta-sts, dane, …): their ids join the catalogue with
 * the lead's checks, so until then they are typed here, once.
 */
export function policyFinding(id: string, check: string, message: string): Finding {
	return {id, check, severity: 'critical', message, advice: 'see the Policy pane'} as unknown as Finding;
}

/** A delivery verdict from three verdicts, each reason naming its sender. */
export function delivery(opportunistic: 'deliver' | 'fail', mtaSts: Verdict, dane: Verdict): Delivery {
	return {opportunistic, mtaSts, dane, reasons: {opportunistic: `opportunistic ${opportunistic}s`, mtaSts: `MTA-STS says ${mtaSts}`, dane: `DANE says ${dane}`}};
}

/** A domain's MTA-STS and TLS-RPT facts: a record with `id` and a fetched policy `body`. */
export function domainPolicy(domain: string, id: string, body: string): DomainPolicy {
	return {
		mtaSts: {txt: {records: [`v=STSv1; id=${id}`]}, fetch: {url: `https://mta-sts.${domain}/.well-known/mta-sts.txt`, ip: '127.0.0.1', ms: 12, status: 200, contentType: 'text/plain', body}},
		tlsRpt: {txt: {records: [`v=TLSRPTv1; rua=mailto:tls@${domain}`]}},
	};
}

const leaf: CertInfo = {
	subject: 'CN=mx.test', issuer: 'CN=Test CA', serialNumber: '01', validFrom: '2025-01-01T00:00:00.000Z', validTo: '2099-01-01T00:00:00.000Z', daysLeft: 400,
	san: ['DNS:mx.test'], fingerprint256: 'AB:CD', keyType: 'ec', keyBits: 256, signatureAlgorithm: 'ecdsa-with-SHA256', selfSigned: false, ca: false,
};
const root: CertInfo = {...leaf, subject: 'CN=Test CA', issuer: 'CN=Test CA', fingerprint256: 'EF:01', selfSigned: true, ca: true};

function result(host: FakeHost, startedAt: string): ProbeResult {
	const stages = Object.fromEntries(stageNames.map((name, index) => [name, {state: 'done', outcome: 'ok', startedAt: index * 10, ms: 9}])) as Record<StageName, Stage>;
	if (host.open) {
		stages.relay = {...stages.relay, detail: 'OPEN: 1 of 1 accepted'};
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
		target: {exchange: host.exchange, ip: host.ip, port: 25}, family: 4, startedAt, ms: 80, stages,
		banner: {code: 220, text: banner, delayMs: 1},
		ehlo: host.extensions
			? {greeting: 'EHLO', hostname: 'mx.test', extensions: host.extensions.map(keyword => ({keyword, params: []})), extensionsAfterTls: host.extensions.filter(keyword => keyword !== 'STARTTLS').map(keyword => ({keyword, params: []}))}
			: {greeting: 'EHLO', hostname: 'mx.test', extensions: [{keyword: 'STARTTLS', params: []}], extensionsAfterTls: [{keyword: 'SIZE', params: ['1000']}]},
		tls: {version: host.tlsVersion ?? 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', authorized: true, hostnameMatch: true, chain: [{...leaf, ...(host.fingerprint ? {fingerprint256: host.fingerprint} : {}), ...(host.validTo ? {validTo: host.validTo} : {})}, root], chainIncomplete: false, ...(host.sent ? {sent: host.sent} : {})},
		relay: {tested: true, open: Boolean(host.open), attempts: [{label: 'basic', mailFrom: 'a@example.org', rcptTo: 'b@example.net', code: host.open ? 250 : 554, accepted: Boolean(host.open)}]},
		transcript,
	};
}

/** The events of one finished round over `domains`, as the engine would emit them, judged by the real registry. */
export function roundEvents(domains: Record<string, FakeHost[]>, finishedAt = '2026-01-01T00:01:00.000Z', policies: FakePolicies = {}): MonitorEvent[] {
	const events: MonitorEvent[] = [{type: 'round-start', domains: Object.keys(domains), at: '2026-01-01T00:00:00.000Z'}];
	if (policies.validation) {
		events.push({type: 'validation', validation: policies.validation});
	}

	const knowledge = new Knowledge({warnDays: 21, bannerSlowMs: 5000, now: () => Date.parse(finishedAt)}, () => 25);
	for (const [domain, hosts] of Object.entries(domains)) {
		const plan: MxPlan = {domain, input: domain, query: {answer: 'records', records: hosts.length, nullRecords: 0, hosts: hosts.length}, mx: hosts.map((host, index) => ({exchange: host.exchange, preference: (index + 1) * 10, implicit: false, ipLiteral: false, addresses: [host.ip]}))};
		knowledge.setPlan(plan);
		events.push({type: 'plan', plan});
		const policy = policies.domains?.[domain];
		if (policy) {
			events.push({type: 'policy', domain, policy});
		}

		for (const host of hosts) {
			const key = probeKey(host.exchange, host.ip, 25);
			const {transcript, ...probe} = result(host, finishedAt);
			if (host.mxPolicy) {
				events.push({type: 'mx-policy', exchange: host.exchange, policy: {exchange: host.exchange, ...host.mxPolicy}});
			}

			if (host.dnsbl) {
				events.push({type: 'dnsbl', ip: host.ip, answers: host.dnsbl});
			}

			events.push({type: 'queued', key, target: probe.target});
			for (const line of transcript) {
				events.push({type: 'probe', key, event: {type: 'line', line}});
			}

			events.push({type: 'probe', key, event: {type: 'tls', info: probe.tls!}}, {type: 'session', key, result: probe});
			const verdict = knowledge.setSession(key, {...probe, transcript});
			events.push({type: 'verdict', key, verdict: {...verdict, ...(host.dane ? {dane: host.dane} : {})}});
		}

		// The per-address policy verdicts the engine will add to the domain's verdict.
		const addresses = Object.fromEntries(hosts.filter(host => host.delivery || host.policyFindings).map(host => [probeKey(host.exchange, host.ip, 25), {findings: host.policyFindings ?? [], ...(host.delivery ? {delivery: host.delivery} : {})}]));
		events.push({type: 'domain', domain, verdict: {...knowledge.domainVerdict(domain)!, addresses}});
	}

	events.push({type: 'round-done', at: finishedAt});
	return events;
}
