import {setMaxListeners} from 'node:events';
import {Dns, directServer, inputKey, normalizeDomain, prefetching} from '../dns/resolver.js';
import type {Limits} from '../limits.js';
import {probeWithFallback} from '../smtp/session.js';
import type {ProbeEvent} from '../smtp/session.js';
import type {RelayMode} from '../smtp/relay-variants.js';
import type {Finding, MxPlan, ProbeTarget, PtrInfo, SessionFacts} from '../types.js';
import type {DnsblAnswer, DnsblHealth, DomainPolicy, MxPolicy, ResolverValidation, TlsVersionScan} from '../policy/types.js';
import {Knowledge} from './knowledge.js';
import type {AddressVerdict, DomainVerdict} from './knowledge.js';
import {buildReport} from './report-model.js';
import type {Report, ReportMeta} from './report-model.js';
import {Slots} from './slots.js';
import {warmUp} from './warm-up.js';
import {boundHeapGrowth} from './heap.js';
import {PolicyDns} from '../policy/lookups.js';
import {fetchPolicy} from '../policy/fetch.js';
import {stsRecords} from '../policy/mta-sts.js';
import {scanTlsVersions} from '../smtp/tls-versions.js';
import type {ProbeOptions} from '../smtp/session.js';

export type RoundOptions = {
	version: string;
	resolvers?: string[];
	port: number;
	/** A port per address, for servers on unprivileged ports (the demo, tests). */
	ports?: Record<string, number>;
	ehloName: string;
	relay: RelayMode;
	mailFrom: string;
	rcptTo: string;
	ca?: string[];
	concurrency: number;
	warnDays: number;
	limits: Limits;
	signal?: AbortSignal;
	/** Probe only these probe keys (re-probing one host), and addresses never probed yet. */
	only?: string[];
	/** MTA-STS, TLS-RPT and DANE (default on; --no-policy turns them off). */
	policy?: boolean;
	/** The IP blocklists to query (--dnsbl; empty: none). */
	dnsbl?: string[];
	/** One extra session per TLS version with every address (--tls-versions). */
	tlsVersions?: boolean;
	/** The policy hosts' HTTPS port (443; the demo serves its policies on a loopback port). */
	policyPort?: number;
};

/** A finished session as it crosses to the dashboard: its transcript already came line by line. */
export type SessionSummary = SessionFacts;

/** Everything the engine tells its watchers: plain data, so it can cross a worker boundary. */
export type MonitorEvent =
	| {type: 'round-start'; domains: string[]; at: string}
	| {type: 'plan'; plan: MxPlan}
	| {type: 'queued'; key: string; target: ProbeTarget}
	/** Deltas while a session runs: a stage changed, a transcript line, the TLS session. */
	| {type: 'probe'; key: string; event: ProbeEvent}
	| {type: 'session'; key: string; result: SessionSummary}
	| {type: 'ptr'; ip: string; info: PtrInfo}
	/** The judgement of one address, the moment its session ends (or its PTR changes it). */
	| {type: 'verdict'; key: string; verdict: AddressVerdict}
	/** The judgement of a domain from the latest verdict of each of its addresses. */
	| {type: 'domain'; domain: string; verdict: DomainVerdict}
	| {type: 'run'; findings: Finding[]}
	/** The policy layer's facts, each told once when looked up (a round looks each up once). */
	| {type: 'policy'; domain: string; policy: DomainPolicy}
	| {type: 'mx-policy'; exchange: string; policy: MxPolicy}
	| {type: 'dnsbl'; ip: string; answers: DnsblAnswer[]}
	| {type: 'tls-versions'; key: string; scan: TlsVersionScan}
	| {type: 'validation'; validation: ResolverValidation}
	| {type: 'round-done'; at: string}
	| {type: 'round-error'; message: string};

/**
 * The engine across rounds: it keeps the latest complete knowledge and tells its watchers each
 * fact once, and each verdict the moment it can be drawn.
 */
export class Monitor {
	readonly knowledge: Knowledge;
	private readonly dns: Dns;
	private readonly policyDns: PolicyDns;
	private readonly slots: Slots;
	/** Asked once per run: whether the resolver validates, and each blocklist's self-test. */
	private validation: Promise<void> | undefined;
	private health: Promise<DnsblHealth[]> | undefined;
	private readonly perIp = new Map<string, Promise<unknown>>();
	private readonly lastStart = new Map<string, number>();
	private domains: string[] = [];
	private startedAt = new Date();
	private finishedAt = new Date();

	/**
	 * Whether anyone hears the events: a --json or text run reads the knowledge once the round is
	 * over, so the verdicts of domains along the way (each a pass over its addresses, at each of
	 * their sessions' ends: an eighth of a 10,000-address run's CPU) are not worked out for nobody.
	 */
	private readonly heard: boolean;
	private readonly emit: (event: MonitorEvent) => void;

