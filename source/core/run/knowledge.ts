import {countBySeverity, diagnoseAddress, diagnoseDelivery, diagnosePlan, diagnoseRun, worst} from '../checks/index.js';
import type {CheckContext, PolicyFacts} from '../checks/index.js';
import {daneResult, delivery} from '../policy/delivery.js';
import {stsState} from '../policy/sts-state.js';
import {egressBlocked} from '../checks/connection.js';
import type {DaneResult, Delivery, DnsblAnswer, DnsblHealth, DomainPolicy, MxPolicy, ResolverValidation, TlsVersionScan} from '../policy/types.js';
import type {Finding, MxPlan, ProbeResult, PtrInfo, SessionFacts, Severity} from '../types.js';
import {PackedTranscript} from './packed-transcript.js';

export type Status = 'ok' | 'warning' | 'critical' | 'unknown';

/** A session as the knowledge keeps it: its transcript packed (lines() gives it back). */
export type StoredSession = SessionFacts & {transcript: PackedTranscript};

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

/** A plan, and its findings once asked for: judged on first use, not on the way to its sessions' SYNs. */
type PlanEntry = {plan: MxPlan; diagnosis?: {findings: Finding[]; mx: Finding[][]}};

/**
 * The latest complete knowledge: each domain's latest plan, each address's latest session and
 * its verdict. Every status and count is derived from it, never from a round's partial state,
 * so a re-probe of one host changes that host and the domains that contain it, nothing else.
 */
export class Knowledge {
	private readonly plans = new Map<string, PlanEntry>();
	private readonly sessions = new Map<string, StoredSession>();
	private readonly verdicts = new Map<string, AddressVerdict>();
	private readonly ptrs = new Map<string, PtrInfo>();
	private readonly policies = new Map<string, DomainPolicy>();
	private readonly byKey = new Map<string, Set<string>>();
	/** MX name → the domains whose plans name it; IP and MX name → the keys of their sessions. */
	private readonly byExchange = new Map<string, Set<string>>();
	private readonly sessionsByIp = new Map<string, Set<string>>();
	private readonly sessionsByExchange = new Map<string, Set<string>>();
	/** Each plan's place in `plans` (insertion order), so an index's answer comes in that order. */
	private readonly planOrder = new Map<string, number>();
	private planCount = 0;
	private readonly mxPolicies = new Map<string, MxPolicy>();
	private readonly dnsblAnswers = new Map<string, DnsblAnswer[]>();
	private readonly scans = new Map<string, TlsVersionScan>();
	private health: DnsblHealth[] = [];
	private resolver: ResolverValidation | undefined;
	private run: Finding[] = [];
	private blocked = false;

	constructor(private readonly context: CheckContext, private readonly portOf: (ip: string) => number) {}

	get runFindings(): Finding[] {
		return this.run;
	}

	setPlan(plan: MxPlan): void {
		if (!this.planOrder.has(plan.domain)) {
			this.planOrder.set(plan.domain, this.planCount++);
		}

		this.index(plan.domain, false);
		this.plans.set(plan.domain, {plan});
		this.index(plan.domain, true);
	}

	/** The domains whose plans name this MX host, in the order of `domains`, from an index: no scan of every plan. */
	domainsOfExchange(exchange: string): string[] {
		return [...this.byExchange.get(exchange) ?? []].sort((a, b) => this.planOrder.get(a)! - this.planOrder.get(b)!);
	}

	policy(domain: string): DomainPolicy | undefined {
		return this.policies.get(domain);
	}

	mxPolicy(exchange: string): MxPolicy | undefined {
		return this.mxPolicies.get(exchange);
	}

	dnsbl(ip: string): DnsblAnswer[] | undefined {
		return this.dnsblAnswers.get(ip);
	}

	tlsVersions(key: string): TlsVersionScan | undefined {
		return this.scans.get(key);
	}

	get validation(): ResolverValidation | undefined {
		return this.resolver;
	}

	/** A domain's MTA-STS and TLS-RPT facts: its plan is judged again (its addresses' delivery follows). */
	setDomainPolicy(domain: string, policy: DomainPolicy): void {
		this.policies.set(domain, policy);
		const entry = this.plans.get(domain);
		if (entry) {
			this.setPlan(entry.plan);
		}
	}

	/** An MX host's TLSA set; returns the keys whose verdicts it changed the facts of. */
	setMxPolicy(policy: MxPolicy): string[] {
		this.mxPolicies.set(policy.exchange, policy);
		// Its domains' plan findings are worked out again when next asked for (the plans stand).
		for (const domain of this.domainsOfExchange(policy.exchange)) {
			delete this.plans.get(domain)!.diagnosis;
		}

		return this.rejudgeKeys(this.sessionsByExchange.get(policy.exchange));
	}

