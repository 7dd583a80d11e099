// Builds and removes the bench network: the two namespaces, the delay link (link.py, a child
// process), the far side's DNS and echo servers (far.js) and Postfix. Everything made here is
// removed by the returned teardown, which is also safe to run when set-up failed half way.
import {execFile, spawn} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {existsSync} from 'node:fs';
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {delayMs, dnsIp, farAddresses, farIp, nearIp, nsFar, nsNear, scaleRange} from './layout.js';
import {runDir, startPostfix, stopPostfix} from './postfix.js';

const run = promisify(execFile);
const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
// link.py is not compiled: it sits beside this file's source in bench/net/.
const linkPy = fileURLToPath(new URL('../../../bench/net/link.py', import.meta.url));
/** `ip netns exec` bind-mounts this over /etc/resolv.conf for the near side (swaks, posttls-finger). */
const resolvDir = `/etc/netns/${nsNear}`;

async function ip(args: string[]): Promise<void> {
	await run('ip', args, {timeout: 10_000});
}

/** Starts `command`, resolves with it once its first stdout line passes `ready`, or rejects. */
async function startChild(command: string, args: string[], ready: (line: string) => boolean, what: string): Promise<ChildProcess> {
	const child = spawn(command, args, {stdio: ['pipe', 'pipe', 'inherit']});
	return new Promise((resolve, reject) => {
		let text = '';
		const timer = setTimeout(() => {
			child.kill();
			reject(new Error(`${what} not ready within 10 s`));
		}, 10_000);
		child.stdout!.on('data', (chunk: Buffer) => {
			text += chunk.toString();
			if (!text.includes('\n')) return;
			clearTimeout(timer);
			if (ready(text.split('\n')[0]!)) resolve(child);
			else {
				child.kill();
				reject(new Error(`${what} failed: ${text.trim()}`));
			}
		});
		child.once('exit', code => {
			clearTimeout(timer);
			reject(new Error(`${what} exited (${code ?? 'signal'})`));
		});
	});
}

/** Closes the child's stdin (its signal to stop), then kills it if it has not exited in 3 s. */
async function stopChild(child: ChildProcess | undefined): Promise<void> {
	if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise(resolve => child.once('exit', resolve));
	child.stdin?.end();
	const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
	await exited;
	clearTimeout(timer);
}

async function removeNamespaces(): Promise<void> {
	for (const name of [nsNear, nsFar]) {
		if (existsSync(`/var/run/netns/${name}`)) await ip(['netns', 'delete', name]).catch(() => undefined);
	}
}

/**
 * `command` at a real-time priority (SCHED_RR, chrt from util-linux): for the wire and the echo
 * that measures it, so that on 2 CPUs busy with mxdash, Postfix and the DNS server a packet
 * waits for the link's delay, not for a turn on a CPU. They sleep between packets: a few % of one CPU.
 */
export function realTime(command: string, args: string[]): [string, string[]] {
	return ['chrt', ['--rr', '10', command, ...args]];
}

export type LinkStats = {forwarded: number; dropped: number; longestQueue: number};

/**
 * `packetLog`: link.py's line per packet (monotonic ms, the clock of process.hrtime);
 * `linkStats`: its counters so far; `linkPid`: its process (to read its CPU time).
 */
export type Network = {packetLog: string; linkPid: number | undefined; linkStats(): Promise<LinkStats | undefined>; teardown(): Promise<void>};

/** Asks link.py for its counters (a line on its stdin, a JSON line back), within 2 s. */
async function askLink(link: ChildProcess): Promise<LinkStats | undefined> {
	return new Promise(resolve => {
		let text = '';
		const done = (stats: LinkStats | undefined) => {
			clearTimeout(timer);
			link.stdout?.off('data', onData);
			resolve(stats);
		};

		const onData = (chunk: Buffer) => {
			text += chunk.toString();
			const line = text.split('\n').find(item => item.startsWith('{'));
			if (line !== undefined && text.includes('\n')) done(JSON.parse(line) as LinkStats);
		};

		const timer = setTimeout(() => {
			done(undefined);
		}, 2000);
		link.stdout?.on('data', onData);
		link.stdin?.write('stats\n');
	});
}

export async function setUpNetwork(log: (line: string) => void): Promise<Network> {
	let link: ChildProcess | undefined;
	let far: ChildProcess | undefined;
	let echo: ChildProcess | undefined;
	const temporary = await mkdtemp(path.join(os.tmpdir(), 'mxdash-bench-net-'));
	const packetLog = path.join(temporary, 'packets.log');
	const teardown = async (): Promise<void> => {
		await stopPostfix();
		await stopChild(far);
		await stopChild(echo);
		await stopChild(link);
		await removeNamespaces();
		await rm(resolvDir, {recursive: true, force: true});
		await rm(runDir, {recursive: true, force: true});
		await rm(temporary, {recursive: true, force: true});
	};

	try {
		// A run killed before its teardown leaves these behind: start clean.
		if (existsSync(`/var/run/netns/${nsFar}`)) await stopPostfix();
		await removeNamespaces();
		await ip(['netns', 'add', nsNear]);
		await ip(['netns', 'add', nsFar]);
		link = await startChild(...realTime('python3', [linkPy, nsNear, nsFar, String(delayMs), packetLog]), line => line === 'ready', 'the delay link');
		for (const [ns, device, address] of [[nsNear, 'mxb0', nearIp], [nsFar, 'mxb1', farIp]] as const) {
			await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
			await ip(['-n', ns, 'address', 'add', `${address}/16`, 'dev', device]);
			// The scale run has ~1,000 packets in flight each way: the default 500 could drop.
			await ip(['-n', ns, 'link', 'set', device, 'txqueuelen', '10000', 'up']);
		}

		// The scale run's 16,384 addresses: all local to the far side (AnyIP); the near side's
		// /16 on its TUN already sends them over the link.
		await ip(['-n', nsFar, 'route', 'add', 'local', scaleRange, 'dev', 'lo']);

		for (const address of farAddresses.filter(item => item !== farIp)) await ip(['-n', nsFar, 'address', 'add', `${address}/32`, 'dev', 'mxb1']);
		await mkdir(resolvDir, {recursive: true});
		await writeFile(`${resolvDir}/resolv.conf`, `nameserver ${dnsIp}\noptions timeout:2 attempts:1\n`);
		far = await startChild('ip', ['netns', 'exec', nsFar, process.execPath, here('far.js')], line => line.includes('"ready":true'), 'the far DNS server');
		echo = await startChild(...realTime('ip', ['netns', 'exec', nsFar, process.execPath, here('far.js'), 'echo']), line => line.includes('"ready":true'), 'the far echo server');
		await startPostfix();
		log(`network: ${nsNear} (${nearIp}) ⇄ link.py ${delayMs} ms each way ⇄ ${nsFar} (${farAddresses.join(', ')}); Postfix, DNS on ${dnsIp}:53, TCP echo`);
		const started = link;
		return {packetLog, linkPid: link.pid, linkStats: async () => askLink(started), teardown};
	} catch (error) {
		await teardown();
		throw error;
	}
}
