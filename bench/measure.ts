// One round, measured: per-probe times from the report, the round's clock, the main thread's
// event-loop delay and utilisation, the worker's, CPU of this process and of the servers, UDP drops.
import {readFileSync} from 'node:fs';
import {monitorEventLoopDelay, performance} from 'node:perf_hooks';
import process from 'node:process';
import type {AddressReport, Report} from '../source/core/run/report-model.js';
import type {Engine} from './engine.js';
import type {Scenario} from './setup.js';

export type Measure = {
	scenario: Scenario;
	probes: number;
	/** Addresses of the zone that were not probed (their DNS lookups failed). */
	lost: number;
	dnsFailures: number;
	incomplete: number;
	median: number;
	p90: number;
	wallMs: number;
	perSecond: number;
	loop: {p50: number; p99: number; max: number};
	/** Event-loop utilisation of the main thread, and of the worker (C), 0–1. */
	busy: number;
	workerBusy?: number;
	/** CPU seconds of this process (every thread) during the round, and of the servers. */
	cpuSeconds: number;
	serverCpuSeconds?: number;
	/** Datagrams this machine dropped for a full receive buffer during the round (Linux). */
	udpDrops?: number;
	events?: number;
	renders?: number;
	bytes?: number;
	inkMs?: number;
	/** C: ms from each key pressed during the round to the next frame written; keys with no frame within 1 s. */
	keys?: number[];
	missedKeys?: number;
};

export type Clock = Pick<Measure, 'wallMs' | 'loop' | 'busy' | 'workerBusy' | 'cpuSeconds' | 'serverCpuSeconds' | 'udpDrops'>;

export function percentile(sorted: number[], p: number): number {
	if (sorted.length === 0) {
		return Number.NaN;
	}

	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	if (sorted.length === 0) {
		return Number.NaN;
	}

	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function addressesOf(report: Report): AddressReport[] {
	return report.domains.flatMap(domain => domain.mx.flatMap(mx => mx.addresses));
}

/** CPU seconds used so far by these processes (Linux /proc; user + system, 100 ticks a second). */
function cpuOf(pids: number[]): number | undefined {
	try {
		return pids.reduce((sum, pid) => {
			const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
			return sum + ((Number(fields[11]) + Number(fields[12])) / 100);
		}, 0);
	} catch {
		return undefined;
	}
}

/** Udp RcvbufErrors of /proc/net/snmp, where there is one. */
function udpReceiveErrors(): number | undefined {
	try {
		const [names, values] = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter(line => line.startsWith('Udp:')).map(line => line.trim().split(/\s+/));
		const value = Number(values?.[names?.indexOf('RcvbufErrors') ?? -1]);
		return Number.isFinite(value) ? value : undefined;
	} catch {
		return undefined;
	}
}

/** Start the round's clock; the function it returns stops it. `engine`: the worker's utilisation too (C). */
export function startClock(serverPids: number[], engine?: Engine): () => Clock {
	const histogram = monitorEventLoopDelay({resolution: 10});
	const servers = cpuOf(serverPids);
	const drops = udpReceiveErrors();
	const cpu = process.cpuUsage();
	const busy = performance.eventLoopUtilization();
	const workerBusy = engine?.utilization();
	histogram.enable();
	const t0 = performance.now();
	return () => {
		const wallMs = performance.now() - t0;
		histogram.disable();
		const after = udpReceiveErrors();
		const used = process.cpuUsage(cpu);
		const serversAfter = cpuOf(serverPids);
		return {
			wallMs,
			loop: {p50: histogram.percentile(50) / 1e6, p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6},
			busy: performance.eventLoopUtilization(busy).utilization,
			...(engine && workerBusy ? {workerBusy: engine.utilization(workerBusy).utilization} : {}),
			cpuSeconds: (used.user + used.system) / 1e6,
			...(servers === undefined || serversAfter === undefined ? {} : {serverCpuSeconds: serversAfter - servers}),
			...(drops === undefined || after === undefined ? {} : {udpDrops: after - drops}),
		};
	};
}

/** The round's numbers; `expected` is how many addresses the zone has. */
export function measure(scenario: Scenario, expected: number, report: Report, clock: Clock): Measure {
	const addresses = addressesOf(report);
	const times = addresses.map(address => address.ms).sort((a, b) => a - b);
	// A full session: TLS up, the relay test answered, QUIT answered.
	const incomplete = addresses.filter(address => !address.tls || !address.relay.tested || address.stages.quit.status !== 'ok').length;
	const dnsFailures = report.domains.flatMap(domain => [...domain.findings, ...domain.mx.flatMap(mx => mx.findings)]).filter(item => item.id === 'dns-error' || item.id === 'mx-unresolvable').length;
	return {
		scenario,
		probes: addresses.length,
		lost: expected - addresses.length,
		dnsFailures,
		incomplete,
		median: percentile(times, 50),
		p90: percentile(times, 90),
		perSecond: addresses.length / (clock.wallMs / 1000),
		...clock,
	};
}
