import {setMaxListeners} from 'node:events';
import {Dns} from '../dns/resolver.js';
import type {Limits} from '../limits.js';
import {probeWithFallback} from '../smtp/session.js';
import type {ProbeEvent} from '../smtp/session.js';
import type {RelayMode} from '../smtp/relay-variants.js';
import type {Finding, MxPlan, ProbeResult, ProbeTarget, PtrInfo} from '../types.js';
import type {DnsblAnswer, DomainPolicy, MxPolicy, ResolverValidation, TlsVersionScan} from '../policy/types.js';
import {Knowledge} from './knowledge.js';
import type {AddressVerdict, DomainVerdict} from './knowledge.js';
import {buildReport} from './report-model.js';
import type {Report} from './report-model.js';
import {Slots} from './slots.js';

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
};

/** A finished session as it crosses to the dashboard: its transcript already came line by line. */
export type SessionSummary = Omit<ProbeResult, 'transcript'>;

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
	private readonly slots: Slots;
	private readonly perIp = new Map<string, Promise<unknown>>();
	private domains: string[] = [];
	private startedAt = new Date();
	private finishedAt = new Date();

	constructor(private readonly options: Omit<RoundOptions, 'signal' | 'only'>, private readonly emit: (event: MonitorEvent) => void = () => undefined) {
		this.knowledge = new Knowledge({warnDays: options.warnDays, bannerSlowMs: options.limits.bannerSlowMs, now: Date.now}, ip => this.portOf(ip));
		this.dns = new Dns({...(options.resolvers ? {servers: options.resolvers} : {}), limits: options.limits});
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

		this.emit({type: 'round-start', domains: inputs, at: this.startedAt.toISOString()});
		const sessions = new Map<string, Promise<void>>();
		const ptrs = new Map<string, Promise<void>>();
		const wanted = (key: string): boolean => !only || only.includes(key) || !this.knowledge.hasSession(key);
		const session = async (target: ProbeTarget): Promise<void> => {
			const key = this.knowledge.keyOf(target.exchange, target.ip, target.port);
			let running = sessions.get(key);
			if (!running) {
				running = this.session(key, target, signal);
				sessions.set(key, running);
			}

			return running;
		};

		const lookupPtr = async (ip: string): Promise<void> => {
			let lookup = ptrs.get(ip);
			if (!lookup) {
				lookup = this.dns.ptr(ip).then(info => {
					this.emit({type: 'ptr', ip, info});
					this.rejudge(this.knowledge.setPtr(ip, info));
				});
				ptrs.set(ip, lookup);
			}

			return lookup;
		};

		const domains = await Promise.all(inputs.map(async input => {
			const plan = await this.dns.plan(input);
			this.knowledge.setPlan(plan);
			this.emit({type: 'plan', plan});
			this.judgeDomain(plan.domain);
			await Promise.all(plan.mx.flatMap(host => host.addresses
				.filter(ip => wanted(this.knowledge.keyOf(host.exchange, ip, host.port)))
				.map(async ip => {
					await Promise.all([session({domain: plan.domain, exchange: host.exchange, ip, port: host.port ?? this.portOf(ip)}), lookupPtr(ip)]);
				})));
			return plan.domain;
		}));

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
	async scanTlsVersions(key: string): Promise<void> {
		void key;
	}

	/** Everything known now, as the JSON contract has it. */
	report(): Report {
		return buildReport(this.knowledge, {version: this.options.version, domains: this.domains, startedAt: this.startedAt, finishedAt: this.finishedAt});
	}

	private portOf(ip: string): number {
		return this.options.ports?.[ip] ?? this.options.port;
	}

	private async session(key: string, target: ProbeTarget, signal: AbortSignal | undefined): Promise<void> {
		this.emit({type: 'queued', key, target});
		const previous = this.perIp.get(target.ip) ?? Promise.resolve();
		const {options} = this;
		const running = previous.then(async () => this.slots.run(async () => probeWithFallback(target, {
			ehloName: options.ehloName,
			relay: options.relay,
			mailFrom: options.mailFrom,
			rcptTo: options.rcptTo,
			limits: options.limits,
			...(options.ca ? {ca: options.ca} : {}),
			...(signal ? {signal} : {}),
			onEvent: event => this.emit({type: 'probe', key, event}),
		})));
		this.perIp.set(target.ip, running.catch(() => undefined));
		const result = await running;
		const {transcript, ...summary} = result;
		void transcript;
		this.emit({type: 'session', key, result: summary});
		this.emit({type: 'verdict', key, verdict: this.knowledge.setSession(key, result)});
		for (const domain of this.knowledge.domainsOf(key)) {
			this.judgeDomain(domain);
		}
	}

	/** Tell the new verdicts of these addresses and of the domains that contain them. */
	private rejudge(keys: string[]): void {
		const domains = new Set<string>();
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
		const verdict = this.knowledge.domainVerdict(domain);
		if (verdict) {
			this.emit({type: 'domain', domain, verdict});
		}
	}
}

/** One round in-process (the --json and text paths): the report of what it found. */
export async function runRound(inputs: string[], options: RoundOptions, emit?: (event: MonitorEvent) => void): Promise<Report> {
	const monitor = new Monitor(options, emit);
	await monitor.round(inputs, {...(options.signal ? {signal: options.signal} : {}), ...(options.only ? {only: options.only} : {})});
	return monitor.report();
}
