import {fork} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import dgram from 'node:dgram';
import {EventEmitter, once, setMaxListeners} from 'node:events';
import {existsSync, readFileSync} from 'node:fs';
import net from 'node:net';
import type {AddressInfo} from 'node:net';
import os from 'node:os';
import {monitorEventLoopDelay, performance} from 'node:perf_hooks';
import type {EventLoopUtilization} from 'node:perf_hooks';
import process from 'node:process';
import {Writable} from 'node:stream';
import {setTimeout as sleep} from 'node:timers/promises';
import {fileURLToPath} from 'node:url';
import {Worker} from 'node:worker_threads';
import * as packet from 'dns-packet';
import type {Answer, Packet} from 'dns-packet';
import {defaultLimits} from '../core/limits.js';
import type {MonitorEvent, RoundOptions} from '../core/run/monitor.js';
import {runRound} from '../core/run/monitor.js';
import {probe} from '../core/smtp/session.js';
import type {AddressReport, Report} from '../core/run/report-model.js';
import type {WorkerRequest} from '../core/run/worker.js';
import type {TranscriptLine} from '../core/types.js';
import {reverseName} from '../peers/dns-server.js';
import type {Zone} from '../peers/dns-server.js';
import {startSmtpServer} from '../peers/smtp-server.js';
import type {SmtpServer} from '../peers/smtp-server.js';
import type {render as inkRender} from 'ink';
import type {createElement as reactCreateElement} from 'react';
import type {App as DashboardApp, Controller} from '../ui/app.js';
import type {Store} from '../ui/store.js';
import type {makeTheme as makeDashboardTheme} from '../ui/theme.js';

// How much does drawing the dashboard slow the probes, on one thread and with the engine in a
// worker? (design.md, "Rendering must not slow the probes".) Loopback only. The SMTP and DNS
// servers run in child processes (started by this same file), so that neither the UI nor the
// engine delays the servers' answers.

const domainCount = 40;
const hostsPerDomain = 5;
/** Each reply about this late (see SmtpBehaviour.replyDelayMs): a stand-in for network latency. */
const replyDelayMs = 25;
const concurrency = 50;
const cycles = 5;
/** Start another cycle only if it should end within this long (at least `minimumCycles` run). */
const budgetMs = 95_000;
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
// Two child processes: one scripted STARTTLS server per address, and the zone's DNS server.

type Role = 'smtp' | 'dns';

function zoneOf(domains: string[], hosts: Host[]): Zone {
	const zone: Zone = {};
	for (const domain of domains) {
		zone[domain] = {MX: hosts.filter(host => host.domain === domain).map((host, slot): [number, string] => [10 * (slot + 1), host.exchange])};
	}

	for (const host of hosts) {
		zone[host.exchange] = {A: [host.ip]};
		zone[reverseName(host.ip)] = {PTR: [host.exchange]};
	}

	return zone;
}

/**
 * The zone over UDP, as startDnsServer answers it (MX, A, PTR; NXDOMAIN for other names) but
 * with a 4 MiB receive buffer: a round asks ~650 questions at once, and the default buffer
 * (~200 datagrams) overflowed even in a process of its own, each lost question costing c-ares
 * a 3 s retry or the lookup. A real resolver would not drop them.
 */
async function startZoneServer(zone: Zone, host: string): Promise<{address: string; close(): Promise<void>}> {
	const socket = dgram.createSocket({type: 'udp4', recvBufferSize: 4 * 1024 * 1024});
	socket.on('message', (message, remote) => {
		let query: Packet;
		try {
			query = packet.decode(message);
		} catch {
			return;
		}

		const question = query.questions?.[0];
		if (!question) {
			return;
		}

		const name = question.name.toLowerCase().replace(/\.$/, '');
		const entry = zone[name];
		const ttl = 60;
		const answers: Answer[] = [];
		if (question.type === 'MX') {
			answers.push(...(entry?.MX ?? []).map(([preference, exchange]) => ({type: 'MX' as const, name, ttl, data: {preference, exchange}})));
		} else if (question.type === 'A') {
			answers.push(...(entry?.A ?? []).map(data => ({type: 'A' as const, name, ttl, data})));
		} else if (question.type === 'PTR') {
			answers.push(...(entry?.PTR ?? []).map(data => ({type: 'PTR' as const, name, ttl, data})));
		}

		const nxdomain = entry ? 0 : 3;
		const flags = packet.AUTHORITATIVE_ANSWER | packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE | nxdomain;
		socket.send(packet.encode({type: 'response', id: query.id ?? 0, flags, questions: query.questions ?? [], answers}), remote.port, remote.address);
	});
	await new Promise<void>((resolve, reject) => {
		socket.once('error', reject);
		socket.bind(0, host, () => {
			socket.off('error', reject);
			resolve();
		});
	});
	return {
		address: `${host}:${socket.address().port}`,
		async close() {
			await new Promise<void>(resolve => {
				socket.close(() => {
					resolve();
				});
			});
		},
	};
}

