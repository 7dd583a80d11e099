import {bySeverity, countBySeverity, worst} from '../checks/index.js';
import type {Finding, MxHost, ProbeResult, Severity, Stage, StageName} from '../types.js';
import {stageNames} from '../types.js';
import type {Knowledge, Status} from './knowledge.js';
import {statusOf} from './knowledge.js';
import {parseTlsRpt} from '../policy/tlsrpt.js';
import {stsRecords} from '../policy/mta-sts.js';
import {stsProblem, stsState} from '../policy/sts-state.js';
import type {DaneResult, Delivery, DnssecStatus, DomainPolicy, PolicyFetch, TlsaRecord, TlsVersionName} from '../policy/types.js';

export type {Status} from './knowledge.js';
export {probeKey} from './knowledge.js';

/** A stage as reported: the engine's facts plus the verdict of the findings that judge it. */
export type StageReport = Stage & {status: 'pending' | 'running' | 'ok' | 'warning' | 'critical' | 'skipped'};

export type AddressReport = Omit<ProbeResult, 'target' | 'startedAt' | 'stages'> & {
	ip: string;
	port: number;
	startedAt: string;
	stages: Record<StageName, StageReport>;
	ptr: string | null;
	ptrNames: string[];
	fcrdns: boolean | null;
	status: Status;
	findings: Finding[];
	/** The policy layer (absent with --no-policy, or before its facts are in). */
	dane?: Omit<DaneResult, 'records'> & {records?: DaneResult['records']};
	dnsbl?: Array<{zone: string; listed: boolean; codes: string[]; meanings?: string[]; text?: string; error?: string}>;
	tlsVersions?: Partial<Record<TlsVersionName, boolean>>;
	delivery?: Delivery;
};

export type MxReport = Omit<MxHost, 'lookupFailures' | 'cnameLoop' | 'addresses'> & {
	findings: Finding[];
	dnssec?: DnssecStatus;
	tlsa?: TlsaRecord[];
	tlsaName?: string;
	addresses: AddressReport[];
};

export type PolicyReport = {
	mtaSts: {record: {raw: string; id: string} | null; records: string[]; error?: string; policy: {mode?: string; maxAge?: number; mx: string[]} | null; fetch: PolicyFetch | null};
	tlsRpt: {record: string | null; rua: string[]; error?: string};
};

/** `direct`: the one server was given with --server; no MX query was made. */
export type DomainReport = {domain: string; input: string; direct?: true; status: Status; findings: Finding[]; policy?: PolicyReport; mx: MxReport[]};

export type Report = {
	tool: 'mxdash';
	version: string;
	schema: 1;
	startedAt: string;
	finishedAt: string;
	summary: {
		status: Status;
		exitCode: 0 | 1 | 2 | 3;
		domains: number;
		hosts: number;
		addresses: number;
		findings: Record<Severity, number>;
	};
	/** Findings about the run itself (egress-blocked). */
	findings: Finding[];
	domains: DomainReport[];
};

/** The status a stage is reported with: skipped, or the worst severity among the findings of that stage. */
export function stageStatus(name: StageName, stage: Stage, findings: readonly Finding[]): StageReport['status'] {
	if (stage.state !== 'done') {
		return stage.state;
	}

	const severity = worst(findings.filter(item => item.stage === name));
	return severity === 'warning' || severity === 'critical' ? severity : 'ok';
}

/** Every stage of a session with the status the report gives it. */
export function reportStages(stages: Readonly<Record<StageName, Stage>>, findings: readonly Finding[]): Record<StageName, StageReport> {
	return Object.fromEntries(stageNames.map(name => [name, {...stages[name], status: stageStatus(name, stages[name], findings)}])) as Record<StageName, StageReport>;
}

export type ReportMeta = {version: string; domains: readonly string[]; startedAt: Date; finishedAt: Date};

/** Everything the report says before its domains (`domains` is its last key). */
export type ReportHead = Omit<Report, 'domains'>;

