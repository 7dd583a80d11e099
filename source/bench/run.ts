import {fork} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {EventEmitter, once} from 'node:events';
import {existsSync, readFileSync} from 'node:fs';
import net from 'node:net';
import type {AddressInfo} from 'node:net';
import {monitorEventLoopDelay, performance} from 'node:perf_hooks';
import process from 'node:process';
import {Writable} from 'node:stream';
import {setTimeout as sleep} from 'node:timers/promises';
import {fileURLToPath} from 'node:url';
import {Worker} from 'node:worker_threads';
import {defaultLimits} from '../core/limits.js';
import type {MonitorEvent, RoundOptions} from '../core/monitor.js';
import {runRound} from '../core/monitor.js';
import {probe} from '../core/probe.js';
import type {AddressReport, Report} from '../core/report-model.js';
import type {WorkerRequest} from '../core/round-worker.js';
import type {TranscriptLine} from '../core/types.js';
import {reverseName, startDnsServer} from '../demo/dns-server.js';
import type {Zone} from '../demo/dns-server.js';
import {startSmtpServer} from '../demo/smtp-servers.js';
import type {SmtpServer} from '../demo/smtp-servers.js';
import type {render as inkRender} from 'ink';
import type {createElement as reactCreateElement} from 'react';
import type {App as DashboardApp, Controller} from '../ui/app.js';
import type {Store} from '../ui/store.js';
import type {makeTheme as makeDashboardTheme} from '../ui/theme.js';

// How much does drawing the dashboard slow the probes, on one thread and with the engine in a
// worker? (design.md, "Rendering must not slow the probes".) Loopback only: the SMTP and DNS
// servers run in a child process, so that neither the UI nor the engine slows the servers.

const domainCount = 40;
const hostsPerDomain = 5;
/** Each reply about this late (see SmtpBehaviour.replyDelayMs): a stand-in for network latency. */
const replyDelayMs = 25;
const concurrency = 50;
const cycles = 5;
/** Stop starting cycles after this long (at least `minimumCycles` are run). */
const budgetMs = 80_000;
const minimumCycles = 3;
const roundTimeoutMs = 30_000;
const terminalSize = {columns: 160, rows: 60};
const ehloName = 'bench.mxdash.invalid';
const mailFrom = 'mxdash-relay-test@example.org';
const rcptTo = 'relay-test@example.net';

type Host = {domain: string; exchange: string; ip: string};
type Scenario = 'A' | 'B' | 'C';
type FarmMessage = {type: 'ready'; resolvers: string[]; ports: Record<string, number>} | {type: 'failed'; message: string};

const scenarioNames: Record<Scenario, string> = {
	A: 'engine only',
	B: 'engine + dashboard, one thread',
	C: 'engine in a worker + dashboard',
};

/** 40 domains × 5 MX hosts, one address each on 127.0.70.0/24. */
function layout(): {domains: string[]; hosts: Host[]} {
	const domains = Array.from({length: domainCount}, (_, index) => `d${String(index + 1).padStart(2, '0')}.bench`);
	const hosts = domains.flatMap((domain, index) => Array.from({length: hostsPerDomain}, (_, slot) => ({
		domain,
		exchange: `mx${slot + 1}.${domain}`,
		ip: `127.0.70.${(index * hostsPerDomain) + slot + 1}`,
	})));
	return {domains, hosts};
}

/** The demo certificates: source/demo/certs, seen from dist/bench/ or from source/bench/. */
function readPem(name: string): string {
	const candidates = [new URL('../../source/demo/certs/', import.meta.url), new URL('../demo/certs/', import.meta.url)];
	const found = candidates.find(candidate => existsSync(new URL('root-ca.pem', candidate)));
	if (!found) {
		throw new Error(`the demo certificates were not found; looked in ${candidates.map(candidate => fileURLToPath(candidate)).join(' and ')}`);
	}

	return readFileSync(new URL(`${name}.pem`, found), 'utf8');
}

function healthyTls(): {key: string; cert: string; minVersion: 'TLSv1.3'} {
	return {key: readPem('healthy-key'), cert: readPem('healthy') + readPem('intermediate'), minVersion: 'TLSv1.3'};
}

// ---------------------------------------------------------------------------------------------
// The child process: one scripted STARTTLS server per address, and the zone's DNS server.

