// Issue 10's measurement over a real delay link: mxdash against a real Postfix two namespaces
// away (~50 ms RTT, bench/net/link.py), beside swaks and posttls-finger on the same hosts.
// Run as root: `npm run bench -- --net` (or MXDASH_BENCH=net npm run bench).
import {execFile, spawn} from 'node:child_process';
import {open, stat, writeFile} from 'node:fs/promises';
import os from 'node:os';
import {performance} from 'node:perf_hooks';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {cases, delayMs, dnsIp, nsNear, scaleLayout, scalePort} from './layout.js';
import type {Case, Row} from './layout.js';
import {realTime, setUpNetwork} from './netns.js';
import {caFile, fingerConfigDir} from './postfix.js';
import {runScale} from './scale.js';

const cli = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));
const near = fileURLToPath(new URL('near.js', import.meta.url));
const outText = fileURLToPath(new URL('../../../bench/net/last-run.txt', import.meta.url));
const outJson = fileURLToPath(new URL('../../../bench/net/last-run.json', import.meta.url));
const plot = fileURLToPath(new URL('../../../bench/net/plot.mjs', import.meta.url));
const runTimeoutMs = 30_000;
const fastRuns = 20; // p50 and p95 of the session
const runs = 5; // medians of 5 everywhere else

type Ran = {ms: number; code: number | undefined; stdout: string; stderr: string};

/** Runs a command to its end (bounded), timing it by the wall clock. */
async function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env, input = ''): Promise<Ran> {
	const started = performance.now();
	return new Promise(resolve => {
		const child = execFile(command, args, {timeout: runTimeoutMs, maxBuffer: 8 * 1024 * 1024, env}, (error, stdout, stderr) => {
			const code = error === null ? 0 : (typeof error.code === 'number' ? error.code : undefined);
			resolve({ms: performance.now() - started, code, stdout, stderr});
		});
		child.stdin?.end(input);
	});
}

const inNear = async (args: string[], env?: NodeJS.ProcessEnv, input?: string) => timed('ip', ['netns', 'exec', nsNear, ...args], env, input);

function quantile(values: number[], q: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	if (sorted.length === 0) return Number.NaN;
	const index = (sorted.length - 1) * q;
	const low = Math.floor(index);
	return sorted[low]! + ((sorted[Math.min(low + 1, sorted.length - 1)]! - sorted[low]!) * (index - low));
}

const median = (values: number[]) => quantile(values, 0.5);
const f = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

type Stage = {startedAt?: number; ms?: number};
type Address = {startedAt: string; ms: number; stages: Record<string, Stage>; transcript: Array<{t: number; dir: string; text?: string}>; tls?: {version?: string}; ehlo?: {extensions?: Array<{keyword: string}>}};
type Session = {wall: number; ms: number; toConnect: number; stages: Record<string, Stage>; lastLine: number; protocol: string; pipelining: boolean; exit: number | undefined};

/**
 * One `mxdash --json` run from the near side, and what its report says about the session.
 * `fromList`: the domain read from standard input (`--file -`), which the entry point does not
 * prefetch: the engine's own resolution, as every round of the dashboard and --file has it.
 */
async function mxdash(item: Case, fromList = false): Promise<Session | string> {
	const options = ['--json', '--resolver', `${dnsIp}:53`, '--ca', caFile, '--ehlo-name', 'prober.bench'];
	const ran = await inNear([process.execPath, cli, ...options, ...(fromList ? ['--file', '-'] : [item.domain])], undefined, fromList ? `${item.domain}\n` : '');
	try {
		const report = JSON.parse(ran.stdout) as {startedAt: string; domains: Array<{mx: Array<{addresses: Address[]}>}>};
		const address = report.domains[0]?.mx[0]?.addresses[0];
		if (address === undefined) return `no address probed (exit ${String(ran.code)}): ${ran.stderr.slice(0, 300)}`;
		const connect = address.stages['connect']?.startedAt ?? 0;
		return {
			wall: ran.ms,
			ms: address.ms,
			toConnect: Date.parse(address.startedAt) + connect - Date.parse(report.startedAt),
			stages: address.stages,
			lastLine: Math.max(...address.transcript.map(line => line.t)),
			protocol: address.tls?.version ?? 'none',
			pipelining: address.ehlo?.extensions?.some(extension => extension.keyword === 'PIPELINING') ?? false,
			exit: ran.code,
		};
	} catch {
		return `no JSON (exit ${String(ran.code)}): ${ran.stderr.slice(0, 300)}`;
	}
}

