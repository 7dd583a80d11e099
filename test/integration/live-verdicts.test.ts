import net from 'node:net';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startDnsServer} from '../../source/peers/dns-server.js';
import type {DnsServer} from '../../source/peers/dns-server.js';
import {defaultLimits} from '../../source/core/limits.js';
import {probeKey} from '../../source/core/run/knowledge.js';
import {Monitor} from '../../source/core/run/monitor.js';
import type {MonitorEvent, RoundOptions} from '../../source/core/run/monitor.js';
import {Store} from '../../source/ui/store.js';

/** Loopback SMTP peers: one that relays for anybody, one that refuses, one that never greets. */
type Behaviour = 'open' | 'closed' | 'silent';
const peers: Record<Behaviour, {ip: string; server?: net.Server; port?: number}> = {
	open: {ip: '127.0.29.1'},
	closed: {ip: '127.0.29.2'},
	silent: {ip: '127.0.29.3'},
};

async function startPeer(behaviour: Behaviour): Promise<void> {
	const peer = peers[behaviour];
	const server = net.createServer(socket => {
		socket.on('error', () => undefined);
		if (behaviour === 'silent') {
			return;
		}

		socket.write('220 mx ESMTP\r\n');
		let buffer = '';
		socket.on('data', chunk => {
			buffer += chunk.toString('latin1');
			for (let lf = buffer.indexOf('\n'); lf !== -1; lf = buffer.indexOf('\n')) {
				const line = buffer.slice(0, lf).trim().toUpperCase();
				buffer = buffer.slice(lf + 1);
				if (line.startsWith('EHLO')) {
					socket.write('250-mx\r\n250 PIPELINING\r\n');
				} else if (line.startsWith('RCPT')) {
					socket.write(behaviour === 'open' ? '250 ok\r\n' : '554 5.7.1 relay denied\r\n');
				} else if (line === 'QUIT') {
					socket.end('221 bye\r\n');
				} else {
					socket.write('250 ok\r\n');
				}
			}
		});
	});
	await new Promise<void>(resolve => {
		server.listen(0, peer.ip, resolve);
	});
	peer.server = server;
	peer.port = (server.address() as net.AddressInfo).port;
}

const key = (behaviour: Behaviour): string => probeKey(`${behaviour}.mx.test`, peers[behaviour].ip, peers[behaviour].port!);

describe('live, consistent verdicts', () => {
	let dns: DnsServer;
	let options: RoundOptions;

	beforeAll(async () => {
		await Promise.all((['open', 'closed', 'silent'] as const).map(async behaviour => startPeer(behaviour)));
		dns = await startDnsServer({
			'relay.test': {MX: [[10, 'open.mx.test']]},
			'slow.test': {MX: [[10, 'closed.mx.test'], [20, 'silent.mx.test']]},
			'open.mx.test': {A: [peers.open.ip]},
			'closed.mx.test': {A: [peers.closed.ip]},
			'silent.mx.test': {A: [peers.silent.ip]},
		});
		options = {
			version: 'test', resolvers: [dns.address], port: 25, ports: Object.fromEntries(Object.values(peers).map(peer => [peer.ip, peer.port!])),
			ehloName: 'probe.mxdash.test', relay: 'basic', mailFrom: 'a@example.org', rcptTo: 'b@example.net', concurrency: 8, warnDays: 21,
			limits: {...defaultLimits, bannerMs: 1500, commandMs: 3000},
		};
	});

	afterAll(async () => {
		await dns?.close();
		for (const peer of Object.values(peers)) {
			peer.server?.close();
		}
	});

	it('judges a domain as soon as its own hosts are done, not when the slowest host of the round is', async () => {
		const events: MonitorEvent[] = [];
		await new Monitor(options, event => events.push(event)).round(['slow.test', 'relay.test']);
		const at = (predicate: (event: MonitorEvent) => boolean): number => events.findIndex(event => predicate(event));
		const relayJudged = at(event => event.type === 'domain' && event.domain === 'relay.test' && event.verdict.status === 'critical');
		const silentDone = at(event => event.type === 'verdict' && event.key === key('silent'));
		const slowJudged = at(event => event.type === 'domain' && event.domain === 'slow.test' && event.verdict.status !== undefined);
		expect(relayJudged).toBeGreaterThan(-1);
		expect(silentDone).toBeGreaterThan(relayJudged);
		expect(slowJudged).toBeGreaterThan(silentDone);
		// Before its last host was done, slow.test had no verdict but its first host had one.
		const early = events.slice(0, silentDone).filter(event => event.type === 'domain' && event.domain === 'slow.test');
		expect(early.every(event => event.type === 'domain' && event.verdict.status === undefined)).toBe(true);
		expect(at(event => event.type === 'verdict' && event.key === key('closed'))).toBeLessThan(silentDone);
		const relay = events[relayJudged];
		expect(relay?.type === 'domain' && relay.verdict.counts.critical).toBeGreaterThan(0);
		expect(at(event => event.type === 'round-done')).toBeGreaterThan(slowJudged);
	});

	it('changes only the re-probed host and the domains that contain it, and the header counts stay true', async () => {
		const events: MonitorEvent[] = [];
		const monitor = new Monitor(options, event => events.push(event));
		const store = new Store([{domain: 'relay.test', input: 'relay.test'}, {domain: 'slow.test', input: 'slow.test'}], 0);
		const domains = ['relay.test', 'slow.test'];
		await monitor.round(domains);
		for (const event of events.splice(0)) {
			store.apply(event);
		}

		store.flush();
		const before = {report: monitor.report(), snapshot: store.getSnapshot()};
		await monitor.round(domains, {only: [key('closed')]});
		for (const event of events.splice(0)) {
			store.apply(event);
		}

		store.flush();
		const after = {report: monitor.report(), snapshot: store.getSnapshot()};
		const address = (report: typeof before.report, domain: string, index: number) => report.domains.find(item => item.domain === domain)!.mx[index]!.addresses[0]!;
		// The re-probed host has a new session; nothing else was probed again.
		expect(address(after.report, 'slow.test', 0).startedAt).not.toBe(address(before.report, 'slow.test', 0).startedAt);
		expect(address(after.report, 'slow.test', 1)).toEqual(address(before.report, 'slow.test', 1));
		expect(after.report.domains.find(item => item.domain === 'relay.test')).toEqual(before.report.domains.find(item => item.domain === 'relay.test'));
		// Every verdict and count is what it was: the same servers gave the same answers.
		expect(after.report.summary).toEqual(before.report.summary);
		expect(after.report.domains.map(item => item.status)).toEqual(['critical', 'critical']);
		expect(after.snapshot.counts).toEqual(before.snapshot.counts);
		expect(after.snapshot.counts.critical).toBe(before.report.summary.findings.critical);
		expect(after.snapshot.domains.map(item => item.status)).toEqual(before.snapshot.domains.map(item => item.status));
		// The host whose facts did not change keeps its object (rows can be memoised).
		expect(after.snapshot.hosts.get(key('open'))).toBe(before.snapshot.hosts.get(key('open')));
	});
});
