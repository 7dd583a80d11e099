// The scale run (issue 10, "Scale"): ONE `mxdash --json --file domains.txt --concurrency 500`
// from the near side over 10,000 (MX name, address) pairs of providers' shared MX hosts on
// Postfix's scale listener (layout.ts scaleLayout). What it measures: the process's own CPU
// per probe, peak RSS and event-loop delay (scale-probe.ts, loaded with --import); its wall
// time against the network's and the CPU's share; the link under that load (echo RTT, drops,
// link.py's CPU); and, from link.py's packet log, that no IP ever had two connections at once
// and that connections to one IP began at least perIpPaceMs apart. Then Node's own floor for the
// same dialogue: bare-client.ts over the same pairs, its CPU per session beside ours.
import {execFile, spawn} from 'node:child_process';
import {createWriteStream} from 'node:fs';
import {createReadStream} from 'node:fs';
import {copyFile, mkdtemp, open, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {createInterface} from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {defaultLimits} from '../../source/core/limits.js';
import {delayMs, dnsIp, nsFar, nsNear, scaleConcurrency, scaleLayout, scalePort} from './layout.js';
import type {Row} from './layout.js';
import type {Network} from './netns.js';
import {caFile} from './postfix.js';
import {loopResolutionMs} from './scale-probe.js';
import type {ScaleStats} from './scale-probe.js';

const cli = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));
const probe = fileURLToPath(new URL('scale-probe.js', import.meta.url));
/** The whole run's hard bound: killed past it (an ideal run takes ~7 s, a CPU-bound one ~30 s). */
const hardTimeoutMs = 240_000;
/** The run's --concurrency: the issue's 500, or MXDASH_SCALE_CONCURRENCY to compare. */
const concurrency = Number(process.env['MXDASH_SCALE_CONCURRENCY'] ?? scaleConcurrency) || scaleConcurrency;
/** Round trips of one full session (TLS 1.3 + PIPELINING), as in the issue. */
const sessionRtts = 7;

export type Echo = {result: Promise<number[]>; stop(): void};

function quantile(values: number[], q: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	if (sorted.length === 0) return Number.NaN;
	return sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * q))]!;
}

const f = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