const swaks = async (item: Case) => inNear(['swaks', '--to', `x@${item.domain}`, '--tls', '--pipeline', '--quit-after', 'RCPT', '--helo', 'prober.bench']);
// posttls-finger reads a main.cf (not the server's: its inet_interfaces are not on this side).
const finger = async (item: Case) => inNear(['/usr/sbin/posttls-finger', '-c', '-l', 'may', item.domain], {...process.env, MAIL_CONFIG: fingerConfigDir});

/** The link's RTT from the near side: `connect N` or `echo MS` (the latter until stopped). */
function nearRtt(mode: 'connect' | 'echo', value: number): {result: Promise<number[]>; stop(): void} {
	const child = spawn(...realTime('ip', ['netns', 'exec', nsNear, process.execPath, near, mode, String(value)]), {stdio: ['pipe', 'pipe', 'inherit']});
	let text = '';
	child.stdout.on('data', (chunk: Buffer) => {
		text += chunk.toString();
	});
	const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
	const result = new Promise<number[]>(resolve => {
		child.once('exit', () => {
			clearTimeout(timer);
			try {
				resolve((JSON.parse(text) as {samples: number[]}).samples);
			} catch {
				resolve([]);
			}
		});
	});
	return {result, stop: () => child.stdin.end()};
}

// How many round trips each stage needs on the wire, by case (see the issue's 7 / 8 / 9).
function networkShare(item: Case): Record<string, number> {
	return {connect: 1, banner: 1, ehlo: 1, starttls: 1, tls: item.key === 'tls12' ? 2 : 1, ehloTls: 1, relay: item.key === 'nopipe' ? 2 : 1, quit: item.key === 'nopipe' ? 1 : 0};
}

function lastLine(ran: Ran): string {
	return `${ran.stdout}${ran.stderr}`.trim().split('\n').filter(Boolean).at(-1)?.slice(0, 160) ?? '(no output)';
}

const hrMs = () => Number(process.hrtime.bigint()) / 1e6;

type Packet = {t: number; text: string};

/** Runs `action`; its result and the packets link.py saw meanwhile, timed from the spawn. */
async function packetsDuring<T>(packetLog: string, action: () => Promise<T>): Promise<{result: T; packets: Packet[]; ended: number}> {
	const before = (await stat(packetLog)).size;
	const spawned = hrMs();
	const result = await action();
	const ended = hrMs() - spawned;
	// link.py writes a line per packet as it arrives: let the last ones reach the file.
	await new Promise(resolve => {
		setTimeout(resolve, 100);
	});
	const handle = await open(packetLog);
	try {
		const size = Math.min((await handle.stat()).size - before, 1024 * 1024);
		const buffer = Buffer.alloc(Math.max(0, size));
		await handle.read(buffer, 0, buffer.length, before);
		const packets = buffer.toString().split('\n').filter(Boolean).map(line => {
			const [at = '0', ...rest] = line.split(' ');
			return {t: Number(at) - spawned, text: rest.join(' ')};
		}).filter(packet => packet.t <= ended);
		return {result, packets, ended};
	} finally {
		await handle.close();
	}
}

/** The first MX question on the wire to the first SYN to port 25: resolution → connect, whenever it started. */
function resolutionToConnect(packets: Packet[]): number {
	const query = packets.find(packet => packet.text.includes('dns query MX'))?.t ?? Number.NaN;
	return (packets.find(packet => packet.text.includes(':25 S'))?.t ?? Number.NaN) - query;
}

/** Runs `action` and summarises the packets link.py saw meanwhile, timed from the spawn. */
async function onTheWire(packetLog: string, action: () => Promise<unknown>): Promise<{summary: string; lines: string[]}> {
	const {packets, ended} = await packetsDuring(packetLog, action);
	const first = packets[0]?.t ?? Number.NaN;
	const firstTcp = packets.find(packet => packet.text.includes(':25 S'))?.t ?? Number.NaN;
	const last = packets.at(-1)?.t ?? Number.NaN;
	const queries = packets.filter(packet => packet.text.includes('dns query')).length;
	return {
		summary: `exited at ${f(ended, 0)}; first packet at ${f(first, 0)} (start-up before it), ${queries} DNS queries, SYN to port 25 at ${f(firstTcp, 0)}, last packet at ${f(last, 0)} (${packets.length} packets)`,
		lines: packets.slice(0, 80).map(packet => `${f(packet.t, 1).padStart(7)}  ${packet.text}`),
	};
}

