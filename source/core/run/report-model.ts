import {bySeverity, finding, worst} from '../checks/catalogue.js';
import type {Finding, MxPlan, ProbeResult, PtrInfo, Severity} from '../types.js';
import {diagnoseAddress} from '../checks/diagnose.js';

export type Status = 'ok' | 'warning' | 'critical' | 'unknown';

export type AddressReport = Omit<ProbeResult, 'target' | 'startedAt'> & {
	ip: string;
	port: number;
	startedAt: string;
	ptr: string | null;
	ptrNames: string[];
	fcrdns: boolean | null;
	status: Status;
	findings: Finding[];
};

export type MxReport = {
	exchange: string;
	preference: number;
	implicit: boolean;
	ipLiteral: boolean;
	cname?: string[];
	findings: Finding[];
	addresses: AddressReport[];
};

export type DomainReport = {domain: string; input: string; status: Status; findings: Finding[]; mx: MxReport[]};

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

export type RoundData = {
	version: string;
	startedAt: Date;
	finishedAt: Date;
	plans: MxPlan[];
	/** Keyed by probeKey(). */
	results: Map<string, ProbeResult>;
	ptrs: Map<string, PtrInfo>;
	warnDays: number;
	port: (ip: string) => number;
};

export function probeKey(exchange: string, ip: string, port: number): string {
	return `${exchange}|${ip}|${port}`;
}

function statusOf(findings: Finding[]): Status {
	const severity = worst(findings);
	return severity === 'warning' || severity === 'critical' ? severity : 'ok';
}

/** True when every connection of the round timed out, on two or more addresses: blame this machine. */
export function egressBlocked(results: Iterable<ProbeResult>): boolean {
	const all = [...results];
	const addresses = new Set(all.map(result => result.target.ip));
	return addresses.size >= 2 && all.every(result => result.stages.connect.error === 'timeout');
}

/** One round's plans and sessions, diagnosed, in the JSON contract of ../shared/checks.md. */
export function buildReport(data: RoundData): Report {
	const blocked = egressBlocked(data.results.values());
	const runFindings = blocked
		? [finding('egress-blocked', `All ${data.results.size} connections to port 25 timed out, on every host: this machine's outbound port 25 is probably blocked.`)]
		: [];
	const domains = data.plans.map(plan => domainReport(plan, data, blocked, runFindings));
	const everything = [...runFindings, ...domains.flatMap(domain => allFindings(domain))];
	const counts = {info: 0, warning: 0, critical: 0};
	for (const item of everything) {
		counts[item.severity]++;
	}

	// Findings of a domain whose resolver never answered say nothing of its servers: such a
	// domain makes the run UNKNOWN unless a domain that was judged is critical.
	const judged = [...runFindings, ...domains.filter(domain => domain.status !== 'unknown').flatMap(domain => allFindings(domain))];
	const unknown = blocked || domains.some(domain => domain.status === 'unknown');
	const severity = worst(judged);
	const status: Status = severity === 'critical' ? 'critical' : (unknown ? 'unknown' : statusOf(judged));
	const exitCode = ({ok: 0, warning: 1, critical: 2, unknown: 3} as const)[status];
	return {
		tool: 'mxdash',
		version: data.version,
		schema: 1,
		startedAt: data.startedAt.toISOString(),
		finishedAt: data.finishedAt.toISOString(),
		summary: {
			status,
			exitCode,
			domains: domains.length,
			hosts: new Set(domains.flatMap(domain => domain.mx.map(mx => mx.exchange))).size,
			addresses: domains.reduce((sum, domain) => sum + domain.mx.reduce((count, mx) => count + mx.addresses.length, 0), 0),
			findings: counts,
		},
		findings: runFindings,
		domains,
	};
}

function domainReport(plan: MxPlan, data: RoundData, blocked: boolean, runFindings: Finding[]): DomainReport {
	const mx = plan.mx.map(host => ({
		exchange: host.exchange,
		preference: host.preference,
		implicit: host.implicit,
		ipLiteral: host.ipLiteral,
		...(host.cname ? {cname: host.cname} : {}),
		findings: host.findings,
		addresses: host.addresses.flatMap(ip => {
			const result = data.results.get(probeKey(host.exchange, ip, data.port(ip)));
			return result ? [addressReport(result, data.ptrs.get(ip), data.warnDays, blocked)] : [];
		}),
	}));
	const findings = [...runFindings, ...plan.findings].sort(bySeverity);
	const unknown = plan.unknown === true || (blocked && mx.length > 0);
	return {domain: plan.domain, input: plan.input, status: unknown ? 'unknown' : statusOf(allFindings({findings, mx})), findings, mx};
}

function allFindings(domain: Pick<DomainReport, 'findings' | 'mx'>): Finding[] {
	return [...domain.findings, ...domain.mx.flatMap(mx => [...mx.findings, ...mx.addresses.flatMap(address => address.findings)])];
}

function addressReport(result: ProbeResult, ptr: PtrInfo | undefined, warnDays: number, blocked: boolean): AddressReport {
	const {target, ...rest} = result;
	const findings = diagnoseAddress(result, {warnDays, ...(ptr ? {ptr} : {})})
		.filter(item => !(blocked && item.id === 'tcp-timeout'))
		.sort(bySeverity);
	return {
		ip: target.ip,
		port: target.port,
		...rest,
		ptr: ptr?.ptr ?? null,
		ptrNames: ptr?.ptrNames ?? [],
		fcrdns: ptr?.fcrdns ?? null,
		status: blocked && result.stages.connect.error === 'timeout' ? 'unknown' : statusOf(findings),
		findings,
	};
}