	constructor(private readonly options: Omit<RoundOptions, 'signal' | 'only'>, emit?: (event: MonitorEvent) => void) {
		boundHeapGrowth();
		this.heard = emit !== undefined;
		this.emit = emit ?? (() => undefined);
		this.knowledge = new Knowledge({warnDays: options.warnDays, bannerSlowMs: options.limits.bannerSlowMs, now: Date.now}, ip => this.portOf(ip));
		this.dns = new Dns({...(options.resolvers ? {servers: options.resolvers} : {}), limits: options.limits});
		this.policyDns = new PolicyDns({...(options.resolvers ? {servers: options.resolvers} : {}), limits: options.limits});
		this.slots = new Slots(options.concurrency);
	}

	/**
	 * One round over many domains: plan each, probe every (MX name, address) once even when
	 * domains share it, at most `concurrency` sessions at once and one per IP at a time.
	 */
	async round(inputs: string[], {signal, only}: {signal?: AbortSignal; only?: string[]} = {}): Promise<void> {
		this.startedAt = new Date();
		if (signal) {
			// Every session listens for the abort: hundreds of listeners are expected here.
			setMaxListeners(0, signal);
		}

		this.dns.newRound();
		this.emit({type: 'round-start', domains: inputs, at: this.startedAt.toISOString()});
		const wanted = (key: string): boolean => !only || only.includes(key) || !this.knowledge.hasSession(key);
		// Each (name, address) is probed once a round even when domains share it; each PTR, MX
		// host's TLSA set and address's blocklists is looked up once a round likewise.
		const probeOnce = oncePerKey(async (key: string, target: ProbeTarget) => this.session(key, target, signal));
		const session = async (target: ProbeTarget): Promise<void> => probeOnce(this.knowledge.keyOf(target.exchange, target.ip, target.port), target);
		const lookupPtr = oncePerKey(async (ip: string) => {
			const info = await this.dns.ptr(ip);
			this.emit({type: 'ptr', ip, info});
			this.rejudge(this.knowledge.setPtr(ip, info));
		});
		// The policy layer runs beside the sessions: no lookup here is on a session's critical path.
		const policy = this.options.policy !== false;
		const mxPolicyOnce = oncePerKey(async (_exchange: string, host: MxPlan['mx'][number]) => {
			this.tellMxPolicy(await this.policyDns.mxPolicy(host));
		});
		const lookupMxPolicy = async (host: MxPlan['mx'][number]): Promise<void> => mxPolicyOnce(host.exchange, host);
		const lookupLists = oncePerKey(async (ip: string) => this.dnsbl(ip));

		// The session code's first run (warm-up.ts) while the first questions travel: once their
		// queries are out (this turn's microtasks), before any answer can be in. Not when plans
		// were asked for during start-up: their answers are due, and it runs after the first SYN.
		if (!prefetching()) {
			setImmediate(() => {
				void warmUp(this.options.ca, this.options.limits);
			});
		}

		const runChecks = policy ? this.validate() : Promise.resolve();
		const planning = Promise.all(inputs.map(async input => {
			// A re-probe of some hosts looks again only at what concerns them.
			const touched = !only || this.knowledge.keysOf(inputKey(input)).some(key => only.includes(key));
			const domainPolicy = policy && touched && !directServer(input) ? this.domainPolicy(input, signal) : undefined;
			const plan = await this.dns.plan(input);
			this.knowledge.setPlan(plan);
			this.emit({type: 'plan', plan});
			const targets = plan.mx.flatMap(host => host.addresses
				.filter(ip => wanted(this.knowledge.keyOf(host.exchange, ip, host.port)))
				.map(ip => ({domain: plan.domain, exchange: host.exchange, ip, port: host.port ?? this.portOf(ip)})));
			// The connections first: their first steps (to the SYN) run before this timer fires;
			// the judging and the lookups beside them come after, off the sessions' critical path.
			const sessions = Promise.all(targets.map(async target => session(target)));
			await new Promise(resolve => {
				setImmediate(resolve);
			});
			this.judgeDomain(plan.domain);
			const beside = Promise.all([
				sessions,
				domainPolicy?.then(found => this.tellDomainPolicy(plan.domain, found)),
				...(policy ? plan.mx.filter(host => !host.ipLiteral && (!only || host.addresses.some(ip => wanted(this.knowledge.keyOf(host.exchange, ip, host.port))))).map(async host => lookupMxPolicy(host)) : []),
				...targets.flatMap(target => [lookupPtr(target.ip), lookupLists(target.ip)]),
			]);
			// The TLS context and the session code's first run (a few ms of CPU each): once the first
			// connections and lookups are out, while they travel, not in the first handshake.
			if (targets.length > 0) {
				void warmUp(this.options.ca, this.options.limits);
			}

			await beside;
			return plan.domain;
		}));
		const domains = await planning;
		await runChecks;

		this.domains = domains;
		this.knowledge.retain(domains);
		const before = this.knowledge.runFindings;
		if (this.knowledge.judgeRun()) {
			this.rejudge(this.knowledge.domains.flatMap(domain => this.knowledge.keysOf(domain)));
		}

		if (before.length > 0 || this.knowledge.runFindings.length > 0) {
			this.emit({type: 'run', findings: this.knowledge.runFindings});
			for (const domain of this.knowledge.domains) {
				this.judgeDomain(domain);
			}
		}

		this.finishedAt = new Date();
		this.emit({type: 'round-done', at: this.finishedAt.toISOString()});
	}

