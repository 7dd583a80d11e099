// The three scenarios, one round each: A the engine alone, B the engine with the dashboard on
// the same thread, C the engine in its worker with the dashboard on the main thread (as mxdash).
import {setMaxListeners} from 'node:events';
import type {MonitorEvent, RoundOptions} from '../source/core/run/monitor.js';
import {runRound} from '../source/core/run/monitor.js';
import {mountDashboard} from './dashboard.js';
import type {Ui} from './dashboard.js';
import type {Engine} from './engine.js';
import {measure, startClock} from './measure.js';
import type {Measure} from './measure.js';
import {concurrency, roundTimeoutMs} from './setup.js';
import type {Scenario} from './setup.js';

export type Context = {domains: string[]; addresses: number; round: Omit<RoundOptions, 'signal'>; ui: Ui; engine: Engine; serverPids: number[]};

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

export async function withDashboard(context: Context, scenario: 'B' | 'C'): Promise<Measure> {
	const dashboard = await mountDashboard(context.ui, context.domains);
	const {store} = dashboard;
	const before = {bytes: dashboard.bytes(), renders: dashboard.renders(), inkMs: dashboard.inkMs()};
	let events = 0;
	const onEvent = (event: MonitorEvent): void => {
		events++;
		store.apply(event);
	};

	try {
		// As the Watch does around every round.
		const stop = startClock(context.serverPids, scenario === 'C' ? context.engine : undefined);
		store.setSchedule({running: true});
		const report = scenario === 'B'
			? await runRound(context.domains, {...context.round, signal: roundSignal()}, onEvent)
			: await context.engine.run(context.domains, onEvent);
		const clock = stop();
		store.setSchedule({running: false});
		return {
			...measure(scenario, context.addresses, report, clock),
			events,
			renders: dashboard.renders() - before.renders,
			bytes: dashboard.bytes() - before.bytes,
			inkMs: dashboard.inkMs() - before.inkMs,
		};
	} finally {
		await dashboard.close();
	}
}

export async function runScenario(context: Context, scenario: Scenario): Promise<Measure> {
	return scenario === 'A' ? engineOnly(context) : withDashboard(context, scenario);
}
