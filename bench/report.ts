// What the benchmark prints: one line per round, the table of medians, and the ratios to A.
import os from 'node:os';
import {median, percentile} from './measure.js';
import type {Measure} from './measure.js';
import {hostsPerDomain, keyIntervalMs, scenarioNames, scenarios, smallTerminal, terminalSize} from './setup.js';
import type {Scenario} from './setup.js';

export function fixed(value: number | undefined, digits = 0): string {
	return value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);
}

/** Other work on the machine skews the ratios, C's most (it wants two cores): say how much there was. */
export function loadAverage(): string {
	return os.loadavg().map(value => value.toFixed(2)).join(' ');
}

function percent(value: number | undefined): string {
	return value === undefined ? '–' : `${(value * 100).toFixed(0)}%`;
}

export function describe(item: Measure, label: string = item.scenario): string {
	const ui = item.renders === undefined ? '' : `, ${item.events ?? 0} events, ${item.renders} renders (Ink output ${fixed(item.inkMs)} ms), ${fixed((item.bytes ?? 0) / 1024)} KiB`;
	const lost = item.lost > 0 ? `, ${item.lost} NOT PROBED (${item.dnsFailures} DNS failures${item.udpDrops ? `, ${item.udpDrops} UDP datagrams dropped` : ''})` : '';
	const incomplete = item.incomplete > 0 ? `, ${item.incomplete} INCOMPLETE` : '';
	const busy = `busy ${percent(item.busy)}${item.workerBusy === undefined ? '' : ` (worker ${percent(item.workerBusy)})`}, CPU ${fixed(item.cpuSeconds, 1)} s (servers ${fixed(item.serverCpuSeconds, 1)} s)`;
	return `${label}: ${item.probes} probes, median ${fixed(item.median)} ms, p90 ${fixed(item.p90)} ms, ${fixed(item.wallMs / 1000, 2)} s, ${fixed(item.perSecond)}/s, loop p99 ${fixed(item.loop.p99)} ms, ${busy}${ui}${lost}${incomplete}`;
}

export function table(all: Measure[]): string[] {
	const header = ['scenario', 'rounds', 'probes', 'median ms', 'p90 ms', 'wall s', 'probes/s', 'loop p50/p99/max ms', 'busy main/worker', 'CPU s bench/servers', 'renders', 'Ink ms', 'KiB out'];
	const rows = scenarios.map(scenario => {
		const runs = all.filter(item => item.scenario === scenario);
		const of = (pick: (item: Measure) => number | undefined): number | undefined => {
			const values = runs.map(pick).filter((value): value is number => value !== undefined);
			return values.length > 0 ? median(values) : undefined;
		};

		return [
			`${scenario} ${scenarioNames[scenario]}`,
			String(runs.length),
			fixed(of(item => item.probes)),
			fixed(of(item => item.median)),
			fixed(of(item => item.p90)),
			fixed(of(item => item.wallMs / 1000), 2),
			fixed(of(item => item.perSecond)),
			`${fixed(of(item => item.loop.p50))} / ${fixed(of(item => item.loop.p99))} / ${fixed(of(item => item.loop.max))}`,
			`${percent(of(item => item.busy))} / ${percent(of(item => item.workerBusy))}`,
			`${fixed(of(item => item.cpuSeconds), 1)} / ${fixed(of(item => item.serverCpuSeconds), 1)}`,
			fixed(of(item => item.renders)),
			fixed(of(item => item.inkMs)),
			fixed(of(item => (item.bytes === undefined ? undefined : item.bytes / 1024))),
		];
	});
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map(row => row[column]!.length)));
	const line = (cells: string[]): string => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
	return [line(header), line(widths.map(width => '-'.repeat(width))), ...rows.map(row => line(row))];
}

/** Which cycle a measured round belongs to. */
export const cycleOf = new WeakMap<Measure, number>();

