// The three scenarios, one round each: A the engine alone, B the engine with the dashboard on
// the same thread, C the engine in its worker with the dashboard on the main thread (as mxdash).
import {setMaxListeners} from 'node:events';
import process from 'node:process';
import {setTimeout as sleep} from 'node:timers/promises';
import type {MonitorEvent, RoundOptions} from '../source/core/run/monitor.js';
import {runRound} from '../source/core/run/monitor.js';
import {mountDashboard} from './dashboard.js';
import type {Ui} from './dashboard.js';
import type {Engine} from './engine.js';
import {measure, startClock} from './measure.js';
import type {Measure} from './measure.js';
import {concurrency, keyIntervalMs, roundTimeoutMs, terminalSize} from './setup.js';
import type {Host, Scenario} from './setup.js';

export type Context = {
	domains: string[];
	addresses: number;
	round: Omit<RoundOptions, 'signal'>;
	ui: Ui;
	engine: Engine;
	serverPids: number[];
	/** The events of one dashboard round, kept for the frame-cost measurement (frameCost). */
	recorded?: MonitorEvent[];
};

/** The keys pressed while a round runs: down, page down, up, page up… moving the selection over the grid. */
const roundKeys = ['j', 'j', '\u001B[6~', 'k', '\u001B[5~', 'j'];

/** A deadline for one round on the main thread, with room for one abort listener per session. */
function roundSignal(): AbortSignal {
	const signal = AbortSignal.timeout(roundTimeoutMs);
	// Each session listens for abort: past 10, Node warns of a leak that is none.
	setMaxListeners(concurrency + 10, signal);
	return signal;
}

export async function engineOnly(context: Context): Promise<Measure> {
	const stop = startClock(context.serverPids);
	const report = await runRound(context.domains, {...context.round, signal: roundSignal()});
	return measure('A', context.addresses, report, stop());
}

/** The worker's own round, with no dashboard: to warm the worker up. */
export async function workerOnly(context: Context): Promise<Measure> {
	const stop = startClock(context.serverPids, context.engine);
	const report = await context.engine.run(context.domains, () => undefined);
	return measure('C', context.addresses, report, stop());
}

/** `pressKeys` (C): someone moves through the grid while the rows update, a key every keyIntervalMs. */
export async function withDashboard(context: Context, scenario: 'B' | 'C', pressKeys = false, size = terminalSize): Promise<Measure> {
	const dashboard = await mountDashboard(context.ui, context.domains, undefined, size);
	const {store} = dashboard;
	const before = {bytes: dashboard.bytes(), renders: dashboard.renders(), inkMs: dashboard.inkMs()};
	let events = 0;
	const record: MonitorEvent[] | undefined = context.recorded === undefined ? [] : undefined;
	const onEvent = (event: MonitorEvent): void => {
		events++;
		record?.push(event);
		store.apply(event);
	};

	const keys: number[] = [];
	let missed = 0;
	let pressing = pressKeys;
	const presser = (async () => {
		for (let index = 0; pressing; index++) {
			await sleep(keyIntervalMs);
			if (!pressing) {
				break;
			}

			const ms = await dashboard.press(roundKeys[index % roundKeys.length]!);
			if (ms === undefined) {
				missed++;
			} else {
				keys.push(ms);
			}
		}
	})();

	try {
		// As the Watch does around every round.
		const stop = startClock(context.serverPids, scenario === 'C' ? context.engine : undefined);
		store.setSchedule({running: true});
		const report = scenario === 'B'
			? await runRound(context.domains, {...context.round, signal: roundSignal()}, onEvent)
			: await context.engine.run(context.domains, onEvent);
		const clock = stop();
		pressing = false;
		await presser;
		store.setSchedule({running: false});
		if (record) {
			context.recorded = record;
		}

		return {
			...measure(scenario, context.addresses, report, clock),
			events,
			renders: dashboard.renders() - before.renders,
			bytes: dashboard.bytes() - before.bytes,
			inkMs: dashboard.inkMs() - before.inkMs,
			...(pressKeys ? {keys, missedKeys: missed} : {}),
		};
	} finally {
		pressing = false;
		await presser;
		await dashboard.close();
	}
}

/** The events of `events` that concern `hosts` (their domains, keys and addresses), and the round's own. */
function eventsOf(events: MonitorEvent[], hosts: Host[]): MonitorEvent[] {
	const domains = new Set(hosts.map(host => host.domain));
	const exchanges = new Set(hosts.map(host => host.exchange));
	const ips = new Set(hosts.map(host => host.ip));
	return events.filter(event => {
		switch (event.type) {
			case 'plan': {
				return domains.has(event.plan.domain);
			}

			case 'domain':
			case 'policy': {
				return domains.has(event.domain);
			}

			case 'queued':
			case 'probe':
			case 'session':
			case 'verdict':
			case 'tls-versions': {
				return exchanges.has(event.key.split('|')[0]!);
			}

			case 'ptr':
			case 'dnsbl': {
				return ips.has(event.ip);
			}

			case 'mx-policy': {
				return exchanges.has(event.exchange);
			}

			default: {
				return true;
			}
		}
	});
}

/**
 * A frame's cost with the rows off screen: the dashboard on the first `domains` of the layout,
 * fed the recorded round, idle; the selection moves up and down within the first screen, so
 * every size draws the same rows. Each key waits for the renderer's throttle to pass.
 */
export async function frameCost(ui: Ui, recorded: MonitorEvent[], domains: string[], hosts: Host[], presses: number, size = terminalSize): Promise<{ms: number[]; cpuMs: number[]}> {
	const subset = hosts.filter(host => domains.includes(host.domain));
	const store = new ui.Store(domains.map(domain => ({domain, input: domain})));
	for (const event of eventsOf(recorded, subset)) {
		store.apply(event);
	}

	store.flush();
	const dashboard = await mountDashboard(ui, domains, store, size);
	const ms: number[] = [];
	// The process's CPU time over the key and its frame (nothing else runs then: the worker is
	// idle): the wall time less what other work on the machine took from it.
	const cpuMs: number[] = [];
	try {
		for (let index = 0; index < presses; index++) {
			await sleep(100);
			const cpu = process.cpuUsage();
			const time = await dashboard.press(index % 2 === 0 ? 'j' : 'k');
			const used = process.cpuUsage(cpu);
			if (time !== undefined) {
				ms.push(time);
				cpuMs.push((used.user + used.system) / 1000);
			}
		}
	} finally {
		await dashboard.close();
	}

	return {ms, cpuMs};
}

export async function runScenario(context: Context, scenario: Scenario): Promise<Measure> {
	return scenario === 'A' ? engineOnly(context) : withDashboard(context, scenario);
}
