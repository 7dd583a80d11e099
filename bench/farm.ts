// The servers the benchmark probes, in two child processes (bench/serve.ts): one scripted
// STARTTLS server per address, and the zone's DNS server. In processes of their own, neither the
// dashboard nor the engine delays their answers. Both are the shared peers of source/peers/.
import {fork} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {once} from 'node:events';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {reverseName, startDnsServer} from '../source/peers/dns-server.js';
import type {Zone} from '../source/peers/dns-server.js';
import {startSmtpServer} from '../source/peers/smtp-server.js';
import {dnsHost, healthyTls, layout, replyDelayMs} from './setup.js';
import type {Host} from './setup.js';

export type Role = 'smtp' | 'dns';

type FarmMessage = {type: 'ready'; resolvers: string[]; ports: Record<string, number>} | {type: 'failed'; message: string};

export type Farm = {resolvers: string[]; ports: Record<string, number>; pids: number[]; stop(): Promise<void>};

/**
 * A round asks ~650 questions at once: the default UDP receive buffer (~200 datagrams)
 * overflowed even in a process of its own, each lost question costing c-ares a 3 s retry or
 * the lookup. A real resolver would not drop them.
 */
const udpReceiveBufferBytes = 4 * 1024 * 1024;

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

/** The child's side: start the servers of `role`, say where they are, stop when told. */
export async function serveRole(role: Role): Promise<void> {
	const {domains, hosts} = layout();
	const servers: Array<{close(): Promise<void>}> = [];
	const send = (message: FarmMessage): void => {
		process.send?.(message);
	};

	try {
		if (role === 'dns') {
			const dns = await startDnsServer(zoneOf(domains, hosts), dnsHost, 0, {udpReceiveBufferBytes});
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

async function startChild(role: Role): Promise<Farm> {
	const child: ChildProcess = fork(fileURLToPath(new URL('serve.js', import.meta.url)), [role], {stdio: ['ignore', 'inherit', 'inherit', 'ipc']});
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

/** Both child processes, started side by side; if one fails, the other is stopped too. */
export async function startFarm(): Promise<Farm> {
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