const within = (row: Row) => row.target === null || row.ratio <= row.target;

function printRows(rows: Row[], log: (line?: string) => void): void {
	const width = Math.max(...rows.map(row => row.what.length));
	log(`${'what'.padEnd(width)}  ratio  target   measured`);
	for (const row of rows) log(`${row.what.padEnd(width)}  ${f(row.ratio, 3).padStart(5)}  ${row.target === null ? '  (none)' : `≤ ${f(row.target, 2)} ${within(row) ? '✓' : '✗'}`}  ${row.detail}`);
}

/**
 * The whole network bench: 0 when every row is within its target, 1 when one is not, 2 when it
 * could not run. `scaleOnly`: just the scale run (to iterate on it), nothing written.
 */
export async function runNetBench(scaleOnly = false): Promise<number> {
	try {
		return await (scaleOnly ? measureScale() : measure());
	} catch (error) {
		process.stderr.write(`mxdash network bench: ${error instanceof Error ? error.message : String(error)}\n`);
		return 2;
	}
}

async function measure(): Promise<number> {
	const lines: string[] = [];
	const log = (line = '') => {
		lines.push(line);
		process.stdout.write(`${line}\n`);
	};

	const started = performance.now();
	log(`mxdash network bench, ${new Date().toISOString()}, Node ${process.version}, ${os.availableParallelism()} CPUs, load average ${os.loadavg().map(value => value.toFixed(2)).join(' ')}`);
	// Ctrl-C stops the measuring; the teardown below still runs (a second one kills, as usual).
	let interrupted = false;
	const onSignal = () => {
		interrupted = true;
	};

	process.once('SIGINT', onSignal);
	const network = await setUpNetwork(log).catch((error: unknown) => {
		process.off('SIGINT', onSignal);
		throw error;
	});
	const rows: Row[] = [];
	try {
		const rtt = await linkReady(log);

		// Probe phase: an echo every 20 ms the whole time, to show the link is not the bottleneck.
		const loaded = nearRtt('echo', 20);
		const sessions = new Map<Case['key'], Session[]>();
		const peers = new Map<Case['key'], {swaks: number[]; finger: number[]; codes: string[]; why: string}>();
		const failures: string[] = [];
		const resolutions: Array<{wire: number; report: number}> = [];
		// Warm-up: one of each, not counted (page cache, Postfix's first smtpd).
		for (const item of cases) await Promise.all([mxdash(item)]).then(async () => swaks(item)).then(async () => finger(item));
		for (const item of cases) {
			const list: Session[] = [];
			const side = {swaks: [] as number[], finger: [] as number[], codes: [] as string[], why: ''};
			const count = item.key === 'fast' ? fastRuns : runs;
			for (let index = 0; index < count && !interrupted; index++) {
				const session = await mxdash(item);
				if (index < runs && item.key === 'fast') {
					// Resolution → connect on the wire, in a run whose resolution is the engine's own.
					const listed = await packetsDuring(network.packetLog, async () => mxdash(item, true));
					if (typeof listed.result === 'string') failures.push(`${item.domain} (--file -): ${listed.result}`);
					else resolutions.push({wire: resolutionToConnect(listed.packets), report: listed.result.toConnect});
				}

				if (typeof session === 'string') failures.push(`${item.domain}: ${session}`);
				else list.push(session);
				if (index < runs) {
					const s = await swaks(item);
					const p = await finger(item);
					side.swaks.push(s.ms);
					side.finger.push(p.ms);
					side.codes.push(`${String(s.code)}/${String(p.code)}`);
					// The last words of a failing peer, once per case: why it exited non-zero.
					if (side.why === '' && (s.code !== 0 || p.code !== 0)) side.why = [s, p].filter(ran => ran.code !== 0).map(ran => `${ran === s ? 'swaks' : 'posttls-finger'}: ${lastLine(ran)}`).join('; ');
				}
			}

			sessions.set(item.key, list);
			peers.set(item.key, side);
		}

		loaded.stop();
		const loadedEcho = await loaded.result;
		// Interrupted: no table from partial samples, and last-run.* keep the previous run.
		if (interrupted) throw new Error('interrupted (SIGINT): the network is removed, nothing written');
		log(`link RTT under load (while the probes ran): TCP echo p50 ${f(median(loadedEcho))} ms, p95 ${f(quantile(loadedEcho, 0.95))} ms, max ${f(Math.max(...loadedEcho))} (n=${loadedEcho.length})`);
		for (const failure of failures) log(`failed run: ${failure}`);

		// Start-up: root namespace, no network at all.
		const version: number[] = [];
		const bare: number[] = [];
		for (let index = 0; index < runs; index++) {
			version.push((await timed(process.execPath, [cli, '--version'])).ms);
			bare.push((await timed(process.execPath, ['-e', '0'])).ms);
		}

		const fast = sessions.get('fast') ?? [];
		const fastSessions = fast.map(item => item.ms);
		rows.push(
			{what: 'SMTP session ÷ (7 × RTT), p50', ratio: median(fastSessions) / (7 * rtt), target: 1.03, detail: `${f(median(fastSessions))} ms, n=${fast.length}`},
			{what: 'SMTP session ÷ (7 × RTT), p95', ratio: quantile(fastSessions, 0.95) / (7 * rtt), target: 1.08, detail: `${f(quantile(fastSessions, 0.95))} ms`},
			{what: 'resolution start → connect ÷ (2 × RTT)', ratio: median(resolutions.map(item => item.wire)) / (2 * rtt), target: 1.05, detail: `${f(median(resolutions.map(item => item.wire)))} ms (first MX query → SYN on the wire, --file -; report startedAt → connect ${f(median(resolutions.map(item => item.report)))} ms)`},
		);
		const fastPeers = peers.get('fast');
		const mxWall = median(fast.slice(0, runs).map(item => item.wall));
		rows.push(
			{what: 'mxdash --json wall ÷ swaks wall', ratio: mxWall / median(fastPeers?.swaks ?? []), target: 0.9, detail: `${f(mxWall)} vs ${f(median(fastPeers?.swaks ?? []))} ms`},
			{what: 'mxdash --version ÷ node -e 0', ratio: median(version) / median(bare), target: 1.5, detail: `${f(median(version))} vs ${f(median(bare))} ms`},
		);
		for (const item of cases.filter(item => item.key !== 'fast' && item.key !== 'tickets')) {
			const list = (sessions.get(item.key) ?? []).map(session => session.ms);
			rows.push({what: `${item.label}: session ÷ (${item.rtts} × RTT)`, ratio: median(list) / (item.rtts * rtt), target: 1.03, detail: `${f(median(list))} ms, n=${list.length}`});
		}

		// The scale run last, so that its load touches none of the rows above.
		log();
		try {
			rows.push(...await runScale(network, rtt, () => nearRtt('echo', 20), log));
		} catch (error) {
			// The other rows still count; a failed scale run is a row that fails.
			const message = error instanceof Error ? error.message : String(error);
			log(`scale run failed: ${message}`);
			rows.push({what: 'scale run', ratio: Number.NaN, target: 0, detail: message.slice(0, 120)});
		}

		log();
		log(`RTT = ${f(rtt)} ms (idle TCP echo, this run). Medians of ${runs} unless marked; the session p50/p95 over ${fastRuns}; the scale rows from one run.`);
		printRows(rows, log);

		const tickets = (sessions.get('tickets') ?? []).map(session => session.ms);
		log(`not a target: Postfix's default TLS 1.3 session tickets: session ÷ (7 × RTT) ${f(median(tickets) / (7 * rtt), 3)} (${f(median(tickets))} ms, n=${tickets.length}); swaks and posttls-finger pay the same round trip there`);

		log();
		log('Per stage (p50 ms; excess = stage − its round trips × RTT):');
		for (const item of cases) {
			const list = sessions.get(item.key) ?? [];
			const share = networkShare(item);
			const cells = Object.entries(share).map(([name, trips]) => {
				const values = list.map(session => session.stages[name]?.ms).filter((value): value is number => typeof value === 'number');
				return `${name} ${f(median(values), 0)} (${trips}×, +${f(median(values) - (trips * rtt), 0)})`;
			});
			const protocol = list[0] ? `${list[0].protocol}, PIPELINING ${list[0].pipelining ? 'offered' : 'not offered'}` : 'no session';
			log(`  ${item.label} [${protocol}]: ${cells.join(' · ')}; session ${f(median(list.map(session => session.ms)), 0)}, last transcript line at ${f(median(list.map(session => session.lastLine)), 0)}`);
		}

		log();
		log('Side by side, same hosts, wall ms p50 (each tool doing its own MX lookup; exit codes swaks/posttls-finger):');
		for (const item of cases) {
			const list = sessions.get(item.key) ?? [];
			const side = peers.get(item.key);
			log(`  ${item.domain.padEnd(13)} mxdash --json ${f(median(list.slice(0, runs).map(session => session.wall)), 0)} · swaks ${f(median(side?.swaks ?? []), 0)} · posttls-finger ${f(median(side?.finger ?? []), 0)}  (${side?.codes.join(' ') ?? ''})`);
			if (side?.why) log(`    ${side.why}`);
		}

		log();
		log('On the wire, one more run of each on fast.bench (link.py\'s packet log: ms since the process was spawned, when the packet');
		log(`ENTERED the link, so it arrives ${delayMs} ms later; > toward the far side, < back):`);
		const fastCase = cases[0]!;
		for (const [name, action] of [['mxdash --json', async () => mxdash(fastCase)], ['swaks', async () => swaks(fastCase)], ['posttls-finger', async () => finger(fastCase)]] as const) {
			const trace = await onTheWire(network.packetLog, action);
			log(`  ${name}: ${trace.summary}`);
			for (const line of trace.lines) log(`    ${line}`);
		}

		log();
		log(`total ${f((performance.now() - started) / 1000)} s`);
		await writeFile(outText, `${lines.join('\n')}\n`);
		await writeFile(outJson, `${JSON.stringify({date: new Date().toISOString(), rtt, rows}, null, '\t')}\n`);
		const plotted = await timed(process.execPath, [plot]);
		process.stdout.write(plotted.code === 0 ? plotted.stdout : `the plot failed: ${lastLine(plotted)}\n`);
		return rows.every(row => within(row)) ? 0 : 1;
	} finally {
		process.off('SIGINT', onSignal);
		await network.teardown();
	}
}