export function ratios(all: Measure[]): string[] {
	const of = (scenario: Scenario, pick: (item: Measure) => number): number => median(all.filter(item => item.scenario === scenario).map(pick));
	const line = (scenario: 'B' | 'C'): string => {
		// Beside the ratio of the medians, the median of each cycle's own ratio (rounds side by side).
		const paired = (pick: (item: Measure) => number): number => median(all.filter(item => item.scenario === scenario).flatMap(item => {
			const a = all.find(other => other.scenario === 'A' && cycleOf.get(other) === cycleOf.get(item));
			return a ? [pick(item) / pick(a)] : [];
		}));
		const time = (item: Measure): number => item.median;
		const rate = (item: Measure): number => item.perSecond;
		return `${scenario}/A  median probe time ${fixed(of(scenario, time) / of('A', time), 2)}× (per cycle ${fixed(paired(time), 2)}×)   throughput ${fixed(of(scenario, rate) / of('A', rate), 2)}× (per cycle ${fixed(paired(rate), 2)}×)`;
	};

	const target = (value: number): string => (value <= 1.05 ? '✓' : '✗');
	const c = of('C', item => item.median) / of('A', item => item.median);
	return [line('B'), line('C'), `C/A at ${fixed(of('A', item => item.probes))} rows: ${fixed(c, 2)}× median probe time (target ≤ 1.05 ${target(c)})`];
}

function spread(values: number[]): string {
	const sorted = [...values].sort((a, b) => a - b);
	return `p50 ${fixed(percentile(sorted, 50), 1)} / p95 ${fixed(percentile(sorted, 95), 1)} / max ${fixed(sorted.at(-1), 1)} ms, n ${sorted.length}`;
}

/** Key to frame while the rows update (`keyed`: a round of C with keys), and a frame's cost against the rows off screen (`frames`: by domain count). */
export function keyLines(keyed: Measure, frames: Map<number, {ms: number[]; cpuMs: number[]}>, small?: {ms: number[]; cpuMs: number[]}, keyedSmall?: Measure): string[] {
	const keyLine = (measure: Measure, size: {columns: number; rows: number}): string => {
		const keys = [...measure.keys ?? []].sort((a, b) => a - b);
		const missed = measure.missedKeys ?? 0;
		const p95 = percentile(keys, 95);
		return `key → frame while rows update (C, ${size.columns}×${size.rows}, a key every ${keyIntervalMs} ms): ${spread(keys)}${missed > 0 ? `, ${missed} keys with no frame within 1 s` : ''} (target p95 ≤ 50 ms ${p95 <= 50 ? '✓' : '✗'})`;
	};

	const lines = [keyLine(keyed, terminalSize), ...(keyedSmall ? [keyLine(keyedSmall, smallTerminal)] : [])];
	const sizes = [...frames.keys()].sort((a, b) => a - b);
	const medians = sizes.map(size => median(frames.get(size)?.ms ?? []));
	const cpu = sizes.map(size => median(frames.get(size)?.cpuMs ?? []));
	// A domain's row and its hosts' rows; the grid shows the terminal's rows less four (frame.ts).
	const rows = (size: number): number => size * (hostsPerDomain + 1);
	for (const size of sizes) {
		const {ms = [], cpuMs = []} = frames.get(size) ?? {};
		lines.push(`key → frame, idle, ${size * hostsPerDomain} addresses (${rows(size)} rows, ${rows(size) - (terminalSize.rows - 4)} off screen): ${spread(ms)}; CPU ${fixed(median(cpuMs), 1)} ms a frame`);
	}

	if (sizes.length === 2) {
		// Judged by CPU: the wall time also holds what other work on the machine took from the frame.
		const cpuRatio = cpu[1]! / cpu[0]!;
		lines.push(`a frame with ${rows(sizes[1]!)} rows ÷ with ${rows(sizes[0]!)}, medians: ${fixed(medians[1]! / medians[0]!, 2)}× wall, ${fixed(cpuRatio, 2)}× CPU (target ≈ 1: independent of the rows off screen ${cpuRatio <= 1.1 ? '✓' : '✗'})`);
	}

	if (small) {
		lines.push(`key → frame, idle, ${Math.max(...sizes) * hostsPerDomain} addresses on ${smallTerminal.columns}×${smallTerminal.rows} (not ${terminalSize.columns}×${terminalSize.rows}): ${spread(small.ms)}; CPU ${fixed(median(small.cpuMs), 1)} ms a frame`);
	}

	return lines;
}
