import {bySeverity, countBySeverity, worst} from '../checks/index.js';
import type {Finding, MxHost, ProbeResult, Severity, Stage, StageName} from '../types.js';
import {stageNames} from '../types.js';
import type {Knowledge, Status} from './knowledge.js';

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
};

export type MxReport = Omit<MxHost, 'lookupFailures' | 'cnameLoop' | 'addresses'> & {findings: Finding[]; addresses: AddressReport[]};

/** `direct`: the one server was given with --server; no MX query was made. */
export type DomainReport = {domain: string; input: string; direct?: true; status: Status; findings: Finding[]; mx: MxReport[]};

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

/** Everything the engine knows now, in the JSON contract of docs/checks.md. */
export function buildReport(knowledge: Knowledge, meta: {version: string; domains: string[]; startedAt: Date; finishedAt: Date}): Report {
	const domains = meta.domains.flatMap(domain => {
		const report = domainReport(knowledge, domain);
		return report ? [report] : [];
	});
	const run = knowledge.runFindings;
	const counts = countBySeverity(run);
	for (const domain of domains) {
		countBySeverity(allFindings(domain).filter(item => !run.includes(item)), counts);
	}

	// Findings of a domain whose resolver never answered say nothing of its servers: such a
	// domain makes the run UNKNOWN unless a domain that was judged is critical.
	const judged = [...run, ...domains.filter(domain => domain.status !== 'unknown').flatMap(domain => allFindings(domain))];
	const unknown = domains.some(domain => domain.status === 'unknown');
	const severity = worst(judged);
	const status: Status = severity === 'critical' ? 'critical' : (unknown ? 'unknown' : (severity === 'warning' ? 'warning' : 'ok'));
	return {
		tool: 'mxdash',
		version: meta.version,
		schema: 1,
		startedAt: meta.startedAt.toISOString(),
		finishedAt: meta.finishedAt.toISOString(),
		summary: {
			status,
			exitCode: ({ok: 0, warning: 1, critical: 2, unknown: 3} as const)[status],
			domains: domains.length,
			hosts: new Set(domains.flatMap(domain => domain.mx.map(mx => mx.exchange))).size,
			addresses: domains.reduce((sum, domain) => sum + domain.mx.reduce((count, mx) => count + mx.addresses.length, 0), 0),
			findings: counts,
		},
		findings: run,
		domains,
	};
}

function domainReport(knowledge: Knowledge, domain: string): DomainReport | undefined {
	const plan = knowledge.plan(domain);
	const verdict = knowledge.domainVerdict(domain);
	if (!plan || !verdict) {
		return undefined;
	}

	const mx = plan.mx.map((host, index): MxReport => ({
		exchange: host.exchange,
		preference: host.preference,
		implicit: host.implicit,
		ipLiteral: host.ipLiteral,
		...(host.cname ? {cname: host.cname} : {}),
		...(host.port === undefined ? {} : {port: host.port}),
		findings: verdict.mx[index] ?? [],
		addresses: host.addresses.flatMap(ip => addressReport(knowledge, knowledge.keyOf(host.exchange, ip, host.port))),
	}));
	return {domain, input: plan.input, ...(plan.query.answer === 'direct' ? {direct: true} : {}), status: verdict.status ?? 'unknown', findings: [...knowledge.runFindings, ...verdict.findings].sort(bySeverity), mx};
}

function addressReport(knowledge: Knowledge, key: string): AddressReport[] {
	const result = knowledge.session(key);
	const verdict = knowledge.verdict(key);
	if (!result || !verdict) {
		return [];
	}

	const {target, stages, ...rest} = result;
	const ptr = knowledge.ptr(target.ip);
	return [{
		ip: target.ip,
		port: target.port,
		...rest,
		stages: reportStages(stages, verdict.findings),
		ptr: ptr?.ptr ?? null,
		ptrNames: ptr?.ptrNames ?? [],
		fcrdns: ptr?.fcrdns ?? null,
		status: verdict.status,
		findings: verdict.findings,
	}];
}

function allFindings(domain: Pick<DomainReport, 'findings' | 'mx'>): Finding[] {
	return [...domain.findings, ...domain.mx.flatMap(mx => [...mx.findings, ...mx.addresses.flatMap(address => address.findings)])];
}