/**
 * An address entry of a domain's report, built when asked for; its findings alone cost less.
 * `depends`: everything its entry is made of, so that the same values (by identity) under
 * another domain make the same entry (a writer may reuse its text).
 */
export type AddressPart = {key: string; depends: readonly unknown[]; findings(): Finding[]; report(): AddressReport};

/**
 * A domain's report whose address entries are built one at a time when asked for: a shared
 * address is repeated under every domain that uses it (~20 KB each), so a writer that takes
 * each entry and lets it go holds one, not hundreds of MB.
 */
export type DomainParts = Omit<DomainReport, 'mx'> & {mx: Array<Omit<MxReport, 'addresses'> & {addresses: AddressPart[]}>};

/** Everything the engine knows now, in the JSON contract of docs/checks.md. */
export function buildReport(knowledge: Knowledge, meta: ReportMeta): Report {
	const parts = [...domainParts(knowledge, meta.domains)];
	const domains = parts.map(domain => ({...domain, mx: domain.mx.map(mx => ({...mx, addresses: mx.addresses.map(address => address.report())}))}));
	return {...reportHead(knowledge, meta, parts), domains};
}

/** Each domain's parts in order, built when asked for. */
export function* domainParts(knowledge: Knowledge, domains: readonly string[]): Generator<DomainParts> {
	for (const domain of domains) {
		const parts = partsOf(knowledge, domain);
		if (parts) {
			yield parts;
		}
	}
}

/** The report but its domains; the summary is drawn from `domains`, read once (a fresh domainParts keeps none of them). */
export function reportHead(knowledge: Knowledge, meta: ReportMeta, domains: Iterable<DomainParts>): ReportHead {
	const run = knowledge.runFindings;
	const counts = countBySeverity(run);
	// Findings of a domain whose resolver never answered say nothing of its servers: such a
	// domain makes the run UNKNOWN unless a domain that was judged is critical.
	const judged = countBySeverity(run);
	let unknown = false;
	let count = 0;
	let addresses = 0;
	const hosts = new Set<string>();
	for (const domain of domains) {
		const findings = [...domain.findings, ...domain.mx.flatMap(mx => [...mx.findings, ...mx.addresses.flatMap(address => address.findings())])];
		countBySeverity(findings.filter(item => !run.includes(item)), counts);
		if (domain.status === 'unknown') {
			unknown = true;
		} else {
			countBySeverity(findings, judged);
		}

		count++;
		for (const mx of domain.mx) {
			hosts.add(mx.exchange);
			addresses += mx.addresses.length;
		}
	}

	const status: Status = judged.critical > 0 ? 'critical' : (unknown ? 'unknown' : (judged.warning > 0 ? 'warning' : 'ok'));
	return {
		tool: 'mxdash',
		version: meta.version,
		schema: 1,
		startedAt: meta.startedAt.toISOString(),
		finishedAt: meta.finishedAt.toISOString(),
		summary: {
			status,
			exitCode: ({ok: 0, warning: 1, critical: 2, unknown: 3} as const)[status],
			domains: count,
			hosts: hosts.size,
			addresses,
			findings: counts,
		},
		findings: run,
	};
}

function partsOf(knowledge: Knowledge, domain: string): DomainParts | undefined {
	const plan = knowledge.plan(domain);
	const verdict = knowledge.domainVerdict(domain);
	if (!plan || !verdict) {
		return undefined;
	}

	const mx = plan.mx.map((host, index): DomainParts['mx'][number] => {
		const policy = knowledge.mxPolicy(host.exchange);
		const validates = knowledge.validation?.validates !== false;
		return {
			exchange: host.exchange,
			preference: host.preference,
			implicit: host.implicit,
			ipLiteral: host.ipLiteral,
			...(host.cname ? {cname: host.cname} : {}),
			...(host.port === undefined ? {} : {port: host.port}),
			findings: verdict.mx[index] ?? [],
			// A resolver that does not validate says nothing of DNSSEC: `unknown`, as the contract has it.
			...(policy ? {dnssec: validates ? policy.dnssec : 'unknown', tlsa: policy.tlsa, tlsaName: policy.tlsaName} : {}),
			addresses: host.addresses.flatMap(ip => {
				const key = knowledge.keyOf(host.exchange, ip, host.port);
				return addressPart(knowledge, key, verdict.addresses[key]);
			}),
		};
	});
	const policy = knowledge.policy(domain);
	return {
		domain,
		input: plan.input,
		...(plan.query.answer === 'direct' ? {direct: true} : {}),
		status: verdict.status ?? 'unknown',
		findings: [...knowledge.runFindings, ...verdict.findings].sort(bySeverity),
		...(policy ? {policy: policyReport(policy)} : {}),
		mx,
	};
}

