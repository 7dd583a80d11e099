// The far side's own servers, run inside the far namespace (`ip netns exec … node far.js`):
// the zone's DNS server on dnsIp:53, or with `echo` the TCP echo server for the link's RTT (a
// process of its own: the scale run's ~30,000 questions must not delay an echo). Prints one
// JSON line when ready; exits when stdin closes (the bench's end, or its death).
import net from 'node:net';
import process from 'node:process';
import {reverseName, startDnsServer} from '../../source/peers/dns-server.js';
import type {Zone} from '../../source/peers/dns-server.js';
import {cases, dnsIp, echoIp, echoPort, scaleLayout} from './layout.js';

const zone: Zone = {};
for (const item of cases) {
	zone[item.domain] = {MX: [[10, item.exchange]]};
	zone[item.exchange] = {A: [item.ip]};
}

// The scale run's zone: each domain's two MX hosts, their A records, a PTR per address (to
// the first name carrying it, so FCrDNS holds).
const scale = scaleLayout();
for (const {domain, mx} of scale.domains) zone[domain] = {MX: mx.map((exchange, slot): [number, string] => [10 * (slot + 1), exchange])};
for (const {exchange, ips} of scale.hosts) {
	zone[exchange] = {A: ips};
	for (const ip of ips) zone[reverseName(ip)] ??= {PTR: [exchange]};
}

/** The scale run asks ~30,000 questions, thousands at once: the default buffer (~200 datagrams) would drop them (as bench/farm.ts). */
const udpReceiveBufferBytes = 4 * 1024 * 1024;

const maxEchoBytes = 64 * 1024;
const echo = net.createServer(socket => {
	let seen = 0;
	socket.setTimeout(30_000, () => socket.destroy());
	socket.on('error', () => undefined);
	socket.on('data', chunk => {
		seen += chunk.length;
		if (seen > maxEchoBytes) socket.destroy();
		else socket.write(chunk);
	});
});
echo.maxConnections = 64;

async function listenDns(): Promise<() => Promise<void>> {
	const dns = await startDnsServer(zone, dnsIp, 53, {udpReceiveBufferBytes});
	return async () => dns.close();
}

async function listenEcho(): Promise<() => Promise<void>> {
	await new Promise<void>((resolve, reject) => {
		echo.once('error', reject);
		echo.listen(echoPort, echoIp, resolve);
	});
	return async () => {
		echo.close();
	};
}

try {
	const close = process.argv[2] === 'echo' ? await listenEcho() : await listenDns();
	process.stdout.write(`${JSON.stringify({ready: true})}\n`);
	process.stdin.resume();
	process.stdin.on('end', () => {
		void close().finally(() => process.exit(0));
	});
} catch (error) {
	process.stdout.write(`${JSON.stringify({ready: false, message: error instanceof Error ? error.message : String(error)})}\n`);
	process.exit(1);
}
