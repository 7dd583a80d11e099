import type {MonitorEvent, SessionSummary} from '../core/run/monitor.js';
import type {AddressPolicyVerdict, Status} from '../core/run/knowledge.js';
import {statusOf} from '../core/run/knowledge.js';
import type {DaneResult, DnsblAnswer, DomainPolicy, MxPolicy, ResolverValidation, TlsVersionScan} from '../core/policy/types.js';
import {countBySeverity} from '../core/checks/index.js';
import type {Finding, MxPlan, PtrInfo, Severity, Stage, StageName, TlsInfo, TranscriptLine} from '../core/types.js';
import {stageNames} from '../core/types.js';
import {addressChanges, factChanges, leafSpki, policyChanges} from './changes.js';
import {nagiosCode} from './exit-code.js';
import type {RoundSummary} from './changes.js';

export type {RoundSummary} from './changes.js';


export type HostState = {
	key: string;
	exchange: string;
	ip: string;
	port: number;
	phase: 'queued' | 'probing' | 'done';
	stages: Readonly<Record<StageName, Stage>>;
	tls?: TlsInfo;
	/** Grows in place (bounded): a line is appended, never the array copied. */
	transcript: readonly TranscriptLine[];
	result?: SessionSummary;
	ptr?: PtrInfo;
	/** The address's findings, from the latest verdict; a domain's row adds its MX host's and its policy's (rowHost). */
	findings: Finding[];
	status?: Status;
	/** The verdict is of the session shown; false while a new session runs (cells are then not toned). */
	judged: boolean;
	history: RoundSummary[];
	/** What changed since the previous session, for the grid's highlight and the detail screen. */
	changes: string[];
	/** DANE for this address's session, from its verdict (undefined until judged, or without DANE). */
	dane?: DaneResult;
	/** The blocklists' answers for the address (per ip: every host on it shares them). */
	dnsbl?: DnsblAnswer[];
	/** The latest TLS-version scan (the `t` key), and whether one runs now. */
	tlsScan?: TlsVersionScan;
	scanning?: boolean;
};

export type DomainState = {
	domain: string;
	input: string;
	plan?: MxPlan;
	status?: Status;
	findings: Finding[];
	/** Each MX host's findings, parallel to the plan's `mx`: a host with no address has no row to show them. */
	mxFindings: Finding[][];
	counts: Record<Severity, number>;
	changes: string[];
	/** The domain's MTA-STS and TLS-RPT facts, once looked up this run. */
	policy?: DomainPolicy;
	/** Per probe key of the domain: its policy findings (would-fail…) and what each sender would do. */
	addresses: Readonly<Record<string, AddressPolicyVerdict>>;
};

export type GridRow =
	| {kind: 'domain'; id: string; domain: string}
	| {kind: 'host'; id: string; domain: string; key: string; exchange: string; preference: number; implicit: boolean};

export type Snapshot = {
	revision: number;
	domains: DomainState[];
	hosts: ReadonlyMap<string, HostState>;
	rows: GridRow[];
	runFindings: Finding[];
	round: {running: boolean; count: number; startedAt?: string; finishedAt?: string; nextAt?: number; error?: string};
	/** Derived from the latest verdicts: the run's findings and every domain's. */
	counts: Record<Severity, number>;
	/** Each MX host's TLSA set and DNSSEC status, by exchange. */
	mxPolicies: ReadonlyMap<string, MxPolicy>;
	/** Whether the resolver validates DNSSEC (asked once per run). */
	validation?: ResolverValidation;
};

const historyLength = 10;
/** Between two snapshots, at least this many times a frame's drawing time (store.framed). */
const paceFactor = 3;
const transcriptCap = 2000;
const pendingStage: Stage = {state: 'pending'};
const pendingStages = Object.fromEntries(stageNames.map(name => [name, pendingStage])) as Record<StageName, Stage>;
const noCounts = (): Record<Severity, number> => ({info: 0, warning: 0, critical: 0});

/**
 * The dashboard's state, fed by the engine's events. It only records: every verdict comes from
 * the engine. Listeners are told at most once per `flushMs`, so a burst of events from hundreds
 * of sessions is one render, and an object that did not change keeps its identity. The default
 * is the spinners' step (use-terminal.ts), so that a round draws one frame a step, not two.
 */