async function serve(role: Role): Promise<void> {
	const {domains, hosts} = layout();
	const servers: Array<{close(): Promise<void>}> = [];
	const send = (message: FarmMessage): void => {
		process.send?.(message);
	};

	try {
		if (role === 'dns') {
			const dns = await startZoneServer(zoneOf(domains, hosts), '127.0.70.254');
			servers.push(dns);
			send({type: 'ready', resolvers: [dns.address], ports: {}});
		} else {
			const tls = healthyTls();
			const ports: Record<string, number> = {};
			await Promise.all(hosts.map(async host => {
				const server = await startSmtpServer({hostname: host.exchange, tls, localDomains: [host.domain], replyDelayMs}, host.ip, 0);
				servers.push(server);
				ports[host.ip] = server.port;
			}));
			send({type: 'ready', resolvers: [], ports});
		}
	} catch (error) {
		send({type: 'failed', message: error instanceof Error ? error.message : String(error)});
	}

	// Any message means stop; then the IPC channel closes and the process ends by itself.
	process.once('message', () => {
		void Promise.allSettled(servers.map(async server => server.close())).then(() => {
			process.disconnect();
		});
	});
}

type Farm = {resolvers: string[]; ports: Record<string, number>; pids: number[]; stop(): Promise<void>};

async function startChild(role: Role): Promise<Farm> {
	const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve', role], {stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
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
			reject(new Error(`the ${role} servers did not start within 20 s`));
		}, 20_000);
		child.once('message', (value: FarmMessage) => {
			clearTimeout(timer);
			resolve(value);
		});
		child.once('exit', code => {
			clearTimeout(timer);
			reject(new Error(`the ${role} server process exited (${code ?? 'signal'})`));
		});
	}).catch(async (error: unknown) => {
		await stop();
		throw error;
	});
	if (message.type === 'failed') {
		await stop();
		throw new Error(`the ${role} servers did not start: ${message.message}`);
	}

	return {resolvers: message.resolvers, ports: message.ports, pids: child.pid === undefined ? [] : [child.pid], stop};
}

