import type {MonitorEvent} from '../core/run/monitor.js';
import type {Status} from '../core/run/report-model.js';
import {probeKey} from '../core/run/report-model.js';
import type {Finding, MxPlan, ProbeResult, PtrInfo, Severity, Stage, StageName, TlsInfo, TranscriptLine} from '../core/types.js';
import {stageNames} from '../core/types.js';

/** The key facts of one round of one host, kept to show what changed. */
export type RoundSummary = {at: string; status: Status; fingerprint?: string; tlsVersion?: string; banner?: string};

export type HostState = {
	key: string;
	exchange: string;
	ip: string;
	port: number;
	phase: 'queued' | 'probing' | 'done';
	stages: Record<StageName, Stage>;
	tls?: TlsInfo;
	transcript: TranscriptLine[];
	result?: ProbeResult;
	ptr?: PtrInfo;
	findings: Finding[];
	status?: Status;
	history: RoundSummary[];
	/** What changed since the previous round, for the grid's highlight and the detail screen. */
	changes: string[];
};

export type DomainState = {domain: string; input: string; plan?: MxPlan; status?: Status; findings: Finding[]; changes: string[]};

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
	counts: Record<Severity, number>;
};

const historyLength = 10;
const transcriptCap = 2000;

function pendingStages(): Record<StageName, Stage> {
	return Object.fromEntries(stageNames.map(name => [name, {status: 'pending'}])) as Record<StageName, Stage>;
}

/**
 * The dashboard's state, fed by the engine's events. Listeners are told at most once per
 * `flushMs`, so a burst of events from hundreds of sessions is one render.
 */
export class Store {
	private domains = new Map<string, DomainState>();
	private order: string[] = [];
	private readonly hosts = new Map<string, HostState>();
	/** "exchange|ip" → the probe key (the port is the engine's business). */
	private readonly keys = new Map<string, string>();
	private readonly listeners = new Set<() => void>();
	private snapshot: Snapshot;
	private timer: NodeJS.Timeout | undefined;
	private round: Snapshot['round'] = {running: false, count: 0};
	private runFindings: Finding[] = [];
	private counts: Record<Severity, number> = {info: 0, warning: 0, critical: 0};