export class Store {
	private readonly domains = new Map<string, DomainState>();
	private order: string[] = [];
	private readonly hosts = new Map<string, HostState & {transcript: TranscriptLine[]}>();
	/** Findings of each MX host (by name) and of each address (by key), as last judged. */
	private readonly addressFindings = new Map<string, Finding[]>();
	private readonly dirty = new Set<string>();
	private rowsDirty = true;
	private readonly listeners = new Set<() => void>();
	private snapshot: Snapshot;
	private timer: NodeJS.Timeout | undefined;
	private round: Snapshot['round'] = {running: false, count: 0};
	private runFindings: Finding[] = [];
	/** Each domain's status when the last round finished: a round under way has partial verdicts. */
	private readonly settled = new Map<string, Status>();
	private mxPolicies = new Map<string, MxPolicy>();
	private validation: ResolverValidation | undefined;
	/** Blocklist answers by ip: a host queued later on the same ip gets them too. */
	private readonly dnsbl = new Map<string, DnsblAnswer[]>();
	/** A smoothed frame's drawing time, in ms (see framed). */
	private frameMs = 0;
	/** The hosts' keys by ip: a PTR or blocklist answer touches those hosts, not a scan of all. */
	private readonly keysByIp = new Map<string, Set<string>>();

	constructor(domains: Array<{domain: string; input: string}>, private readonly flushMs = 120) {
		for (const item of domains) {
			this.addDomain(item.domain, item.input);
		}

		this.snapshot = this.build(0);
	}

	subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => {
			this.listeners.delete(listener);
		};
	};

	getSnapshot = (): Snapshot => this.snapshot;

	addDomain(domain: string, input: string): void {
		if (!this.domains.has(domain)) {
			this.domains.set(domain, {domain, input, findings: [], mxFindings: [], counts: noCounts(), changes: [], addresses: {}});
			this.order.push(domain);
			this.rowsDirty = true;
			this.changed();
		}
	}

	removeDomain(domain: string): void {
		this.domains.delete(domain);
		this.settled.delete(domain);
		this.order = this.order.filter(item => item !== domain);
		this.rowsDirty = true;
		this.changed();
	}

	get domainNames(): string[] {
		return [...this.order];
	}

	/** The exit code on quitting: the last finished round's Nagios code, over the domains still in view. */
	get exitCode(): 0 | 1 | 2 | 3 {
		return nagiosCode([...this.settled.values()], this.order.length);
	}

	setSchedule(schedule: {running: boolean; nextAt?: number}): void {
		this.round = {...this.round, running: schedule.running, ...(schedule.nextAt ? {nextAt: schedule.nextAt} : {nextAt: undefined})};
		this.changed();
	}

	apply(event: MonitorEvent): void {
		switch (event.type) {
			case 'round-start': {
				this.round = {...this.round, running: true, startedAt: event.at, error: undefined};
				break;
			}

			case 'plan': {
				this.updateDomain(event.plan.domain, domain => ({...domain, plan: event.plan, changes: addressChanges(domain.plan, event.plan)}));
				this.rowsDirty = true;
				break;
			}

			case 'queued': {
				const previous = this.hosts.get(event.key);
				this.hosts.set(event.key, {
					key: event.key,
					exchange: event.target.exchange,
					ip: event.target.ip,
					port: event.target.port,
					phase: 'queued',
					stages: pendingStages,
					transcript: [],
					findings: previous?.findings ?? [],
					judged: false,
					history: previous?.history ?? [],
					changes: previous?.changes ?? [],
					...(previous?.ptr ? {ptr: previous.ptr} : {}),
					...(previous?.status ? {status: previous.status} : {}),
					// Kept until the new session is judged: they are facts of the previous one (and of the ip).
					...(previous?.dane ? {dane: previous.dane} : {}),
					...(previous?.tlsScan ? {tlsScan: previous.tlsScan} : {}),
					...(previous?.scanning ? {scanning: true} : {}),
					...(this.dnsbl.has(event.target.ip) ? {dnsbl: this.dnsbl.get(event.target.ip)} : {}),
				});
				this.keysOf(event.target.ip).add(event.key);
				this.touch(event.key);
				this.rowsDirty = true;
				break;
			}

			case 'probe': {
				this.onProbe(event.key, event.event);
				break;
			}

			case 'session': {
				this.updateHost(event.key, host => ({...host, phase: 'done', result: event.result, stages: event.result.stages, ...(event.result.tls ? {tls: event.result.tls} : {})}));
				break;
			}

			case 'ptr': {
				for (const key of this.keysOf(event.ip)) {
					this.updateHost(key, item => ({...item, ptr: event.info}));
				}

				break;
			}

			case 'verdict': {
				this.addressFindings.set(event.key, event.verdict.findings);
				this.updateHost(event.key, host => {
					const judged: HostState = {...host, status: event.verdict.status, findings: this.findingsOf(host), ...(event.verdict.dane ? {dane: event.verdict.dane} : {})};
					if (!event.verdict.dane) {
						// DANE is of the session judged: none now, none shown.
						delete judged.dane;
					}

					// While a new session runs, a verdict is the previous session judged again (a late
					// PTR): the latest knowledge, but not a session of its own in the history.
					return host.phase === 'done' ? withHistory({...judged, judged: true}) : judged;
				});
				break;
			}

			case 'domain': {
				// The MX host's findings are the domain's (they may depend on its policy): rowHost adds them.
				const {verdict} = event;
				this.updateDomain(event.domain, domain => ({...domain, status: verdict.status, findings: verdict.findings, mxFindings: verdict.mx, counts: verdict.counts, addresses: verdict.addresses ?? {}}));
				break;
			}

			case 'run': {
				this.runFindings = event.findings;
				break;
			}

			case 'policy': {
				const {policy} = event;
				// Drift needs the MX hosts: the plan of this round came before the policy.
				this.updateDomain(event.domain, domain => ({...domain, policy, changes: [...domain.changes, ...policyChanges(domain.policy, policy, domain.plan?.mx.map(mx => mx.exchange) ?? [])]}));
				break;
			}

			case 'mx-policy': {
				this.mxPolicies = new Map(this.mxPolicies).set(event.exchange, event.policy);
				break;
			}

			case 'dnsbl': {
				this.dnsbl.set(event.ip, event.answers);
				for (const key of this.keysOf(event.ip)) {
					this.updateHost(key, item => ({...item, dnsbl: event.answers}));
				}

				break;
			}

			case 'tls-versions': {
				this.updateHost(event.key, host => ({...host, tlsScan: event.scan, scanning: false}));
				break;
			}

			case 'validation': {
				this.validation = event.validation;
				break;
			}

			case 'round-done': {
				this.round = {...this.round, running: false, count: this.round.count + 1, finishedAt: event.at};
				for (const domain of this.domains.values()) {
					if (domain.status) {
						this.settled.set(domain.domain, domain.status);
					}
				}

				break;
			}

			case 'round-error': {
				this.round = {...this.round, error: event.message};
				break;
			}
		}

		this.changed();
	}

	/** The `t` key asked for a scan (true) or it ended, with or without a result (false). */
	setScanning(key: string, scanning: boolean): void {
		if (this.hosts.get(key)?.scanning !== scanning) {
			this.updateHost(key, host => ({...host, scanning}));
			this.changed();
		}
	}

	private onProbe(key: string, event: Extract<MonitorEvent, {type: 'probe'}>['event']): void {
		const host = this.hosts.get(key);
		if (!host) {
			return;
		}

		if (event.type === 'line') {
			if (host.transcript.length < transcriptCap) {
				host.transcript.push(event.line);
			}

			this.updateHost(key, item => ({...item, phase: 'probing'}));
		} else if (event.type === 'stage') {
			this.updateHost(key, item => ({...item, phase: 'probing', stages: {...item.stages, [event.name]: event.stage}}));
		} else {
			this.updateHost(key, item => ({...item, phase: 'probing', tls: event.info}));
		}
	}

	private keysOf(ip: string): Set<string> {
		let keys = this.keysByIp.get(ip);
		if (!keys) {
			keys = new Set();
			this.keysByIp.set(ip, keys);
		}

		return keys;
	}

	private findingsOf(host: HostState): Finding[] {
		return this.addressFindings.get(host.key) ?? [];
	}

	/** Replace a host's state; the snapshot gets a new object for it at the next flush. */
	private updateHost(key: string, change: (host: HostState & {transcript: TranscriptLine[]}) => HostState): void {
		const host = this.hosts.get(key);
		if (host) {
			this.hosts.set(key, {...change(host), transcript: host.transcript});
			this.touch(key);
		}
	}

	private updateDomain(name: string, change: (domain: DomainState) => DomainState): void {
		const domain = this.domains.get(name);
		if (domain) {
			this.domains.set(name, change(domain));
		}
	}

	private touch(key: string): void {
		this.dirty.add(key);
	}

	private changed(): void {
		if (this.timer) {
			return;
		}

		this.timer = setTimeout(() => {
			this.timer = undefined;
			this.flush();
		}, this.frameInterval());
		this.timer.unref?.();
	}

	/** The least time between two snapshots now (the spinners' clock keeps to it too). */
	frameInterval = (): number => Math.max(this.flushMs, paceFactor * this.frameMs);

	/**
	 * What drawing the last frames took (Ink's onRender): the store publishes no more often than
	 * leaves the main thread `paceFactor` times that to itself, so that a slow terminal or a busy
	 * machine gets fewer frames, not a main thread that only draws (keys wait behind frames).
	 */
	framed(ms: number): void {
		this.frameMs = this.frameMs === 0 ? ms : (0.7 * this.frameMs) + (0.3 * ms);
	}

	/** Publish now (tests, and the end of a round). */
	flush(): void {
		clearTimeout(this.timer);
		this.timer = undefined;
		this.snapshot = this.build(this.snapshot.revision + 1);
		for (const listener of this.listeners) {
			listener();
		}
	}

	private build(revision: number): Snapshot {
		const previous = this.snapshot as Snapshot | undefined;
		const domains = this.order.flatMap(name => {
			const domain = this.domains.get(name);
			return domain ? [domain] : [];
		});
		let hosts = previous?.hosts ?? new Map<string, HostState>();
		if (this.dirty.size > 0 || !previous) {
			const next = new Map(hosts);
			for (const key of this.dirty) {
				const host = this.hosts.get(key);
				if (host) {
					next.set(key, {...host});
				}
			}

			hosts = next;
			this.dirty.clear();
		}

		const rows = this.rowsDirty || !previous ? this.buildRows(domains) : previous.rows;
		this.rowsDirty = false;
		const counts = countBySeverity(this.runFindings);
		for (const domain of domains) {
			for (const severity of ['info', 'warning', 'critical'] as const) {
				counts[severity] += domain.counts[severity];
			}
		}

		return {revision, domains, hosts, rows, runFindings: this.runFindings, round: {...this.round}, counts, mxPolicies: this.mxPolicies, ...(this.validation ? {validation: this.validation} : {})};
	}

	private buildRows(domains: DomainState[]): GridRow[] {
		const rows: GridRow[] = [];
		const keys = new Map([...this.hosts.values()].map(host => [`${host.exchange}|${host.ip}`, host.key]));
		for (const domain of domains) {
			rows.push({kind: 'domain', id: `domain:${domain.domain}`, domain: domain.domain});
			for (const mx of domain.plan?.mx ?? []) {
				for (const ip of mx.addresses) {
					const key = keys.get(`${mx.exchange}|${ip}`);
					if (key) {
						rows.push({kind: 'host', id: `${domain.domain}|${key}`, domain: domain.domain, key, exchange: mx.exchange, preference: mx.preference, implicit: mx.implicit});
					}
				}
			}
		}

		return rows;
	}
}