	/**
	 * The dashboard's key: one extra session per TLS version with this address (one connection
	 * per IP at a time, as always); tells a `tls-versions` event and the new verdicts.
	 */
	async scanTlsVersions(key: string, signal?: AbortSignal): Promise<void> {
		const result = this.knowledge.session(key);
		if (!result) {
			return;
		}

		const {target} = result;
		const scan = await this.onIp(target.ip, async () => scanTlsVersions(target, this.probeOptions(signal)));
		this.emit({type: 'tls-versions', key, scan});
		this.rejudge(this.knowledge.setTlsVersions(key, scan));
	}

	/** Everything known now, as the JSON contract has it. */
	report(): Report {
		return buildReport(this.knowledge, this.meta());
	}

	/** What the report says of the last round besides the knowledge: its domains, start and end. */
	meta(): ReportMeta {
		return {version: this.options.version, domains: this.domains, startedAt: this.startedAt, finishedAt: this.finishedAt};
	}

	private portOf(ip: string): number {
		return this.options.ports?.[ip] ?? this.options.port;
	}

	/**
	 * Run `work` once every earlier connection to `ip` has ended and the per-IP pace has passed
	 * since the last one began (a provider's MX host shared by many domains is never hammered),
	 * within the concurrency slots.
	 */
	private async onIp<T>(ip: string, work: () => Promise<T>): Promise<T> {
		const previous = this.perIp.get(ip);
		const pace = this.options.limits.perIpPaceMs;
		const running = (previous ?? Promise.resolve()).then(async () => {
			const wait = (this.lastStart.get(ip) ?? -Infinity) + pace - performance.now();
			if (wait > 0) {
				await new Promise(resolve => {
					setTimeout(resolve, wait);
				});
			}

			return this.slots.run(async () => {
				this.lastStart.set(ip, performance.now());
				return work();
			});
		});
		// What waits for this connection keeps nothing of it: not the result (a session's whole
		// facts, 8,000 IPs' worth in a large round), nor the entry once it is the last one.
		const settled = running.then(() => undefined, () => undefined);
		this.perIp.set(ip, settled);
		void settled.then(() => {
			if (this.perIp.get(ip) === settled) {
				this.perIp.delete(ip);
			}
		});
		return running;
	}

	private probeOptions(signal: AbortSignal | undefined): ProbeOptions {
		const {options} = this;
		return {
			ehloName: options.ehloName,
			relay: options.relay,
			mailFrom: options.mailFrom,
			rcptTo: options.rcptTo,
			limits: options.limits,
			...(options.ca ? {ca: options.ca} : {}),
			...(signal ? {signal} : {}),
		};
	}

	private async session(key: string, target: ProbeTarget, signal: AbortSignal | undefined): Promise<void> {
		this.emit({type: 'queued', key, target});
		// A --json or text run has no listener: its sessions make no events (~50 each).
		const onEvent = this.heard ? (event: ProbeEvent) => {
			this.emit({type: 'probe', key, event});
		} : undefined;
		const result = await this.onIp(target.ip, async () => probeWithFallback(target, {...this.probeOptions(signal), ...(onEvent ? {onEvent} : {})}));
		if (this.heard) {
			const {transcript, ...summary} = result;
			void transcript;
			this.emit({type: 'session', key, result: summary});
		}

		this.emit({type: 'verdict', key, verdict: this.knowledge.setSession(key, result)});
		for (const domain of this.knowledge.domainsOf(key)) {
			this.judgeDomain(domain);
		}

		if (this.options.tlsVersions && result.stages.starttls.outcome === 'ok' && !signal?.aborted) {
			await this.scanTlsVersions(key, signal);
		}
	}