async function serveFarm(): Promise<void> {
	const {domains, hosts} = layout();
	const tls = healthyTls();
	const zone: Zone = {};
	for (const domain of domains) {
		zone[domain] = {MX: hosts.filter(host => host.domain === domain).map((host, slot): [number, string] => [10 * (slot + 1), host.exchange])};
	}

	for (const host of hosts) {
		zone[host.exchange] = {A: [host.ip]};
		zone[reverseName(host.ip)] = {PTR: [host.exchange]};
	}

	const servers: Array<{close(): Promise<void>}> = [];
	const send = (message: FarmMessage): void => {
		process.send?.(message);
	};

	try {
		const ports: Record<string, number> = {};
		await Promise.all(hosts.map(async host => {
			const server = await startSmtpServer({hostname: host.exchange, tls, localDomains: [host.domain], replyDelayMs}, host.ip, 0);
			servers.push(server);
			ports[host.ip] = server.port;
		}));
		const dns = await startDnsServer(zone, '127.0.70.254', 0);
		servers.push(dns);
		send({type: 'ready', resolvers: [dns.address], ports});
	} catch (error) {
		send({type: 'failed', message: error instanceof Error ? error.message : String(error)});
	}

	process.once('message', () => {
		void Promise.allSettled(servers.map(async server => server.close())).then(() => {
			process.disconnect();
		});
	});
}

type Farm = {resolvers: string[]; ports: Record<string, number>; stop(): Promise<void>};

async function startFarm(): Promise<Farm> {
	const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--servers'], {stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
	const stop = async (): Promise<void> => {
		if (child.exitCode === null && child.signalCode === null) {
			const exited = once(child, 'exit');
			child.send('stop');
			const timer = setTimeout(() => child.kill(), 5000);
			await exited;
			clearTimeout(timer);
		}
	};

	const message = await new Promise<FarmMessage>((resolve, reject) => {
		const timer = setTimeout(() => {
			reject(new Error('the servers did not start within 20 s'));
		}, 20_000);
		child.once('message', (value: FarmMessage) => {
			clearTimeout(timer);
			resolve(value);
		});
		child.once('exit', code => {
			clearTimeout(timer);
			reject(new Error(`the server process exited (${code ?? 'signal'})`));
		});
	});
	if (message.type === 'failed') {
		await stop();
		throw new Error(`the servers did not start: ${message.message}`);
	}

	return {resolvers: message.resolvers, ports: message.ports, stop};
}

// ---------------------------------------------------------------------------------------------
// A terminal that is never seen: counts what Ink writes and drops it.

class FakeTerminal extends Writable {
	readonly isTTY = true;
	readonly columns = terminalSize.columns;
	readonly rows = terminalSize.rows;
	bytes = 0;

	override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
		this.bytes += chunk.length;
		callback();
	}
}

/** What Ink's useInput asks of stdin (as ink-testing-library builds it); no key is ever pressed. */
class FakeStdin extends EventEmitter {
	readonly isTTY = true;

	setRawMode(): this {
		return this;
	}

	setEncoding(): this {
		return this;
	}

	ref(): this {
		return this;
	}

	unref(): this {
		return this;
	}

	resume(): this {
		return this;
	}

	pause(): this {
		return this;
	}

	read(): null {
		return null;
	}
}

type Ui = {
	render: typeof inkRender;
	createElement: typeof reactCreateElement;
	App: typeof DashboardApp;
	Store: typeof Store;
	makeTheme: typeof makeDashboardTheme;
};

/**
 * Ink's colours come from chalk, which decides at import time from the real stdout: force them
 * on (as in a terminal) before the UI is loaded, so that piping the bench's output changes nothing.
 */
async function loadUi(): Promise<Ui> {
	process.env.FORCE_COLOR ??= '1';
	const [ink, react, app, store, theme] = await Promise.all([import('ink'), import('react'), import('../ui/app.js'), import('../ui/store.js'), import('../ui/theme.js')]);
	return {render: ink.render, createElement: react.createElement, App: app.App, Store: store.Store, makeTheme: theme.makeTheme};
}

type Dashboard = {store: Store; bytes(): number; renders(): number; close(): Promise<void>};

