import {countBySeverity, diagnoseAddress, diagnosePlan, diagnoseRun, worst} from '../checks/index.js';
import type {CheckContext} from '../checks/index.js';
import {egressBlocked} from '../checks/connection.js';
import type {DaneResult, Delivery} from '../policy/types.js';
import type {Finding, MxPlan, ProbeResult, PtrInfo, Severity} from '../types.js';

export type Status = 'ok' | 'warning' | 'critical' | 'unknown';

/** `dane`: the TLSA set of the address's MX host against the chain it sent, once both are known. */
export type AddressVerdict = {status: Status; findings: Finding[]; dane?: DaneResult};

export type DomainVerdict = {
	/** Undefined until every address of the domain has a verdict. */
	status?: Status;
	/** Findings about the domain itself (its MX query; the run's own are apart), then those of each MX host, parallel to the plan's `mx`. */
	findings: Finding[];
	mx: Finding[][];
	/** Every finding of the domain, its hosts and addresses, by severity (the run's own findings aside). */
	counts: Record<Severity, number>;
	/**
	 * Per address of the domain (by probe key): the findings that depend on this domain's policy
	 * (MTA-STS), and what each kind of sender would do, once its session is done.
	 */
	addresses: Record<string, AddressPolicyVerdict>;
};

export type AddressPolicyVerdict = {findings: Finding[]; delivery?: Delivery};

export function probeKey(exchange: string, ip: string, port: number): string {
	return `${exchange}|${ip}|${port}`;
}

export function statusOf(findings: readonly Finding[]): Status {
	const severity = worst(findings);
	return severity === 'warning' || severity === 'critical' ? severity : 'ok';
}

type PlanEntry = {plan: MxPlan; findings: Finding[]; mx: Finding[][]};

/**
 * The latest complete knowledge: each domain's latest plan, each address's latest session and
 * its verdict. Every status and count is derived from it, never from a round's partial state,
 * so a re-probe of one host changes that host and the domains that contain it, nothing else.
 */
export class Knowledge {
	private readonly plans = new Map<string, PlanEntry>();
	private readonly sessions = new Map<string, ProbeResult>();
	private readonly verdicts = new Map<string, AddressVerdict>();
	private readonly ptrs = new Map<string, PtrInfo>();
	private run: Finding[] = [];
	private blocked = false;

	constructor(private readonly context: CheckContext, private readonly portOf: (ip: string) => number) {}

	get runFindings(): Finding[] {
		return this.run;
	}

	setPlan(plan: MxPlan): void {
		this.plans.set(plan.domain, {plan, ...diagnosePlan(plan, this.context)});
	}

	plan(domain: string): MxPlan | undefined {
		return this.plans.get(domain)?.plan;
	}

	/** Forget domains no longer watched, and the sessions no remaining plan refers to. */
	retain(domains: readonly string[]): void {
		const keep = new Set(domains);
		for (const domain of this.plans.keys()) {
			if (!keep.has(domain)) {
				this.plans.delete(domain);
			}
		}

		const keys = new Set([...this.plans.keys()].flatMap(domain => this.keysOf(domain)));
		for (const key of this.sessions.keys()) {
			if (!keys.has(key)) {
				this.sessions.delete(key);
				this.verdicts.delete(key);
			}
		}
	}

	hasSession(key: string): boolean {
		return this.sessions.has(key);
	}

	session(key: string): ProbeResult | undefined {
		return this.sessions.get(key);
	}

	ptr(ip: string): PtrInfo | undefined {
		return this.ptrs.get(ip);
	}

	verdict(key: string): AddressVerdict | undefined {
		return this.verdicts.get(key);
	}

	/** Record a finished session and judge it at once. */
	setSession(key: string, result: ProbeResult): AddressVerdict {
		this.sessions.set(key, result);
		return this.judge(key, result);
	}

	/** Record a PTR answer; returns the keys whose verdicts it changed the facts of. */
	setPtr(ip: string, info: PtrInfo): string[] {
		this.ptrs.set(ip, info);
		const keys = [...this.sessions].filter(([, result]) => result.target.ip === ip).map(([key]) => key);
		for (const key of keys) {
			this.judge(key, this.sessions.get(key)!);
		}

		return keys;
	}

	/** Judge the run itself from every latest session; true when that changed any address's verdict. */
	judgeRun(): boolean {
		const results = [...this.sessions.values()];
		this.run = diagnoseRun({results}, this.context);
		const blocked = egressBlocked(results);
		if (blocked === this.blocked) {
			return false;
		}

		this.blocked = blocked;
		for (const [key, result] of this.sessions) {
			this.judge(key, result);
		}

		return true;
	}

	/** `port`: a server's own (--server HOST:PORT); otherwise the run's port for that address. */
	keyOf(exchange: string, ip: string, port?: number): string {
		return probeKey(exchange, ip, port ?? this.portOf(ip));
	}

	keysOf(domain: string): string[] {
		const plan = this.plans.get(domain)?.plan;
		return plan ? plan.mx.flatMap(host => host.addresses.map(ip => this.keyOf(host.exchange, ip, host.port))) : [];
	}

	/** The domains whose plans contain `key` (a provider's MX host is shared by many). */
	domainsOf(key: string): string[] {
		return [...this.plans.keys()].filter(domain => this.keysOf(domain).includes(key));
	}

	get domains(): string[] {
		return [...this.plans.keys()];
	}

	domainVerdict(domain: string): DomainVerdict | undefined {
		const entry = this.plans.get(domain);
		if (!entry) {
			return undefined;
		}

		const verdicts = this.keysOf(domain).map(key => this.verdicts.get(key));
		const known = verdicts.filter(verdict => verdict !== undefined);
		const own = [...entry.findings, ...entry.mx.flat(), ...known.flatMap(verdict => verdict.findings)];
		const all = [...this.run, ...own];
		const unknown = entry.plan.unknown === true || (this.blocked && entry.plan.mx.length > 0);
		const complete = known.length === verdicts.length;
		return {
			...(unknown ? {status: 'unknown' as const} : (complete ? {status: statusOf(all)} : {})),
			findings: entry.findings,
			mx: entry.mx,
			counts: countBySeverity(own),
			addresses: {},
		};
	}

	private judge(key: string, result: ProbeResult): AddressVerdict {
		const timedOut = result.stages.connect.error === 'timeout';
		// When this machine's port 25 is blocked, a connect timeout says nothing of the server.
		const findings = diagnoseAddress({result, ...this.ptrOf(result)}, this.context)
			.filter(item => !(this.blocked && item.id === 'tcp-timeout'));
		const verdict: AddressVerdict = {status: this.blocked && timedOut ? 'unknown' : statusOf(findings), findings};
		this.verdicts.set(key, verdict);
		return verdict;
	}

	private ptrOf(result: ProbeResult): {ptr?: PtrInfo} {
		const info = this.ptrs.get(result.target.ip);
		return info ? {ptr: info} : {};
	}
}