/** The domain's MTA-STS and TLS-RPT as the contract has them: the record, the fetch and the parsed policy. */
export function policyReport(policy: DomainPolicy): PolicyReport {
	const state = stsState(policy.mtaSts);
	const {txt, fetch} = policy.mtaSts;
	const records = 'failure' in txt ? [] : stsRecords(txt.records);
	const parsed = state.kind === 'ok' || state.kind === 'policy-invalid' ? state.policy : null;
	const stsError = stsProblem(state);
	const rpt = 'failure' in policy.tlsRpt.txt ? undefined : parseTlsRpt(policy.tlsRpt.txt.records);
	const rptError = rpt?.multiple ? 'several v=TLSRPTv1 records' : (rpt && rpt.errors.length > 0 ? rpt.errors.join('; ') : undefined);
	return {
		mtaSts: {
			record: 'id' in state && state.id ? {raw: state.raw, id: state.id} : null,
			records,
			...(stsError ? {error: stsError} : {}),
			policy: parsed ? {...(parsed.mode ? {mode: parsed.mode} : {}), ...(parsed.maxAge === undefined ? {} : {maxAge: parsed.maxAge}), mx: parsed.mx} : null,
			fetch: fetch ?? null,
		},
		tlsRpt: {record: rpt?.record ?? null, rua: rpt?.rua ?? [], ...(rptError ? {error: rptError} : {})},
	};
}

function addressPart(knowledge: Knowledge, key: string, policy: {findings: Finding[]; delivery?: Delivery} | undefined): AddressPart[] {
	const verdict = knowledge.verdict(key);
	if (!knowledge.session(key) || !verdict) {
		return [];
	}

	const findings = (): Finding[] => [...verdict.findings, ...(policy?.findings ?? [])].sort(bySeverity);
	// What addressReport reads; a delivery is made per domain, so it counts by its text.
	const session = knowledge.session(key)!;
	const depends = [session, verdict, knowledge.ptr(session.target.ip), knowledge.dnsbl(session.target.ip), knowledge.tlsVersions(key), policy?.delivery && JSON.stringify(policy.delivery), ...(policy?.findings ?? [])];
	return [{key, depends, findings, report: () => addressReport(knowledge, key, policy, findings())}];
}

function addressReport(knowledge: Knowledge, key: string, policy: {findings: Finding[]; delivery?: Delivery} | undefined, findings: Finding[]): AddressReport {
	const {target, stages, ...rest} = knowledge.session(key)!;
	const verdict = knowledge.verdict(key)!;
	const ptr = knowledge.ptr(target.ip);
	const dnsbl = knowledge.dnsbl(target.ip);
	const scan = knowledge.tlsVersions(key);
	return {
		ip: target.ip,
		port: target.port,
		// The transcript unpacked where it stands among the session's keys.
		...rest,
		transcript: rest.transcript.lines(),
		stages: reportStages(stages, findings),
		ptr: ptr?.ptr ?? null,
		ptrNames: ptr?.ptrNames ?? [],
		fcrdns: ptr?.fcrdns ?? null,
		status: verdict.status === 'unknown' ? 'unknown' : statusOf(findings),
		findings,
		...(verdict.dane ? {dane: verdict.dane} : {}),
		...(dnsbl ? {dnsbl} : {}),
		...(scan ? {tlsVersions: scan.accepted} : {}),
		...(policy?.delivery ? {delivery: policy.delivery} : {}),
	};
}
