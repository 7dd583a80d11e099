// How much does drawing the dashboard slow the probes, on one thread and with the engine in a
// worker? (design.md, "Rendering must not slow the probes".) Loopback only. The SMTP and DNS
// servers run in child processes (bench/farm.ts), so that neither the UI nor the engine delays
// the servers' answers. `npm run bench` builds this folder (tsconfig.bench.json) and runs it.
import os from 'node:os';
import {performance} from 'node:perf_hooks';
import process from 'node:process';
import {setTimeout as sleep} from 'node:timers/promises';
import {defaultLimits} from '../source/core/limits.js';
import {loadUi} from './dashboard.js';
import {startEngine} from './engine.js';
import {startFarm} from './farm.js';
import type {Measure} from './measure.js';
import {cycleOf, describe, fixed, keyLines, loadAverage, ratios, table} from './report.js';
import {countRoundTrips} from './round-trips.js';
import {engineOnly, frameCost, runScenario, withDashboard, workerOnly} from './scenarios.js';
import type {Context} from './scenarios.js';
import {budgetMs, concurrency, cycles, ehloName, framePresses, frameSizes, hostsPerDomain, keyRoundCount, layout, mailFrom, minimumCycles, networks, rcptTo, readPem, replyDelayMs, roundTimeoutMs, scenarios, smallTerminal, terminalSize, warmUpDomains} from './setup.js';

// `npm run bench` runs both parts: the dashboard's cost (loopback, below) and then the network
// bench over a delay link (bench/net/, needs root for its namespaces). `-- --net` or
// `-- --dashboard` runs one of them.
// `-- --scale` (or MXDASH_BENCH=scale) runs only the network bench's scale run.
const scaleOnly = process.argv.includes('--scale') || process.env['MXDASH_BENCH'] === 'scale';
const only = scaleOnly || process.argv.includes('--net') || process.env['MXDASH_BENCH'] === 'net' ? 'net' : (process.argv.includes('--dashboard') ? 'dashboard' : undefined);
if (only === 'net') {
	const {runNetBench} = await import('./net/bench.js');
	process.exit(await runNetBench(scaleOnly));
}

// The run: warm up, then A B C in rotating order, then the table.
const started = performance.now();
const {domains, hosts} = layout();
const ca = [readPem('root-ca')];
const react = process.env.NODE_ENV === 'production' ? 'production (as the mxdash dashboard sets it)' : 'development (NODE_ENV is not production: not what mxdash runs)';
process.stdout.write([
	`mxdash bench: ${domains.length} domains × ${hostsPerDomain} MX = ${hosts.length} addresses on ${networks(hosts.length)}, one STARTTLS server each (relay closed), replies ${replyDelayMs} ms late`,
	`concurrency ${concurrency}; the SMTP servers and the DNS server run in two child processes; fake terminal ${terminalSize.columns}×${terminalSize.rows}`,
	`Node ${process.version}, ${os.availableParallelism()} CPUs, load average ${loadAverage()}, React ${react} build`,
	'',
].join('\n'));
if (process.env.CI) {
	process.stdout.write('note: CI is set, so Ink writes no frames until it exits: B and C draw almost nothing\n');
}

process.stdout.write(`\n${(await countRoundTrips(ca)).join('\n')}\n\n`);