	setDnsbl(ip: string, answers: DnsblAnswer[]): string[] {
		this.dnsblAnswers.set(ip, answers);
		return this.rejudgeKeys(this.sessionsByIp.get(ip));
	}

	setDnsblHealth(health: DnsblHealth[]): void {
		this.health = health;
	}

	setTlsVersions(key: string, scan: TlsVersionScan): string[] {
		this.scans.set(key, scan);
		return this.rejudgeKeys(this.sessions.has(key) ? [key] : undefined);
	}

	/** Whether the resolver validates: every plan and address is judged again. */
	setValidation(validation: ResolverValidation): string[] {
		this.resolver = validation;
		this.rediagnose();
		return this.rejudgeWhere(() => true);
	}

	plan(domain: string): MxPlan | undefined {
		return this.plans.get(domain)?.plan;
	}

	/** Forget domains no longer watched, and the sessions no remaining plan refers to. */
	retain(domains: readonly string[]): void {
		const keep = new Set(domains);
		for (const domain of this.plans.keys()) {
			if (!keep.has(domain)) {
				this.index(domain, false);
				this.plans.delete(domain);
				this.planOrder.delete(domain);
				this.policies.delete(domain);
			}
		}

		const keys = new Set([...this.plans.keys()].flatMap(domain => this.keysOf(domain)));
		for (const [key, result] of this.sessions) {
			if (!keys.has(key)) {
				this.unindexSession(key, result);
				this.sessions.delete(key);
				this.verdicts.delete(key);
			}
		}
	}

	hasSession(key: string): boolean {
		return this.sessions.has(key);
	}

	session(key: string): StoredSession | undefined {
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
		const previous = this.sessions.get(key);
		if (previous && (previous.target.ip !== result.target.ip || previous.target.exchange !== result.target.exchange)) {
			this.unindexSession(key, previous);
		}

		const stored = {...result, transcript: new PackedTranscript(result.transcript)};
		this.sessions.set(key, stored);
		addTo(this.sessionsByIp, result.target.ip, key);
		addTo(this.sessionsByExchange, result.target.exchange, key);
		return this.judge(key, stored);
	}

	/** Record a PTR answer; returns the keys whose verdicts it changed the facts of. */
	setPtr(ip: string, info: PtrInfo): string[] {
		this.ptrs.set(ip, info);
		return this.rejudgeKeys(this.sessionsByIp.get(ip));
	}