	/** MTA-STS and TLS-RPT of one domain: both TXT lookups at once, then the policy fetch. */
	private async domainPolicy(input: string, signal: AbortSignal | undefined): Promise<DomainPolicy> {
		const domain = normalizeDomain(input);
		const [sts, tlsRpt] = await Promise.all([this.policyDns.txt(`_mta-sts.${domain}`), this.policyDns.txt(`_smtp._tls.${domain}`)]);
		const records = 'failure' in sts ? [] : stsRecords(sts.records);
		const {limits, ca, policyPort} = this.options;
		const fetch = records.length === 1 ? await fetchPolicy(domain, {
			lookup: async (name: string) => this.dns.addresses(name),
			...(ca ? {ca} : {}),
			...(policyPort ? {port: policyPort} : {}),
			timeoutMs: limits.policyFetchMs,
			maxBytes: limits.maxPolicyBytes,
			...(signal ? {signal} : {}),
		}) : undefined;
		return {mtaSts: {txt: sts, ...(fetch ? {fetch} : {})}, tlsRpt: {txt: tlsRpt}};
	}

	private tellDomainPolicy(domain: string, policy: DomainPolicy): void {
		this.emit({type: 'policy', domain, policy});
		this.knowledge.setDomainPolicy(domain, policy);
		this.judgeDomain(domain);
	}

	private tellMxPolicy(policy: MxPolicy): void {
		this.emit({type: 'mx-policy', exchange: policy.exchange, policy});
		// The MX findings (dane-none, dnssec-bogus…) change even where no address was probed.
		const domains = this.knowledge.domainsOfExchange(policy.exchange);
		this.rejudge(this.knowledge.setMxPolicy(policy), domains);
	}

	/** Once per run: does the resolver validate DNSSEC? */
	private async validate(): Promise<void> {
		this.validation ??= this.policyDns.validation().then((validation: ResolverValidation) => {
			this.emit({type: 'validation', validation});
			this.rejudge(this.knowledge.setValidation(validation), this.knowledge.domains);
		});
		return this.validation;
	}

	/** Every usable blocklist's answer for one address; each list's self-test once per run first. */
	private async dnsbl(ip: string): Promise<void> {
		const zones = this.options.dnsbl ?? [];
		if (zones.length === 0) {
			return;
		}

		this.health ??= Promise.all(zones.map(async zone => this.policyDns.dnsblHealth(zone))).then((health: DnsblHealth[]) => {
			this.knowledge.setDnsblHealth(health);
			return health;
		});
		// A list that failed its self-test is not asked: every address still shows it, without a verdict.
		const answers = await Promise.all((await this.health).map(async health => (health.usable ? this.policyDns.dnsbl(ip, health.zone) : notAsked(health))));
		this.emit({type: 'dnsbl', ip, answers});
		this.rejudge(this.knowledge.setDnsbl(ip, answers));
	}

	/** Tell the new verdicts of these addresses and of the domains that contain them (and `also`), each domain once. */
	private rejudge(keys: string[], also: string[] = []): void {
		const domains = new Set<string>(also);
		for (const key of keys) {
			const verdict = this.knowledge.verdict(key);
			if (verdict) {
				this.emit({type: 'verdict', key, verdict});
				for (const domain of this.knowledge.domainsOf(key)) {
					domains.add(domain);
				}
			}
		}

		for (const domain of domains) {
			this.judgeDomain(domain);
		}
	}

	private judgeDomain(domain: string): void {
		if (!this.heard) {
			return;
		}

		const verdict = this.knowledge.domainVerdict(domain);
		if (verdict) {
			this.emit({type: 'domain', domain, verdict});
		}
	}
}

/** `run` for each key once: a second call with the same key gets the first call's promise. */
function oncePerKey<A extends unknown[], T>(run: (key: string, ...rest: A) => Promise<T>): (key: string, ...rest: A) => Promise<T> {
	const started = new Map<string, Promise<T>>();
	return async (key, ...rest) => {
		let running = started.get(key);
		if (!running) {
			running = run(key, ...rest);
			started.set(key, running);
		}

		return running;
	};
}

/** One round in-process (the --json and text paths): the report of what it found. */
export async function runRound(inputs: string[], options: RoundOptions, emit?: (event: MonitorEvent) => void): Promise<Report> {
	const monitor = new Monitor(options, emit);
	await monitor.round(inputs, {...(options.signal ? {signal: options.signal} : {}), ...(options.only ? {only: options.only} : {})});
	return monitor.report();
}

const notAskedAnswers = new WeakMap<DnsblHealth, DnsblAnswer>();

/** The answer every address shows for a list that failed its self-test: one object for them all. */
function notAsked(health: DnsblHealth): DnsblAnswer {
	let answer = notAskedAnswers.get(health);
	if (!answer) {
		answer = {zone: health.zone, listed: false, codes: [], error: `not asked: the list failed its self-test (${health.detail ?? 'RFC 5782 test entries'})`};
		notAskedAnswers.set(health, answer);
	}

	return answer;
}