/** The dashboard as runDashboard mounts it (same App, Store and render options), on fake streams. */
async function mountDashboard(ui: Ui, domains: string[]): Promise<Dashboard> {
	const store = new ui.Store(domains.map(domain => ({domain, input: domain})));
	const terminal = new FakeTerminal();
	let renders = 0;
	const controller: Controller = {
		reprobe: () => undefined,
		reprobeAll: () => undefined,
		addDomain: () => undefined,
		removeDomain: () => undefined,
		quit: () => undefined,
	};
	const app = ui.render(ui.createElement(ui.App, {store, controller, theme: ui.makeTheme(), version: ''}), {
		stdout: terminal as unknown as NodeJS.WriteStream,
		stderr: new FakeTerminal() as unknown as NodeJS.WriteStream,
		stdin: new FakeStdin() as unknown as NodeJS.ReadStream,
		exitOnCtrlC: false,
		patchConsole: false,
		maxFps: 15,
		onRender() {
			renders++;
		},
	});
	// Mounted and the first frame out before the clock starts.
	await sleep(150);
	return {
		store,
		bytes: () => terminal.bytes,
		renders: () => renders,
		async close() {
			app.unmount();
			await app.waitUntilExit();
			app.cleanup();
		},
	};
}

// ---------------------------------------------------------------------------------------------
// The engine on a worker thread, as the dashboard runs it: one worker for every round.

class WorkerEngine {
	private readonly worker = new Worker(new URL('../core/round-worker.js', import.meta.url));
	private listener: ((event: MonitorEvent) => void) | undefined;

	constructor() {
		this.worker.on('message', (event: MonitorEvent) => {
			this.listener?.(event);
		});
		this.worker.on('error', error => {
			this.listener?.({type: 'round-error', message: error.message});
		});
	}

	async ready(): Promise<void> {
		await once(this.worker, 'online');
	}

	async run(domains: string[], options: Omit<RoundOptions, 'signal'>, onEvent: (event: MonitorEvent) => void): Promise<Report> {
		try {
			return await new Promise<Report>((resolve, reject) => {
				const timer = setTimeout(() => {
					this.worker.postMessage({type: 'abort'} satisfies WorkerRequest);
				}, roundTimeoutMs);
				this.listener = event => {
					onEvent(event);
					if (event.type === 'round-done') {
						clearTimeout(timer);
						resolve(event.report);
					} else if (event.type === 'round-error') {
						clearTimeout(timer);
						reject(new Error(event.message));
					}
				};

				this.worker.postMessage({type: 'run', domains, options} satisfies WorkerRequest);
			});
		} finally {
			this.listener = undefined;
		}
	}

	async stop(): Promise<void> {
		await this.worker.terminate();
	}
}

// ---------------------------------------------------------------------------------------------
// One round of one scenario, measured.

type Measure = {
	scenario: Scenario;
	probes: number;
	incomplete: number;
	median: number;
	p90: number;
	wallMs: number;
	perSecond: number;
	loop: {p50: number; p99: number; max: number};
	renders?: number;
	bytes?: number;
};

type Context = {domains: string[]; round: Omit<RoundOptions, 'signal'>; ui: Ui; worker: WorkerEngine};