	/** Judge the run itself from every latest session; true when that changed any address's verdict. */
	judgeRun(): boolean {
		const results = [...this.sessions.values()];
		this.run = diagnoseRun({results, ...(this.resolver ? {validation: this.resolver} : {}), dnsblHealth: this.health}, this.context);
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

	/** The domains whose plans contain `key` (a provider's MX host is shared by many), from an index: no scan of every plan. */
	domainsOf(key: string): string[] {
		return [...this.byKey.get(key) ?? []];
	}

	/** Add a domain's probe keys to the key → domains index (and its MX names to theirs), or take them out. */
	private index(domain: string, add: boolean): void {
		for (const host of this.plans.get(domain)?.plan.mx ?? []) {
			if (add) {
				addTo(this.byExchange, host.exchange, domain);
			} else {
				removeFrom(this.byExchange, host.exchange, domain);
			}
		}

		for (const key of this.keysOf(domain)) {
			const domains = this.byKey.get(key) ?? new Set<string>();
			if (add) {
				domains.add(domain);
				this.byKey.set(key, domains);
			} else {
				domains.delete(domain);
				if (domains.size === 0) {
					this.byKey.delete(key);
				}
			}
		}
	}

	get domains(): string[] {
		return [...this.plans.keys()];
	}

	domainVerdict(domain: string): DomainVerdict | undefined {
		const entry = this.plans.get(domain);
		if (!entry) {
			return undefined;
		}

		const keys = this.keysOf(domain);
		const verdicts = keys.map(key => this.verdicts.get(key));
		const known = verdicts.filter(verdict => verdict !== undefined);
		const addresses = this.addressPolicies(entry.plan, keys);
		entry.diagnosis ??= diagnosePlan(entry.plan, this.context, this.policyFacts(domain));
		const {findings, mx} = entry.diagnosis;
		const own = [...findings, ...mx.flat(), ...known.flatMap(verdict => verdict.findings), ...Object.values(addresses).flatMap(item => item.findings)];
		const all = [...this.run, ...own];
		const unknown = entry.plan.unknown === true || (this.blocked && entry.plan.mx.length > 0);
		const complete = known.length === verdicts.length;
		return {
			...(unknown ? {status: 'unknown' as const} : (complete ? {status: statusOf(all)} : {})),
			findings,
			mx,
			counts: countBySeverity(own),
			addresses,
		};
	}

	/** Per address of a plan: what each sender would do, and the findings that depend on this domain. */
	private addressPolicies(plan: MxPlan, keys: string[]): Record<string, AddressPolicyVerdict> {
		const policy = this.policies.get(plan.domain);
		const sts = policy ? stsState(policy.mtaSts) : undefined;
		const result: Record<string, AddressPolicyVerdict> = {};
		for (const key of keys) {
			const session = this.sessions.get(key);
			if (!session) {
				continue;
			}

			const mxPolicy = this.mxPolicies.get(session.target.exchange);
			const dane = this.verdicts.get(key)?.dane;
			const verdict = delivery({result: session, ...(sts ? {sts} : {}), ...(mxPolicy ? {mxPolicy} : {}), ...(dane ? {dane} : {}), ...(this.resolver ? {validation: this.resolver} : {})});
			result[key] = {findings: diagnoseDelivery({result: session, plan, ...(sts ? {sts} : {}), delivery: verdict}, this.context), delivery: verdict};
		}

		return result;
	}

	private policyFacts(domain: string): PolicyFacts {
		const policy = this.policies.get(domain);
		return {...(policy ? {domain: policy} : {}), mx: exchange => this.mxPolicies.get(exchange), ...(this.resolver ? {validation: this.resolver} : {})};
	}

	/** Every plan's findings are worked out again when next asked for. */
	private rediagnose(): void {
		for (const entry of this.plans.values()) {
			delete entry.diagnosis;
		}
	}

	/**
	 * Judge these sessions again (keys of an index: each inserted as its session first was, so
	 * they come in the sessions' own order, as a scan of every session would give them).
	 */
	private rejudgeKeys(keys: Iterable<string> | undefined): string[] {
		const list = [...keys ?? []];
		for (const key of list) {
			this.judge(key, this.sessions.get(key)!);
		}

		return list;
	}

	private unindexSession(key: string, result: SessionFacts): void {
		removeFrom(this.sessionsByIp, result.target.ip, key);
		removeFrom(this.sessionsByExchange, result.target.exchange, key);
	}

	private rejudgeWhere(which: (result: SessionFacts, key: string) => boolean): string[] {
		const keys = [...this.sessions].filter(([key, result]) => which(result, key)).map(([key]) => key);
		for (const key of keys) {
			this.judge(key, this.sessions.get(key)!);
		}

		return keys;
	}

	private judge(key: string, result: SessionFacts): AddressVerdict {
		const timedOut = result.stages.connect.error === 'timeout';
		// When this machine's port 25 is blocked, a connect timeout says nothing of the server.
		const mxPolicy = this.mxPolicies.get(result.target.exchange);
		const dane = mxPolicy ? daneResult(result, mxPolicy, this.resolver, new Date(this.context.now())) : undefined;
		const dnsbl = this.dnsblAnswers.get(result.target.ip);
		const scan = this.scans.get(key);
		const facts = {
			result,
			...this.ptrOf(result),
			...(mxPolicy ? {mxPolicy} : {}),
			...(dane ? {dane} : {}),
			...(this.resolver ? {validation: this.resolver} : {}),
			...(dnsbl ? {dnsbl, unusableLists: this.health.filter(item => !item.usable).map(item => item.zone)} : {}),
			...(scan ? {tlsVersions: scan} : {}),
		};
		const findings = diagnoseAddress(facts, this.context).filter(item => !(this.blocked && item.id === 'tcp-timeout'));
		const verdict: AddressVerdict = {status: this.blocked && timedOut ? 'unknown' : statusOf(findings), findings, ...(dane ? {dane} : {})};
		this.verdicts.set(key, verdict);
		return verdict;
	}

	private ptrOf(result: SessionFacts): {ptr?: PtrInfo} {
		const info = this.ptrs.get(result.target.ip);
		return info ? {ptr: info} : {};
	}
}

function addTo(index: Map<string, Set<string>>, name: string, item: string): void {
	const items = index.get(name);
	if (items) {
		items.add(item);
	} else {
		index.set(name, new Set([item]));
	}
}

function removeFrom(index: Map<string, Set<string>>, name: string, item: string): void {
	const items = index.get(name);
	if (items?.delete(item) && items.size === 0) {
		index.delete(name);
	}
}