/** Every listener greets (the scale one on one of its addresses); then the link's idle RTT. */
async function linkReady(log: (line?: string) => void): Promise<number> {
	const scaleIp = scaleLayout().hosts[0]!.ips[0]!;
	const greeted = await Promise.all([...cases.map(async item => inNear([process.execPath, near, 'greet', item.ip])), inNear([process.execPath, near, 'greet', scaleIp, String(scalePort)])]);
	if (greeted.some(ran => ran.code !== 0)) throw new Error(`Postfix did not greet: ${greeted.map(ran => ran.stdout.trim()).join(' ')}`);
	const connects = await nearRtt('connect', 20).result;
	const idle = nearRtt('echo', 20);
	setTimeout(idle.stop, 2000);
	const idleEcho = await idle.result;
	const rtt = median(idleEcho);
	log(`link RTT, idle: TCP echo p50 ${f(rtt)} ms (n=${idleEcho.length}, max ${f(Math.max(...idleEcho))}); TCP connect p50 ${f(median(connects))} ms (n=${connects.length})`);
	if (!Number.isFinite(rtt)) throw new Error('the link gives no RTT');
	return rtt;
}

/** The scale run alone (MXDASH_BENCH=scale, or --net --scale): printed, last-run.* untouched. */
async function measureScale(): Promise<number> {
	const log = (line = '') => {
		process.stdout.write(`${line}\n`);
	};

	log(`mxdash network bench, scale run only, ${new Date().toISOString()}, Node ${process.version}, ${os.availableParallelism()} CPUs, load average ${os.loadavg().map(value => value.toFixed(2)).join(' ')}`);
	const network = await setUpNetwork(log);
	try {
		const rtt = await linkReady(log);
		const rows = await runScale(network, rtt, () => nearRtt('echo', 20), log);
		log();
		printRows(rows, log);
		return rows.every(row => within(row)) ? 0 : 1;
	} finally {
		await network.teardown();
	}
}