/** CPU seconds of one process so far (utime + stime from /proc, in clock ticks of 10 ms). */
async function processCpu(pid: number | undefined): Promise<number> {
	if (pid === undefined) return Number.NaN;
	const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
	const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
	return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The machine's CPU ticks: busy and total, summed over every CPU. */
async function machineCpu(): Promise<{busy: number; total: number}> {
	const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
	const ticks = line.split(/\s+/).slice(1).map(Number);
	const total = ticks.reduce((sum, value) => sum + value, 0);
	return {busy: total - ticks[3]! - ticks[4]!, total};
}

/** UDP datagrams a namespace's sockets dropped for a full receive buffer (/proc/net/snmp). */
async function udpDrops(ns: string): Promise<number> {
	return new Promise(resolve => {
		execFile('ip', ['netns', 'exec', ns, 'cat', '/proc/net/snmp'], {timeout: 5000}, (_error, stdout) => {
			const [names = '', values = ''] = stdout.split('\n').filter(line => line.startsWith('Udp:'));
			const index = names.split(' ').indexOf('RcvbufErrors');
			resolve(index > 0 ? Number(values.split(' ')[index]) : Number.NaN);
		});
	});
}

/** `overlaps`: a connection's last packet after the next one's SYN to the same IP (`aborted`: the prober had reset the earlier one). */
type Wire = {connections: number; ips: number; sharedIps: number; maxAtOnce: number; minGapMs: number; retransmittedSyns: number; overlaps: number; aborted: number; longestOverlapMs: number; queries: Map<string, number>};

/**
 * The scale listener's connections on the wire, from link.py's lines since `offset`, timed as
 * the far side saw them (a packet toward it arrives delayMs after it entered the link): the
 * most open at once to one IP, and the shortest time between two SYNs to one IP.
 */
async function onTheWire(packetLog: string, offset: number): Promise<Wire> {
	const handle = await open(packetLog);
	const connections = new Map<string, {ip: string; start: number; end: number; reset: boolean}>();
	const queries = new Map<string, number>();
	let retransmittedSyns = 0;
	try {
		const size = (await handle.stat()).size - offset;
		const buffer = Buffer.alloc(Math.max(0, size));
		await handle.read(buffer, 0, buffer.length, offset);
		const port = `:${scalePort}`;
		for (const line of buffer.toString().split('\n')) {
			const query = line.indexOf(' dns query ');
			if (query > 0) {
				const type = line.slice(query + 11).split(' ')[0]!;
				queries.set(type, (queries.get(type) ?? 0) + 1);
			}

			if (!line.includes(port)) continue;
			const [at = '', way = '', protocol = '', ends = '', flags = ''] = line.split(' ');
			if (protocol !== 'tcp') continue;
			const toFar = way === '>';
			const [from = '', to = ''] = ends.split('>');
			const near = toFar ? from : to;
			const ip = (toFar ? to : from).split(':')[0]!;
			const t = Number(at) + (toFar ? delayMs : 0);
			const key = `${ip} ${near}`;
			const known = connections.get(key);
			if (toFar && flags === 'S') {
				if (known) retransmittedSyns++;
				else connections.set(key, {ip, start: t, end: t, reset: false});
			} else if (known) {
				known.end = Math.max(known.end, t);
				if (toFar && flags.includes('R')) known.reset = true;
			}
		}
	} finally {
		await handle.close();
	}

	const byIp = new Map<string, Array<{start: number; end: number; reset: boolean}>>();
	for (const connection of connections.values()) {
		const list = byIp.get(connection.ip) ?? [];
		list.push(connection);
		byIp.set(connection.ip, list);
	}

	let maxAtOnce = 0;
	let minGapMs = Number.POSITIVE_INFINITY;
	let sharedIps = 0;
	let overlaps = 0;
	let aborted = 0;
	let longestOverlapMs = 0;
	for (const list of byIp.values()) {
		list.sort((a, b) => a.start - b.start);
		if (list.length > 1) sharedIps++;
		// A sweep: +1 at each start, −1 at each end (ends first at equal times).
		const events = list.flatMap(item => [[item.start, 1], [item.end, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
		let open = 0;
		for (const [, change] of events) {
			open += change;
			maxAtOnce = Math.max(maxAtOnce, open);
		}

		for (let index = 1; index < list.length; index++) {
			const [before, after] = [list[index - 1]!, list[index]!];
			minGapMs = Math.min(minGapMs, after.start - before.start);
			if (before.end > after.start) {
				overlaps++;
				if (before.reset) aborted++;
				longestOverlapMs = Math.max(longestOverlapMs, before.end - after.start);
			}
		}
	}

	return {connections: connections.size, ips: byIp.size, sharedIps, maxAtOnce, minGapMs, retransmittedSyns, overlaps, aborted, longestOverlapMs, queries};
}

type ScaleAddress = {ip: string; port: number; ms: number; stages: Record<string, {outcome?: string; error?: string}>; tls?: {version?: string}};
type ScaleReport = {startedAt: string; finishedAt: string; summary: {addresses: number}; domains: Array<{mx: Array<{exchange: string; addresses: ScaleAddress[]}>}>};

/**
 * The report's head and each (MX name, address) once, as probed (the report repeats a shared
 * host under every domain), read a domain at a time: its text (~1 GB for 10,000 addresses of
 * 3,000 domains) is longer than V8's longest string. mxdash writes it with a 2-space indent,
 * `domains` last.
 */
async function readReport(file: string): Promise<{report: Omit<ScaleReport, 'domains'>; addresses: ScaleAddress[]}> {
	const head: string[] = [];
	const seen = new Map<string, ScaleAddress>();
	let domain: string[] | undefined;
	let inDomains = false;
	for await (const line of createInterface({input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY})) {
		if (!inDomains) {
			inDomains = line === '  "domains": [';
			head.push(inDomains ? '  "domains": []' : line);
		} else if (line === '    {') {
			domain = [line];
		} else if (domain && (line === '    }' || line === '    },')) {
			const {mx} = JSON.parse(`${domain.join('\n')}}`) as ScaleReport['domains'][number];
			for (const host of mx) {
				for (const address of host.addresses) seen.set(`${host.exchange}|${address.ip}|${address.port}`, address);
			}

			domain = undefined;
		} else if (domain) {
			domain.push(line);
		}
	}

	return {report: JSON.parse(`${head.join('\n')}\n}`) as ScaleReport, addresses: [...seen.values()]};
}

/** The RSS (MB) and CPU time (ms) sampled last before `at` (epoch ms). */
function sampleAt(stats: ScaleStats, at: number): {rss: number; cpuMs: number} {
	const [, rss = Number.NaN, cpuMs = Number.NaN] = stats.rss.filter(([t]) => t <= at).at(-1) ?? [];
	return {rss, cpuMs};
}

type BareRun = {sessions: number; completed: number; cpuMs: number; wallMs: number; maxRssMb: number};

const bareClientJs = fileURLToPath(new URL('bare-client.js', import.meta.url));

/** bare-client.ts's run from the near side (its own bound: 10 s a session, the process 120 s). */
async function bareClient(): Promise<BareRun | undefined> {
	const ran = await new Promise<string>(resolve => {
		execFile('ip', ['netns', 'exec', nsNear, process.execPath, bareClientJs, String(scalePort), String(concurrency), caFile], {timeout: 120_000, maxBuffer: 1024 * 1024}, (_error, stdout) => {
			resolve(stdout);
		});
	});
	try {
		return JSON.parse(ran) as BareRun;
	} catch {
		return undefined;
	}
}

/** The scale run and its rows; `echo` starts the link's echo (near.ts) for the run's length. */
export async function runScale(network: Network, rtt: number, echo: () => Echo, log: (line?: string) => void): Promise<Row[]> {
	const layout = scaleLayout();
	const temporary = await mkdtemp(path.join(os.tmpdir(), 'mxdash-bench-scale-'));
	try {
		const list = path.join(temporary, 'domains.txt');
		await writeFile(list, `# the scale run: ${layout.domains.length} domains, ${layout.pairs} (MX name, address) pairs\n\n${layout.domains.map(item => item.domain).join('\n')}\n`);
		const output = path.join(temporary, 'report.json');
		const statsFile = path.join(temporary, 'stats.json');
		const profile = process.env['MXDASH_SCALE_PROFILE'];
		const args = [
			'netns', 'exec', nsNear, process.execPath, '--import', probe, ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : []), cli,
			'--json', '--file', list, '--resolver', `${dnsIp}:53`, '--ca', caFile, '--ehlo-name', 'prober.bench', '--port', String(scalePort), '--concurrency', String(concurrency),
		];
		log(`scale run: ${layout.domains.length} domains → ${layout.hosts.length} MX names → ${layout.pairs} (MX name, address) pairs on ${layout.ips} IPs; mxdash --json --file --port ${scalePort} --concurrency ${concurrency}`);

		const offset = (await stat(network.packetLog)).size;
		const udpBefore = await Promise.all([udpDrops(nsNear), udpDrops(nsFar)]);
		const linkBefore = await processCpu(network.linkPid);
		const machineBefore = await machineCpu();
		const loaded = echo();
		const started = performance.now();
		const child = spawn('ip', args, {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, MXDASH_SCALE_STATS: statsFile}});
		const sink = createWriteStream(output);
		child.stdout.pipe(sink);
		let stderr = '';
		child.stderr.on('data', (chunk: Buffer) => {
			if (stderr.length < 4096) stderr += chunk.toString();
		});
		const timer = setTimeout(() => child.kill('SIGKILL'), hardTimeoutMs);
		const code = await new Promise<number | null>(resolve => {
			child.once('close', resolve);
		});
		const wallMs = performance.now() - started;
		clearTimeout(timer);
		loaded.stop();
		const machineAfter = await machineCpu();
		const linkCpu = (await processCpu(network.linkPid)) - linkBefore;
		const echoes = await loaded.result;
		const link = await network.linkStats();
		const udpAfter = await Promise.all([udpDrops(nsNear), udpDrops(nsFar)]);
		await new Promise(resolve => {
			sink.end(resolve);
		});
		if (code === null || code === 3) throw new Error(`the scale run failed (exit ${String(code)}${code === null ? `, killed after ${hardTimeoutMs / 1000} s` : ''}): ${stderr.slice(0, 300)}`);

		// Profiling (MXDASH_SCALE_PROFILE=DIR): the report stays beside the profile, to look into.
		if (profile) await copyFile(output, path.join(profile, 'report.json'));
		const stats = JSON.parse(await readFile(statsFile, 'utf8')) as ScaleStats;
		const {report, addresses} = await readReport(output);
		const probes = addresses.length;
		const wire = await onTheWire(network.packetLog, offset);
		const tls13 = addresses.filter(address => address.tls?.version === 'TLSv1.3').length;
		const failed = addresses.filter(address => address.stages['starttls']?.outcome !== 'ok');
		const sessions = addresses.map(address => address.ms);
		const roundMs = Date.parse(report.finishedAt) - Date.parse(report.startedAt);
		const cpuMs = (stats.cpuUserUs + stats.cpuSystemUs) / 1000;
		const cpuPerProbe = cpuMs / probes;
		const networkMs = probes * sessionRtts * rtt / concurrency;
		const machine = (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total);
		const excess = (value: number) => f(Math.max(0, value - loopResolutionMs));

		log(`  exit ${code}; ${probes} probes (report: ${report.summary.addresses} addresses), ${tls13} in TLS 1.3, ${failed.length} without a STARTTLS session${failed.length > 0 ? ` (first: ${JSON.stringify(failed[0]!.stages['connect'])})` : ''}`);
		log(`  wall ${f(wallMs / 1000, 2)} s (round ${f(roundMs / 1000, 2)} s); session p50 ${f(quantile(sessions, 0.5), 0)} ms, p95 ${f(quantile(sessions, 0.95), 0)}, max ${f(Math.max(...sessions), 0)}`);
		log(`  mxdash CPU ${f(cpuMs / 1000, 2)} s (user ${f(stats.cpuUserUs / 1e6, 2)} + system ${f(stats.cpuSystemUs / 1e6, 2)}, start-up included), event loop busy ${f(stats.utilisation * 100, 0)}%; machine (${os.availableParallelism()} CPUs) busy ${f(machine * 100, 0)}% during the run; link.py CPU ${f(linkCpu, 1)} s`);
		const roundEnd = sampleAt(stats, Date.parse(report.finishedAt));
		const dnsQueries = [...wire.queries].sort((a, b) => b[1] - a[1]).map(([type, count]) => `${type} ${count}`).join(', ');
		log(`  DNS queries on the wire: ${dnsQueries} (${layout.domains.length} domains, ${layout.hosts.length} MX names, ${layout.ips} IPs); report ${f((await stat(output)).size / 1e6, 0)} MB of JSON; at the round's end RSS ${f(roundEnd.rss, 0)} MB (peak ${f(stats.maxRssKb / 1024, 0)} MB), CPU ${f(roundEnd.cpuMs / 1000, 2)} s (${f(roundEnd.cpuMs / probes, 3)} ms per probe; the rest, ${f((cpuMs - roundEnd.cpuMs) / 1000, 2)} s, is the report)`);
		log(`  link: ${link ? `${link.forwarded} packets forwarded, ${link.dropped} dropped, longest queue ${link.longestQueue}` : 'no stats'}; on the wire: ${wire.connections} connections to ${wire.ips} IPs (${wire.sharedIps} with more than one), ${wire.retransmittedSyns} SYNs retransmitted`);
		log(`  UDP datagrams dropped for a full receive buffer: near side (mxdash) ${udpAfter[0]! - udpBefore[0]!}, far side (DNS server) ${udpAfter[1]! - udpBefore[1]!}`);
		if (stderr.trim()) log(`  mxdash stderr: ${stderr.trim().split('\n')[0]!.slice(0, 200)}`);

		// Node's own floor: the same dialogue with the same pairs, from a client that does nothing else.
		const bare = await bareClient();
		const roundPerProbe = roundEnd.cpuMs / probes;
		log(`  a bare Node client (bench/net/bare-client.ts), the same dialogue and pairs, no checks: ${bare ? `${bare.completed} of ${bare.sessions} sessions completed, CPU ${f(bare.cpuMs / 1000, 2)} s (${f(bare.cpuMs / bare.sessions, 3)} ms a session), peak RSS ${f(bare.maxRssMb, 0)} MB, wall ${f(bare.wallMs / 1000, 2)} s` : 'failed'}`);

		const pace = defaultLimits.perIpPaceMs;
		return [
			{what: 'scale: (MX name, address) pairs not probed', ratio: (layout.pairs - probes) / layout.pairs, target: 0, detail: `${probes} of ${layout.pairs} probed; the rest: DNS lookups that failed`},
			{what: 'scale: CPU per probe ÷ 1.5 ms', ratio: cpuPerProbe / 1.5, target: 1, detail: `${f(cpuPerProbe, 3)} ms (process.cpuUsage ${f(cpuMs / 1000, 2)} s ÷ ${probes} probes)`},
			{what: 'scale: a bare Node client\'s CPU per session ÷ 1.5 ms', ratio: bare ? bare.cpuMs / bare.sessions / 1.5 : Number.NaN, target: null, detail: bare ? `${f(bare.cpuMs / bare.sessions, 3)} ms: Node's own floor for this dialogue (TLS 1.3 included)` : 'failed'},
			{what: 'scale: mxdash round CPU per probe ÷ the bare client\'s', ratio: bare ? roundPerProbe / (bare.cpuMs / bare.sessions) : Number.NaN, target: null, detail: `${f(roundPerProbe, 3)} ms (the round: DNS, policy lookups, checks, knowledge) vs ${bare ? f(bare.cpuMs / bare.sessions, 3) : 'n/a'} ms`},
			{what: `scale: wall ÷ (${probes} × 7 RTT ÷ ${concurrency})`, ratio: wallMs / networkMs, target: null, detail: `${f(wallMs / 1000, 2)} s vs ${f(networkMs / 1000, 2)} s`},
			{what: 'scale: wall ÷ CPU-bound time (probes × CPU/probe ÷ 1)', ratio: wallMs / cpuMs, target: null, detail: `${f(wallMs / 1000, 2)} s vs ${f(cpuMs / 1000, 2)} s (the engine is one thread: 1 CPU)`},
			{what: 'scale: peak RSS ÷ 250 MB', ratio: stats.maxRssKb / 1024 / 250, target: 1, detail: `${f(stats.maxRssKb / 1024, 0)} MB`},
			{what: 'scale: event-loop delay p99 (ms)', ratio: Math.max(0, stats.loop.p99 - loopResolutionMs), target: null, detail: `p50 ${excess(stats.loop.p50)}, p99 ${excess(stats.loop.p99)}, max ${excess(stats.loop.max)} ms beyond the ${loopResolutionMs} ms timer`},
			{what: 'scale: echo RTT under load p95 ÷ idle RTT', ratio: quantile(echoes, 0.95) / rtt, target: 1.1, detail: `p50 ${f(quantile(echoes, 0.5))}, p95 ${f(quantile(echoes, 0.95))} ms (n=${echoes.length}); ${link?.dropped ?? 'n/a'} packets dropped`},
			{what: 'scale: most connections at once to one IP', ratio: wire.maxAtOnce, target: 1, detail: `${wire.connections} connections, ${wire.sharedIps} IPs had more than one${wire.overlaps > 0 ? `; ${wire.overlaps} began before the previous one's last packet (${wire.aborted} of those reset by the prober), by up to ${f(wire.longestOverlapMs, 0)} ms` : ''}`},
			{what: `scale: ${pace} ms ÷ shortest gap between connects to one IP`, ratio: pace / wire.minGapMs, target: 1, detail: `shortest ${f(wire.minGapMs, 0)} ms (SYNs as the server saw them)`},
		];
	} finally {
		await rm(temporary, {recursive: true, force: true});
	}
}