async function startFarm(): Promise<Farm> {
	const [smtp, dns] = await Promise.allSettled([startChild('smtp'), startChild('dns')]);
	if (smtp.status === 'rejected' || dns.status === 'rejected') {
		await Promise.all([smtp, dns].map(async item => (item.status === 'fulfilled' ? item.value.stop() : undefined)));
		throw smtp.status === 'rejected' ? smtp.reason : (dns as PromiseRejectedResult).reason;
	}

	return {
		resolvers: dns.value.resolvers,
		ports: smtp.value.ports,
		pids: [...smtp.value.pids, ...dns.value.pids],
		async stop() {
			await Promise.all([smtp.value.stop(), dns.value.stop()]);
		},
	};
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

type Dashboard = {store: Store; bytes(): number; renders(): number; inkMs(): number; close(): Promise<void>};

/** The dashboard as runDashboard mounts it (same App, Store and render options), on fake streams. */
async function mountDashboard(ui: Ui, domains: string[]): Promise<Dashboard> {
	const store = new ui.Store(domains.map(domain => ({domain, input: domain})));
	const terminal = new FakeTerminal();
	let renders = 0;
	let inkMs = 0;
	const controller: Controller = {
		reprobe: () => undefined,
		reprobeAll: () => undefined,
		addDomain: () => undefined,
		removeDomain: () => undefined,
		quit: () => undefined,
	};
	const app = ui.render(ui.createElement(ui.App, {store, controller, theme: ui.makeTheme()}), {
		stdout: terminal as unknown as NodeJS.WriteStream,
		stderr: new FakeTerminal() as unknown as NodeJS.WriteStream,
		stdin: new FakeStdin() as unknown as NodeJS.ReadStream,
		exitOnCtrlC: false,
		patchConsole: false,
		maxFps: 15,
		onRender({renderTime}) {
			renders++;
			inkMs += renderTime;
		},
	});
	// Mounted and the first frame out before the clock starts.
	await sleep(150);
	return {
		store,
		bytes: () => terminal.bytes,
		renders: () => renders,
		inkMs: () => inkMs,
		async close() {
			// Asked before unmount: asked after, Ink leaves a beforeExit listener behind.
			const exited = app.waitUntilExit();
			app.unmount();
			await exited;
			app.cleanup();
		},
	};
}

// ---------------------------------------------------------------------------------------------
// The engine on a worker thread, as the dashboard runs it: one worker for every round.

class WorkerEngine {
	/** What the worker wrote to stderr (in the dashboard it would land on the screen). */
	stderr = '';
	// Its stderr is kept, not passed through, to be reported after the table.
	private readonly worker = new Worker(new URL('../core/run/worker.js', import.meta.url), {stderr: true});
	private listener: ((event: MonitorEvent) => void) | undefined;

	constructor() {
		this.worker.stderr.setEncoding('utf8');
		this.worker.stderr.on('data', (text: string) => {
			this.stderr = (this.stderr + text).slice(0, 10_000);
		});
		this.worker.on('message', (events: MonitorEvent[]) => {
			for (const event of events) {
				this.listener?.(event);
			}
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

	utilization(since?: EventLoopUtilization): EventLoopUtilization {
		return this.worker.performance.eventLoopUtilization(since);
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
};

type Context = {domains: string[]; addresses: number; round: Omit<RoundOptions, 'signal'>; ui: Ui; worker: WorkerEngine; serverPids: number[]};

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

type Clock = Pick<Measure, 'wallMs' | 'loop' | 'busy' | 'workerBusy' | 'cpuSeconds' | 'serverCpuSeconds' | 'udpDrops'>;

/** The round's clock, the main thread's event-loop delay and utilisation, CPU, UDP drops. */
function startClock(context: Context, worker?: WorkerEngine): () => Clock {
	const histogram = monitorEventLoopDelay({resolution: 10});
	const servers = cpuOf(context.serverPids);
	const drops = udpReceiveErrors();
	const cpu = process.cpuUsage();
	const busy = performance.eventLoopUtilization();
	const workerBusy = worker?.utilization();
	histogram.enable();
	const t0 = performance.now();
	return () => {
		const wallMs = performance.now() - t0;
		histogram.disable();
		const after = udpReceiveErrors();
		const used = process.cpuUsage(cpu);
		const serversAfter = cpuOf(context.serverPids);
		return {
			wallMs,
			loop: {p50: histogram.percentile(50) / 1e6, p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6},
			busy: performance.eventLoopUtilization(busy).utilization,
			...(worker && workerBusy ? {workerBusy: worker.utilization(workerBusy).utilization} : {}),
			cpuSeconds: (used.user + used.system) / 1e6,
			...(servers === undefined || serversAfter === undefined ? {} : {serverCpuSeconds: serversAfter - servers}),
			...(drops === undefined || after === undefined ? {} : {udpDrops: after - drops}),
		};
	};
}

function measure(scenario: Scenario, context: Context, report: Report, clock: Clock): Measure {
	const addresses = addressesOf(report);
	const times = addresses.map(address => address.ms).sort((a, b) => a - b);
	// A full session: TLS up, the relay test answered, QUIT answered.
	const incomplete = addresses.filter(address => !address.tls || !address.relay.tested || address.stages.quit.status !== 'ok').length;
	const dnsFailures = report.domains.flatMap(domain => [...domain.findings, ...domain.mx.flatMap(mx => mx.findings)]).filter(item => item.id === 'dns-error' || item.id === 'mx-unresolvable').length;
	return {
		scenario,
		probes: addresses.length,
		lost: context.addresses - addresses.length,
		dnsFailures,
		incomplete,
		median: percentile(times, 50),
		p90: percentile(times, 90),
		perSecond: addresses.length / (clock.wallMs / 1000),
		...clock,
	};
}

/** A deadline for one round on the main thread, with room for one abort listener per session. */
function roundSignal(): AbortSignal {
	const signal = AbortSignal.timeout(roundTimeoutMs);
	// Each session listens for abort: past 10, Node warns of a leak that is none.
	setMaxListeners(concurrency + 10, signal);
	return signal;
}

async function engineOnly(context: Context): Promise<Measure> {
	const stop = startClock(context);
	const report = await runRound(context.domains, {...context.round, signal: roundSignal()});
	return measure('A', context, report, stop());
}

/** The worker's own round, with no dashboard: to warm the worker up. */
async function workerOnly(context: Context): Promise<Measure> {
	const stop = startClock(context, context.worker);
	const report = await context.worker.run(context.domains, context.round, () => undefined);
	return measure('C', context, report, stop());
}

async function withDashboard(context: Context, scenario: 'B' | 'C'): Promise<Measure> {
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
		const stop = startClock(context, scenario === 'C' ? context.worker : undefined);
		store.setSchedule({running: true});
		const report = scenario === 'B'
			? await runRound(context.domains, {...context.round, signal: roundSignal()}, onEvent)
			: await context.worker.run(context.domains, context.round, onEvent);
		const clock = stop();
		store.setSchedule({running: false});
		return {
			...measure(scenario, context, report, clock),
			events,
			renders: dashboard.renders() - before.renders,
			bytes: dashboard.bytes() - before.bytes,
			inkMs: dashboard.inkMs() - before.inkMs,
		};
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

/** The client's writes inside TLS, from its transcript: lines recorded together, no reply between. */
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

const verbOf = (line: string): string => line.split(/[ :]/)[0] ?? line;
const textBytes = (lines: string[]): number => lines.reduce((sum, line) => sum + Buffer.byteLength(`${line}\r\n`), 0);

/** One read of the client's bytes: what it held, and whether the client then waited for a reply. */
type ReadInfo = {text: string; waits: boolean; batch: boolean};

function describeRead(chunk: Buffer, tls: {finished: boolean; writes: string[][]}): ReadInfo {
	const records = tlsRecords(chunk);
	if (!records) {
		const verbs = chunk.toString('latin1').trim().split(/\r?\n/).map(line => verbOf(line));
		return {text: `clear  ${verbs.join('+')}`, waits: true, batch: verbs.includes('QUIT') && verbs.length > 2};
	}

	let waits = false;
	let batch = false;
	const names = records.map(record => {
		if (record.type === 22) {
			waits ||= record.handshake === 1;
			return `handshake ${handshakeTypes[record.handshake ?? -1] ?? String(record.handshake)}`;
		}

		if (record.type !== 23) {
			return recordTypes[record.type] ?? String(record.type);
		}

		if (!tls.finished) {
			// The client's first encrypted record is its Finished; it waits for nothing after it.
			tls.finished = true;
			return 'Finished (encrypted)';
		}

		waits = true;
		const write = tls.writes.shift();
		if (write && textBytes(write) + tls13Overhead === record.length) {
			const verbs = write.map(line => verbOf(line));
			batch ||= verbs.includes('QUIT') && verbs.length > 2;
			return `${verbs.join('+')} (${textBytes(write)} bytes of text in one record)`;
		}

		return `application_data (${record.length} bytes)`;
	});
	return {text: `TLS    ${names.join(', ')}`, waits, batch};
}

/**
 * One probe through a relay that records every read of what the client wrote: the server sees
 * the same reads. TLS records are named; their text is known from the client's transcript and
 * checked against the record's size.
 */
async function countRoundTrips(ca: string[]): Promise<string[]> {
	const server: SmtpServer = await startSmtpServer({hostname: 'mx1.healthy.demo', tls: healthyTls(), localDomains: ['healthy.demo'], replyDelayMs}, '127.0.71.1', 0);
	const reads: Buffer[] = [];
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
			reads.push(chunk);
		});
		client.pipe(upstream);
		upstream.pipe(client);
	});
	await new Promise<void>(resolve => {
		relay.listen(0, '127.0.71.2', resolve);
	});
	try {
		const {port} = relay.address() as AddressInfo;
		const session = async () => probe({domain: 'healthy.demo', exchange: 'mx1.healthy.demo', ip: '127.0.71.2', port}, {ehloName, relay: 'basic', mailFrom, rcptTo, limits: defaultLimits, ca});
		// The first session pays for building the secure context and compiling; count the second.
		await session();
		reads.length = 0;
		const result = await session();
		const tls = {finished: false, writes: tlsWrites(result.transcript)};
		const described = reads.map(read => describeRead(read, tls));
		const trips = described.filter(read => read.waits).length;
		const stages = Object.entries(result.stages).map(([name, stage]) => `${name} ${stage.status === 'ok' ? '' : `${stage.status} `}${fixed(stage.ms)}`).join(', ');
		return [
			`One probe (STARTTLS, relay test, PIPELINING; replies ${replyDelayMs} ms late), as the server reads it:`,
			...described.map((read, index) => `  ${String(index + 1).padStart(2)}  ${read.text}`),
			`  ${reads.length} client writes, ${trips} round trips after the greeting (fewest possible: EHLO, STARTTLS, TLS 1.3 handshake, EHLO, MAIL+RCPT+QUIT = 5)`,
			`  MAIL, RCPT and QUIT in one read: ${described.some(read => read.batch) ? 'yes' : 'NO'}`,
			`  ${fixed(result.ms)} ms in all; stages (ms): ${stages}`,
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

/** Other work on the machine skews the ratios, C's most (it wants two cores): say how much there was. */
function loadAverage(): string {
	return os.loadavg().map(value => value.toFixed(2)).join(' ');
}

function percent(value: number | undefined): string {
	return value === undefined ? '–' : `${(value * 100).toFixed(0)}%`;
}

function describe(item: Measure, label: string = item.scenario): string {
	const ui = item.renders === undefined ? '' : `, ${item.events ?? 0} events, ${item.renders} renders (Ink output ${fixed(item.inkMs)} ms), ${fixed((item.bytes ?? 0) / 1024)} KiB`;
	const lost = item.lost > 0 ? `, ${item.lost} NOT PROBED (${item.dnsFailures} DNS failures${item.udpDrops ? `, ${item.udpDrops} UDP datagrams dropped` : ''})` : '';
	const incomplete = item.incomplete > 0 ? `, ${item.incomplete} INCOMPLETE` : '';
	const busy = `busy ${percent(item.busy)}${item.workerBusy === undefined ? '' : ` (worker ${percent(item.workerBusy)})`}, CPU ${fixed(item.cpuSeconds, 1)} s (servers ${fixed(item.serverCpuSeconds, 1)} s)`;
	return `${label}: ${item.probes} probes, median ${fixed(item.median)} ms, p90 ${fixed(item.p90)} ms, ${fixed(item.wallMs / 1000, 2)} s, ${fixed(item.perSecond)}/s, loop p99 ${fixed(item.loop.p99)} ms, ${busy}${ui}${lost}${incomplete}`;
}

const scenarios = ['A', 'B', 'C'] as const;

function table(all: Measure[]): string[] {
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
const cycleOf = new WeakMap<Measure, number>();

function ratios(all: Measure[]): string[] {
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

	return [line('B'), line('C')];
}

async function main(): Promise<void> {
	const started = performance.now();
	const {domains, hosts} = layout();
	const ca = [readPem('root-ca')];
	const react = process.env.NODE_ENV === 'production' ? 'production (as the mxdash dashboard sets it)' : 'development (NODE_ENV is not production: not what mxdash runs)';
	process.stdout.write([
		`mxdash bench: ${domains.length} domains × ${hostsPerDomain} MX = ${hosts.length} addresses on 127.0.70.0/24, one STARTTLS server each (relay closed), replies ${replyDelayMs} ms late`,
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
	const worker = new WorkerEngine();
	try {
		await worker.ready();
		const context: Context = {
			domains,
			addresses: hosts.length,
			serverPids: farm.pids,
			ui,
			worker,
			round: {version: 'bench', resolvers: farm.resolvers, port: 25, ports: farm.ports, ehloName, relay: 'basic', mailFrom, rcptTo, ca, concurrency, warnDays: 21, limits: defaultLimits},
		};

		// One round each to compile the engine on both threads and the dashboard; not counted.
		for (const [label, run] of [['A', engineOnly], ['B', async (item: Context) => withDashboard(item, 'B')], ['worker alone', workerOnly]] as const) {
			process.stdout.write(`warm-up  ${describe(await run(context), label)}\n`);
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

		process.stdout.write([
			'',
			`Medians over the measured rounds (a round probes all ${hosts.length} addresses, or fewer when DNS lookups failed):`,
			...table(all),
			'',
			...ratios(all),
			'',
			'per-probe ms: result.ms, connection to close; loop: event-loop delay of the main thread during the round (10 ms resolution);',
			'busy: event-loop utilisation of the main thread / the engine\'s worker; CPU s: this process (every thread) / the two server processes;',
			'Ink ms: time in Ink\'s output step (onRender renderTime), React\'s own work not included.',
			'',
		].join('\n'));
		if (worker.stderr.includes('MaxListenersExceededWarning')) {
			process.stdout.write('note: the worker printed a MaxListenersExceededWarning (one abort listener per session on one AbortSignal);\n      in the dashboard that text goes to the terminal, over the frame.\n');
		}

		const other = worker.stderr.split('\n').filter(line => line && !line.includes('MaxListenersExceededWarning') && !line.includes('--trace-warnings'));
		if (other.length > 0) {
			process.stdout.write(`the worker's stderr:\n${other.join('\n')}\n`);
		}
	} finally {
		await worker.stop();
		await farm.stop();
	}

	process.stdout.write(`total ${fixed((performance.now() - started) / 1000, 1)} s, load average now ${loadAverage()}\n`);
}

const serveAt = process.argv.indexOf('--serve');
const role = serveAt === -1 ? undefined : process.argv[serveAt + 1];
if (role === 'smtp' || role === 'dns') {
	await serve(role);
} else {
	await main();
}