/** Add (or, for a PTR that arrived late, update) the history entry of the host's current session. */
function withHistory(host: HostState): HostState {
	const spki = leafSpki(host.tls);
	const summary: RoundSummary = {
		at: host.result?.startedAt ?? '',
		status: host.status ?? 'unknown',
		...(host.tls?.chain[0] ? {fingerprint: host.tls.chain[0].fingerprint256, validTo: host.tls.chain[0].validTo} : {}),
		...(host.tls ? {tlsVersion: host.tls.version} : {}),
		...(host.result?.banner ? {banner: host.result.banner.text} : {}),
		...(host.dane?.checked ? {dane: host.dane.match} : {}),
		...(spki ? {spki} : {}),
	};
	const last = host.history.at(-1);
	if (last?.at === summary.at) {
		const before = host.history.at(-2);
		return {...host, changes: before ? factChanges(before, summary) : [], history: [...host.history.slice(0, -1), summary]};
	}

	return {...host, changes: last ? factChanges(last, summary) : [], history: [...host.history, summary].slice(-historyLength)};
}

const rank: Record<Status, number> = {ok: 0, unknown: 1, warning: 2, critical: 3};
const rowHosts = new WeakMap<HostState, WeakMap<DomainState, HostState>>();

/**
 * A host as its domain's row shows it: with the findings that depend on that domain's policy
 * (an address shared by domains with different policies fails only under some). The same
 * object while neither the host nor the domain changed, so rows stay memoised.
 */
export function rowHost(host: HostState, domain: DomainState | undefined): HostState {
	const policy = domain?.addresses[host.key]?.findings ?? [];
	const index = domain?.plan?.mx.findIndex(mx => mx.exchange === host.exchange) ?? -1;
	const mx = index === -1 ? [] : domain?.mxFindings[index] ?? [];
	if (!domain || (policy.length === 0 && mx.length === 0)) {
		return host;
	}

	let byDomain = rowHosts.get(host);
	const cached = byDomain?.get(domain);
	if (cached) {
		return cached;
	}

	const own = statusOf(policy);
	// Not judged yet stays so: a policy finding alone is no verdict of the session.
	const status = host.status && rank[own] > rank[host.status] ? own : host.status;
	const shown: HostState = {...host, findings: [...mx, ...host.findings, ...policy], ...(status ? {status} : {})};
	byDomain ??= new WeakMap();
	byDomain.set(domain, shown);
	rowHosts.set(host, byDomain);
	return shown;
}

const domainMaps = new WeakMap<readonly DomainState[], ReadonlyMap<string, DomainState>>();

/** A domain of the snapshot by name: the snapshot's domains as a map, made once per snapshot. */
export function domainOf(snapshot: Pick<Snapshot, 'domains'>, name: string): DomainState | undefined {
	let byName = domainMaps.get(snapshot.domains);
	if (!byName) {
		byName = new Map(snapshot.domains.map(domain => [domain.domain, domain]));
		domainMaps.set(snapshot.domains, byName);
	}

	return byName.get(name);
}