function percentile(sorted: number[], p: number): number {
	if (sorted.length === 0) {
		return Number.NaN;
	}

	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function median(values: number[]): number {
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

/** The round's clock and the main thread's event-loop delay, started together. */
function startClock(): () => {wallMs: number; loop: Measure['loop']} {
	const histogram = monitorEventLoopDelay({resolution: 10});
	histogram.enable();
	const t0 = performance.now();
	return () => {
		const wallMs = performance.now() - t0;
		histogram.disable();
		return {wallMs, loop: {p50: histogram.percentile(50) / 1e6, p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6}};
	};
}

function measure(scenario: Scenario, report: Report, clock: {wallMs: number; loop: Measure['loop']}): Measure {
	const addresses = addressesOf(report);
	const times = addresses.map(address => address.ms).sort((a, b) => a - b);
	// A full session: TLS up, the relay test answered, QUIT answered.
	const incomplete = addresses.filter(address => !address.tls || !address.relay.tested || address.stages.quit.status !== 'ok').length;
	return {
		scenario,
		probes: addresses.length,
		incomplete,
		median: percentile(times, 50),
		p90: percentile(times, 90),
		wallMs: clock.wallMs,
		perSecond: addresses.length / (clock.wallMs / 1000),
		loop: clock.loop,
	};
}

async function engineOnly(context: Context): Promise<Measure> {
	const stop = startClock();
	const report = await runRound(context.domains, {...context.round, signal: AbortSignal.timeout(roundTimeoutMs)});
	return measure('A', report, stop());
}

async function withDashboard(context: Context, scenario: 'B' | 'C'): Promise<Measure> {
	const dashboard = await mountDashboard(context.ui, context.domains);
	const {store} = dashboard;
	const bytes = dashboard.bytes();
	const renders = dashboard.renders();
	const onEvent = (event: MonitorEvent): void => {
		store.apply(event);
	};

	try {
		// As the Watch does around every round.
		const stop = startClock();
		store.setSchedule({running: true});
		const report = scenario === 'B'
			? await runRound(context.domains, {...context.round, signal: AbortSignal.timeout(roundTimeoutMs)}, onEvent)
			: await context.worker.run(context.domains, context.round, onEvent);
		const clock = stop();
		store.setSchedule({running: false});
		return {...measure(scenario, report, clock), renders: dashboard.renders() - renders, bytes: dashboard.bytes() - bytes};
	} finally {
		await dashboard.close();
	}
}

async function runScenario(context: Context, scenario: Scenario): Promise<Measure> {
	return scenario === 'A' ? engineOnly(context) : withDashboard(context, scenario);
}

// ---------------------------------------------------------------------------------------------
// Round trips of one session, counted by a relay in front of the server: every read of what
// the client wrote, with TLS records named (their content is not readable, their size is).

type Read = {bytes: Buffer};

const handshakeTypes: Record<number, string> = {1: 'ClientHello', 2: 'ServerHello', 20: 'Finished'};
const recordTypes: Record<number, string> = {20: 'change_cipher_spec', 21: 'alert', 22: 'handshake', 23: 'application_data'};
/** A TLS 1.3 record holds the plaintext, one content-type byte and a 16-byte AEAD tag. */
const tls13Overhead = 17;

type TlsRecord = {type: number; length: number; handshake?: number};

function tlsRecords(chunk: Buffer): TlsRecord[] | undefined {
	const records: TlsRecord[] = [];
	let at = 0;
	while (at + 5 <= chunk.length) {
		const type = chunk[at]!;
		if (!(type in recordTypes) || chunk[at + 1] !== 3) {
			return undefined;
		}

		const length = chunk.readUInt16BE(at + 3);
		records.push({type, length, ...(type === 22 ? {handshake: chunk[at + 5]} : {})});
		at += 5 + length;
	}

	return at === chunk.length && records.length > 0 ? records : undefined;
}

/** The client's writes inside TLS: lines recorded together, with no reply in between. */
function tlsWrites(transcript: TranscriptLine[]): string[][] {
	const writes: string[][] = [];
	let current: string[] | undefined;
	let last = -1;
	for (const line of transcript) {
		if (line.dir === 'client' && line.tls) {
			if (current && line.t - last < 1) {
				current.push(line.text);
			} else {
				current = [line.text];
				writes.push(current);
			}

			last = line.t;
		} else if (line.dir === 'server') {
			current = undefined;
		}
	}

	return writes;
}

async function countRoundTrips(ca: string[]): Promise<string[]> {
	const server: SmtpServer = await startSmtpServer({hostname: 'mx1.healthy.demo', tls: healthyTls(), localDomains: ['healthy.demo'], replyDelayMs}, '127.0.71.1', 0);
	const reads: Read[] = [];
	const open = new Set<net.Socket>();
	const relay = net.createServer(client => {
		const upstream = net.connect({host: server.host, port: server.port});
		for (const socket of [client, upstream]) {
			open.add(socket);
			socket.once('close', () => open.delete(socket));
			socket.on('error', () => {
				client.destroy();
				upstream.destroy();
			});
		}

		client.on('data', chunk => {
			reads.push({bytes: chunk});
		});
		client.pipe(upstream);
		upstream.pipe(client);
	});
	await new Promise<void>(resolve => {
		relay.listen(0, '127.0.71.2', resolve);
	});
	try {
		const {port} = relay.address() as AddressInfo;
		const result = await probe({domain: 'healthy.demo', exchange: 'mx1.healthy.demo', ip: '127.0.71.2', port}, {ehloName, relay: 'basic', mailFrom, rcptTo, limits: defaultLimits, ca});
		const writes = tlsWrites(result.transcript);
		const lines: string[] = [];
		let handshakeDone = false;
		let plain = 0;
		let handshake = 0;
		let data = 0;
		let batchInOneRead = false;
		for (const [index, read] of reads.entries()) {
			const records = tlsRecords(read.bytes);
			let text: string;
			if (records) {
				const names = records.map(record => {
					if (record.type === 22) {
						return `handshake ${handshakeTypes[record.handshake ?? -1] ?? String(record.handshake)}`;
					}

					if (record.type !== 23) {
						return recordTypes[record.type] ?? String(record.type);
					}

					if (!handshakeDone) {
						// The client's first encrypted record is its Finished.
						handshakeDone = true;
						return 'application_data (Finished)';
					}

					const write = writes.shift();
					const expected = write ? write.reduce((sum, line) => sum + Buffer.byteLength(`${line}\r\n`), 0) + tls13Overhead : -1;
					if (write && expected === record.length) {
						if (write.length > 1 && write.at(-1) === 'QUIT') {
							batchInOneRead = records.length === 1;
						}

						return `application_data = ${write.map(line => line.split(/[ :]/)[0]).join('+')} (${record.length - tls13Overhead} bytes of text)`;
					}

					return `application_data (${record.length} bytes)`;
				});
				const isData = records.some(record => record.type === 23) && !names.some(name => name.includes('Finished') || name.includes('handshake'));
				if (isData) {
					data++;
				} else {
					handshake++;
				}

				text = `TLS    ${names.join(', ')}`;
			} else {
				plain++;
				text = `clear  ${read.bytes.toString('latin1').trim().split(/\r?\n/).map(line => line.split(/[ :]/)[0]).join('+')}`;
			}

			lines.push(`  ${String(index + 1).padStart(2)}  ${text}`);
		}

		const stages = Object.entries(result.stages).map(([name, stage]) => `${name} ${stage.status}`).join(', ');
		return [
			`Round trips of one probe (STARTTLS, relay test, PIPELINING; replies ${replyDelayMs} ms late): ${reads.length} client writes reached the server, ${result.ms.toFixed(0)} ms`,
			...lines,
			`  in the clear ${plain}, TLS handshake ${handshake}, inside TLS ${data}; expected minimum: EHLO, STARTTLS, [handshake: 2], EHLO, MAIL+RCPT+QUIT = 6`,
			`  MAIL, RCPT and QUIT in one read: ${batchInOneRead ? 'yes' : 'NO'}   (${stages})`,
		];
	} finally {
		for (const socket of open) {
			socket.destroy();
		}

		await new Promise<void>(resolve => {
			relay.close(() => {
				resolve();
			});
		});
		await server.close();
	}
}

// ---------------------------------------------------------------------------------------------
// The run: warm up, then A B C in rotating order, then the table.

function fixed(value: number | undefined, digits = 0): string {
	return value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);
}

function describe(measure: Measure): string {
	const ui = measure.renders === undefined ? '' : `  ${measure.renders} renders, ${fixed((measure.bytes ?? 0) / 1024)} KiB`;
	const failed = measure.incomplete > 0 ? `  ${measure.incomplete} INCOMPLETE` : '';
	return `${measure.scenario}: ${measure.probes} probes, median ${fixed(measure.median)} ms, p90 ${fixed(measure.p90)} ms, ${fixed(measure.wallMs / 1000, 2)} s, ${fixed(measure.perSecond)}/s, loop p99 ${fixed(measure.loop.p99, 1)} ms${ui}${failed}`;
}

function table(all: Measure[]): string[] {
	const header = ['scenario', 'rounds', 'probes', 'median ms', 'p90 ms', 'wall s', 'probes/s', 'loop p50/p99/max ms', 'renders', 'KiB out'];
	const rows = (['A', 'B', 'C'] as const).map(scenario => {
		const runs = all.filter(item => item.scenario === scenario);
		const of = (pick: (item: Measure) => number | undefined): number | undefined => {
			const values = runs.map(pick).filter((value): value is number => value !== undefined);
			return values.length > 0 ? median(values) : undefined;
		};

		return [
			`${scenario} ${scenarioNames[scenario]}`,
			String(runs.length),
			String(of(item => item.probes) ?? 0),
			fixed(of(item => item.median)),
			fixed(of(item => item.p90)),
			fixed(of(item => item.wallMs / 1000), 2),
			fixed(of(item => item.perSecond)),
			`${fixed(of(item => item.loop.p50), 1)} / ${fixed(of(item => item.loop.p99), 1)} / ${fixed(of(item => item.loop.max), 1)}`,
			fixed(of(item => item.renders)),
			fixed(of(item => (item.bytes === undefined ? undefined : item.bytes / 1024))),
		];
	});
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map(row => row[column]!.length)));
	const line = (cells: string[]): string => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
	return [line(header), line(widths.map(width => '-'.repeat(width))), ...rows.map(row => line(row))];
}