const ui = await loadUi();
const farm = await startFarm();
const round: Context['round'] = {version: 'bench', resolvers: farm.resolvers, port: 25, ports: farm.ports, ehloName, relay: 'basic', mailFrom, rcptTo, ca, concurrency, warnDays: 21, limits: defaultLimits};
const engine = startEngine(round, roundTimeoutMs);
try {
	await engine.ready();
	const context: Context = {domains, addresses: hosts.length, serverPids: farm.pids, ui, engine, round};

	// One round each to compile the engine on both threads and the dashboard, on the first
	// domains only; not counted (nor recorded for the frame cost: `recorded` is set).
	const warmUp: Context = {...context, domains: domains.slice(0, warmUpDomains), addresses: warmUpDomains * hostsPerDomain, recorded: []};
	for (const [label, run] of [['A', engineOnly], ['B', async (item: Context) => withDashboard(item, 'B')], ['worker alone', workerOnly]] as const) {
		process.stdout.write(`warm-up  ${describe(await run(warmUp), label)}\n`);
		await sleep(200);
	}

	const all: Measure[] = [];
	let cycleMs = 0;
	for (let cycle = 0; cycle < cycles; cycle++) {
		const elapsed = performance.now() - started;
		if (cycle >= minimumCycles && elapsed + cycleMs > budgetMs) {
			process.stdout.write(`(stopped after ${cycle} cycles to stay within the time budget)\n`);
			break;
		}

		const cycleStart = performance.now();
		// Rotate the order (A B C, B C A, C A B, …) so that no scenario always comes first.
		for (const scenario of [...scenarios.slice(cycle % 3), ...scenarios.slice(0, cycle % 3)]) {
			const result = await runScenario(context, scenario);
			cycleOf.set(result, cycle);
			all.push(result);
			process.stdout.write(`cycle ${cycle + 1}  ${describe(result)}\n`);
			// Let closed connections and the renderer's timers settle between rounds.
			await sleep(200);
		}

		cycleMs = performance.now() - cycleStart;
	}

	// Key to frame while the rows update: more rounds of C, keys pressed, their keys pooled (a
	// round gives ~27, too few for a steady p95); not in the table (its keys' frames are work the
	// other rounds of C do not do). On the large fake terminal, then on the common SSH one, where
	// a frame has fewer cells for Ink to draw.
	const keyRounds = async (size: typeof terminalSize, label: string): Promise<Measure> => {
		const rounds: Measure[] = [];
		for (let index = 0; index < keyRoundCount; index++) {
			const measured = await withDashboard(context, 'C', true, size);
			process.stdout.write(`keys     ${describe(measured, label)}\n`);
			rounds.push(measured);
		}

		return {...rounds[0]!, keys: rounds.flatMap(item => item.keys ?? []), missedKeys: rounds.reduce((sum, item) => sum + (item.missedKeys ?? 0), 0)};
	};

	const keyed = await keyRounds(terminalSize, 'C + keys');
	const keyedSmall = await keyRounds(smallTerminal, `C + keys, ${smallTerminal.columns}×${smallTerminal.rows}`);

	// A frame's cost against the rows off screen: the recorded round, idle, on a few domains and on all.
	const frames = new Map<number, {ms: number[]; cpuMs: number[]}>();
	for (let repeat = 0; repeat < 2 && context.recorded; repeat++) {
		for (const size of frameSizes) {
			const {ms, cpuMs} = await frameCost(ui, context.recorded, domains.slice(0, size), hosts, framePresses);
			const sofar = frames.get(size) ?? {ms: [], cpuMs: []};
			frames.set(size, {ms: [...sofar.ms, ...ms], cpuMs: [...sofar.cpuMs, ...cpuMs]});
		}
	}

	// The same on a terminal of the common size: a frame's cost is Ink's, by the terminal's cells.
	const small = context.recorded ? await frameCost(ui, context.recorded, domains, hosts, framePresses, smallTerminal) : undefined;

	process.stdout.write([
		'',
		`Medians over the measured rounds (a round probes all ${hosts.length} addresses, or fewer when DNS lookups failed):`,
		...table(all),
		'',
		...ratios(all),
		'',
		...keyLines(keyed, frames, small, keyedSmall),
		'',
		'per-probe ms: result.ms, connection to close; loop: event-loop delay of the main thread during the round (10 ms resolution);',
		'busy: event-loop utilisation of the main thread / the engine\'s worker; CPU s: this process (every thread) / the two server processes;',
		'Ink ms: time in Ink\'s output step (onRender renderTime), React\'s own work not included.',
		'',
	].join('\n'));
	const stderr = engine.stderr();
	if (stderr.includes('MaxListenersExceededWarning')) {
		process.stdout.write('note: the worker printed a MaxListenersExceededWarning (one abort listener per session on one AbortSignal);\n      in the dashboard that text goes to the terminal, over the frame.\n');
	}

	const other = stderr.split('\n').filter(line => line && !line.includes('MaxListenersExceededWarning') && !line.includes('--trace-warnings'));
	if (other.length > 0) {
		process.stdout.write(`the worker's stderr:\n${other.join('\n')}\n`);
	}
} finally {
	await engine.stop();
	await farm.stop();
}

process.stdout.write(`total ${fixed((performance.now() - started) / 1000, 1)} s, load average now ${loadAverage()}\n`);
if (only === undefined) {
	process.stdout.write('\n');
	const {runNetBench} = await import('./net/bench.js');
	process.exitCode = await runNetBench();
}