	constructor(domains: Array<{domain: string; input: string}>, private readonly flushMs = 80) {
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
			this.domains.set(domain, {domain, input, findings: [], changes: []});
			this.order.push(domain);
			this.changed();
		}
	}

	removeDomain(domain: string): void {
		this.domains.delete(domain);
		this.order = this.order.filter(item => item !== domain);
		this.changed();
	}

	get domainNames(): string[] {
		return [...this.order];
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
				const domain = this.domains.get(event.plan.domain);
				if (domain) {
					domain.changes = addressChanges(domain.plan, event.plan);
					domain.plan = event.plan;
				}

				break;
			}

			case 'queued': {
				const previous = this.hosts.get(event.key);
				this.keys.set(`${event.target.exchange}|${event.target.ip}`, event.key);
				this.hosts.set(event.key, {
					key: event.key,
					exchange: event.target.exchange,
					ip: event.target.ip,
					port: event.target.port,
					phase: 'queued',
					stages: pendingStages(),
					transcript: [],
					findings: previous?.findings ?? [],
					history: previous?.history ?? [],
					changes: previous?.changes ?? [],
					...(previous?.ptr ? {ptr: previous.ptr} : {}),
					...(previous?.result ? {result: previous.result} : {}),
					...(previous?.status ? {status: previous.status} : {}),
				});
				break;
			}

			case 'probe': {
				this.onProbe(event.key, event.event);
				break;
			}

			case 'ptr': {
				for (const host of this.hosts.values()) {
					if (host.ip === event.ip) {
						host.ptr = event.info;
					}
				}

				break;
			}

			case 'round-done': {
				this.onReport(event.report);
				break;
			}

			case 'round-error': {
				this.round = {...this.round, error: event.message};
				break;
			}
		}

		this.changed();
	}

	private onProbe(key: string, event: Extract<MonitorEvent, {type: 'probe'}>['event']): void {
		const host = this.hosts.get(key);
		if (!host) {
			return;
		}

		host.phase = event.type === 'done' ? 'done' : 'probing';
		if (event.type === 'stage') {
			host.stages = {...host.stages, [event.name]: event.stage};
		} else if (event.type === 'line' && host.transcript.length < transcriptCap) {
			host.transcript = [...host.transcript, event.line];
		} else if (event.type === 'tls') {
			host.tls = event.info;
		} else if (event.type === 'done') {
			host.result = event.result;
			host.stages = event.result.stages;
		}
	}

	private onReport(report: Extract<MonitorEvent, {type: 'round-done'}>['report']): void {
		for (const domainReport of report.domains) {
			const domain = this.domains.get(domainReport.domain);
			if (!domain) {
				continue;
			}

			domain.findings = domainReport.findings;
			domain.status = domainReport.status;
			for (const mx of domainReport.mx) {
				for (const address of mx.addresses) {
					const host = this.hosts.get(probeKey(mx.exchange, address.ip, address.port));
					if (host) {
						const summary: RoundSummary = {
							at: report.finishedAt,
							status: address.status,
							...(address.tls?.chain[0] ? {fingerprint: address.tls.chain[0].fingerprint256} : {}),
							...(address.tls ? {tlsVersion: address.tls.version} : {}),
							...(address.banner ? {banner: address.banner.text} : {}),
						};
						const last = host.history.at(-1);
						if (last?.at !== summary.at) {
							host.changes = last ? factChanges(last, summary) : [];
							host.history = [...host.history, summary].slice(-historyLength);
						}

						host.findings = [...mx.findings, ...address.findings];
						host.status = address.status;
					}
				}
			}
		}

		this.runFindings = report.findings;
		this.round = {...this.round, running: false, count: this.round.count + 1, finishedAt: report.finishedAt};
		this.counts = report.summary.findings;
	}

	private changed(): void {
		if (this.timer) {
			return;
		}

		this.timer = setTimeout(() => {
			this.timer = undefined;
			this.flush();
		}, this.flushMs);
		this.timer.unref?.();
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
		const domains = this.order.flatMap(name => {
			const domain = this.domains.get(name);
			return domain ? [{...domain}] : [];
		});
		const rows: GridRow[] = [];
		for (const domain of domains) {
			rows.push({kind: 'domain', id: `domain:${domain.domain}`, domain: domain.domain});
			for (const mx of domain.plan?.mx ?? []) {
				for (const ip of mx.addresses) {
					const key = this.keys.get(`${mx.exchange}|${ip}`);
					if (key) {
						rows.push({kind: 'host', id: `${domain.domain}|${key}`, domain: domain.domain, key, exchange: mx.exchange, preference: mx.preference, implicit: mx.implicit});
					}
				}
			}
		}

		const hosts = new Map([...this.hosts].map(([key, host]) => [key, {...host}]));
		return {revision, domains, hosts, rows, runFindings: this.runFindings, round: {...this.round}, counts: {...this.counts}};
	}
}

function factChanges(before: RoundSummary, after: RoundSummary): string[] {
	const changes: string[] = [];
	if (before.status !== after.status) {
		changes.push(`status ${before.status} → ${after.status}`);
	}

	if (before.fingerprint !== after.fingerprint) {
		changes.push(`certificate ${short(before.fingerprint)} → ${short(after.fingerprint)}`);
	}

	if (before.tlsVersion !== after.tlsVersion) {
		changes.push(`TLS ${before.tlsVersion ?? 'none'} → ${after.tlsVersion ?? 'none'}`);
	}

	if (before.banner !== after.banner) {
		changes.push('greeting changed');
	}

	return changes;
}

function short(fingerprint: string | undefined): string {
	return fingerprint ? `${fingerprint.slice(0, 11)}…` : 'none';
}

function addressChanges(before: MxPlan | undefined, after: MxPlan): string[] {
	if (!before) {
		return [];
	}

	const set = (plan: MxPlan): Set<string> => new Set(plan.mx.flatMap(mx => mx.addresses.map(ip => `${mx.exchange} ${ip}`)));
	const old = set(before);
	const now = set(after);
	return [
		...[...now].filter(item => !old.has(item)).map(item => `new address: ${item}`),
		...[...old].filter(item => !now.has(item)).map(item => `address gone: ${item}`),
	];
}