/** Which cycle a measured round belongs to. */
const cycleOf = new WeakMap<Measure, number>();

function ratios(all: Measure[]): string[] {
	const of = (scenario: Scenario, pick: (item: Measure) => number): number => median(all.filter(item => item.scenario === scenario).map(pick));
	const a = {median: of('A', item => item.median), rate: of('A', item => item.perSecond)};
	const line = (scenario: 'B' | 'C'): string => {
		// Also the median of the per-cycle ratios: each cycle's rounds ran back to back.
		const paired = all.filter(item => item.scenario === scenario).map(item => {
			const cycleA = all.find(other => other.scenario === 'A' && cycleOf.get(other) === cycleOf.get(item));
			return cycleA ? item.median / cycleA.median : Number.NaN;
		}).filter(value => !Number.isNaN(value));
		return `${scenario}/A  median probe time ${fixed(of(scenario, item => item.median) / a.median, 2)}× (per cycle ${fixed(median(paired), 2)}×), throughput ${fixed(of(scenario, item => item.perSecond) / a.rate, 2)}×`;
	};

	return [line('B'), line('C')];
}

async function main(): Promise<void> {
	const started = performance.now();
	const {domains, hosts} = layout();
	const ca = [readPem('root-ca')];
	process.stdout.write(`mxdash bench: ${domains.length} domains × ${hostsPerDomain} MX = ${hosts.length} addresses on 127.0.70.0/24, STARTTLS + relay test, replies ${replyDelayMs} ms late, concurrency ${concurrency}, terminal ${terminalSize.columns}×${terminalSize.rows}\n`);
	if (process.env.CI) {
		process.stdout.write('note: CI is set, so Ink writes nothing until it exits: B and C draw no frames\n');
	}

	const trips = await countRoundTrips(ca);
	process.stdout.write(`\n${trips.join('\n')}\n\n`);

	const ui = await loadUi();
	const farm = await startFarm();
	const worker = new WorkerEngine();
	try {
		await worker.ready();
		const context: Context = {
			domains,
			ui,
			worker,
			round: {version: 'bench', resolvers: farm.resolvers, port: 25, ports: farm.ports, ehloName, relay: 'basic', mailFrom, rcptTo, ca, concurrency, warnDays: 21, limits: defaultLimits},
		};

		const order: Scenario[] = ['A', 'B', 'C'];
		for (const scenario of order) {
			process.stdout.write(`warm-up  ${describe(await runScenario(context, scenario))}\n`);
			await sleep(200);
		}

		const all: Measure[] = [];
		for (let cycle = 0; cycle < cycles; cycle++) {
			if (cycle >= minimumCycles && performance.now() - started > budgetMs) {
				process.stdout.write(`(time budget reached after ${cycle} cycles)\n`);
				break;
			}

			// Rotate the order (A B C, B C A, C A B, …) so that no scenario always runs first.
			for (const scenario of [...order.slice(cycle % 3), ...order.slice(0, cycle % 3)]) {
				const result = await runScenario(context, scenario);
				cycleOf.set(result, cycle);
				all.push(result);
				process.stdout.write(`cycle ${cycle + 1}  ${describe(result)}\n`);
				// Let the closed connections and the renderer's timers settle between rounds.
				await sleep(200);
			}
		}

		process.stdout.write(`\nMedians over the measured rounds (each round probes all ${hosts.length} addresses):\n${table(all).join('\n')}\n\n${ratios(all).join('\n')}\n`);
		process.stdout.write(`\nper-probe ms is result.ms (connect to closed connection); "loop" is the main thread's event-loop delay during the round.\n`);
	} finally {
		await worker.stop();
		await farm.stop();
	}

	process.stdout.write(`total ${fixed((performance.now() - started) / 1000, 1)} s\n`);
}

if (process.argv.includes('--servers')) {
	await serveFarm();
} else {
	await main();
}
