import {setMaxListeners} from 'node:events';
import {Dns} from '../dns/resolver.js';
import type {Limits} from '../limits.js';
import {probe} from '../smtp/session.js';
import type {ProbeEvent} from '../smtp/session.js';
import type {RelayMode} from '../smtp/relay-variants.js';
import {buildReport, probeKey} from './report-model.js';
import type {Report} from './report-model.js';
import type {MxPlan, ProbeResult, ProbeTarget, PtrInfo} from '../types.js';

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
	/** Probe only these probe keys (re-probing one host); the report holds just them. */
	only?: string[];
};

/** Everything a round tells its watchers: plain data, so it can cross a worker boundary. */
export type MonitorEvent =
	| {type: 'round-start'; domains: string[]; at: string}
	| {type: 'plan'; plan: MxPlan}
	| {type: 'queued'; key: string; target: ProbeTarget}
	| {type: 'probe'; key: string; event: ProbeEvent}
	| {type: 'ptr'; ip: string; info: PtrInfo}
	| {type: 'round-done'; report: Report}
	| {type: 'round-error'; message: string};

/** A counting semaphore: at most `size` holders at once. */
class Slots {
	private free: number;
	private readonly waiting: Array<() => void> = [];

	constructor(size: number) {
		this.free = Math.max(1, size);
	}

	async run<T>(task: () => Promise<T>): Promise<T> {
		if (this.free > 0) {
			this.free--;
		} else {
			await new Promise<void>(resolve => {
				this.waiting.push(resolve);
			});
		}

		try {
			return await task();
		} finally {
			const next = this.waiting.shift();
			if (next) {
				next();
			} else {
				this.free++;
			}
		}
	}
}

/**
 * One round over many domains: plan each, probe every (MX name, address) once even when
 * domains share it, at most `concurrency` sessions at once and one per IP at a time.
 */
export async function runRound(inputs: string[], options: RoundOptions, emit: (event: MonitorEvent) => void = () => undefined): Promise<Report> {
	const startedAt = new Date();
	if (options.signal) {
		// Every session listens for the abort: hundreds of listeners are expected here.
		setMaxListeners(0, options.signal);
	}

	emit({type: 'round-start', domains: inputs, at: startedAt.toISOString()});
	const dns = new Dns({...(options.resolvers ? {servers: options.resolvers} : {}), limits: options.limits});
	const slots = new Slots(options.concurrency);
	const perIp = new Map<string, Promise<unknown>>();
	const sessions = new Map<string, Promise<ProbeResult>>();
	const results = new Map<string, ProbeResult>();
	const ptrs = new Map<string, PtrInfo>();
	const ptrLookups = new Map<string, Promise<void>>();
	const portOf = (ip: string): number => options.ports?.[ip] ?? options.port;

	const session = async (target: ProbeTarget): Promise<ProbeResult> => {
		const key = probeKey(target.exchange, target.ip, target.port);
		const known = sessions.get(key);
		if (known) {
			return known;
		}

		emit({type: 'queued', key, target});
		const previous = perIp.get(target.ip) ?? Promise.resolve();
		const running = previous.then(async () => slots.run(async () => probe(target, {
			ehloName: options.ehloName,
			relay: options.relay,
			mailFrom: options.mailFrom,
			rcptTo: options.rcptTo,
			limits: options.limits,
			...(options.ca ? {ca: options.ca} : {}),
			...(options.signal ? {signal: options.signal} : {}),
			onEvent: event => emit({type: 'probe', key, event}),
		})));
		perIp.set(target.ip, running.catch(() => undefined));
		sessions.set(key, running);
		const result = await running;
		results.set(key, result);
		return result;
	};

	const lookupPtr = async (ip: string): Promise<void> => {
		const known = ptrLookups.get(ip);
		if (known) {
			return known;
		}

		const lookup = dns.ptr(ip).then(info => {
			ptrs.set(ip, info);
			emit({type: 'ptr', ip, info});
		});
		ptrLookups.set(ip, lookup);
		return lookup;
	};

	const plans = await Promise.all(inputs.map(async input => {
		const plan = await dns.plan(input);
		emit({type: 'plan', plan});
		const wanted = (host: string, ip: string): boolean => !options.only || options.only.includes(probeKey(host, ip, portOf(ip)));
		await Promise.all(plan.mx.flatMap(host => host.addresses.filter(ip => wanted(host.exchange, ip)).map(async ip => {
			await Promise.all([
				session({domain: plan.domain, exchange: host.exchange, ip, port: portOf(ip)}),
				lookupPtr(ip),
			]);
		})));
		return plan;
	}));

	const report = buildReport({version: options.version, startedAt, finishedAt: new Date(), plans, results, ptrs, warnDays: options.warnDays, port: portOf});
	emit({type: 'round-done', report});
	return report;
}
