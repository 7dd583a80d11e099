import net from 'node:net';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startDnsServer} from '../../source/peers/dns-server.js';
import type {DnsServer} from '../../source/peers/dns-server.js';
import {defaultLimits} from '../../source/core/limits.js';
import {runRound} from '../../source/core/run/monitor.js';
import type {MonitorEvent, RoundOptions} from '../../source/core/run/monitor.js';

const ips = ['127.0.28.1', '127.0.28.2', '127.0.28.3'];

/** A tiny SMTP server that greets after a pause, so sessions overlap if anything runs them at once. */
type Peer = {server: net.Server; port: number; sessions: number};
let active = 0;
let maxActive = 0;
const perIp = new Map<string, {active: number; max: number}>();


/** `brokenTls`: STARTTLS is offered and answered 220, then plaintext comes where the handshake should. */
async function startPeer(ip: string, {brokenTls = false} = {}): Promise<Peer> {
	const peer: Peer = {server: net.createServer(), port: 0, sessions: 0};
	const counter = {active: 0, max: 0};
	perIp.set(ip, counter);
	peer.server.on('connection', socket => {
		peer.sessions++;
		active++;
		counter.active++;
		maxActive = Math.max(maxActive, active);
		counter.max = Math.max(counter.max, counter.active);
		// The session counts until the client's FIN: the server closes only after it, so a client
		// that waits for the close cannot overlap two sessions.
		let gone = false;
		const leave = (): void => {
			if (!gone) {
				gone = true;
				active--;
				counter.active--;
			}
		};

		socket.once('end', () => {
			leave();
			socket.end();
		});
		// A client whose handshake failed may reset rather than FIN.
		socket.once('close', leave);
		socket.on('error', () => undefined);
		const timer = setTimeout(() => socket.write('220 mx ESMTP\r\n'), 60);
		let buffer = '';
		socket.on('data', chunk => {
			buffer += chunk.toString('latin1');
			let lf: number;
			while ((lf = buffer.indexOf('\n')) !== -1) {
				const line = buffer.slice(0, lf).trim().toUpperCase();
				buffer = buffer.slice(lf + 1);
				if (line.startsWith('EHLO')) {
					socket.write(brokenTls ? '250-mx\r\n250-PIPELINING\r\n250 STARTTLS\r\n' : '250-mx\r\n250 PIPELINING\r\n');
				} else if (line === 'STARTTLS' && brokenTls) {
					socket.write('220 2.0.0 Ready to start TLS\r\nthis is not TLS\r\n');
				} else if (line.startsWith('RCPT')) {
					socket.write('550 5.7.1 relay denied\r\n');
				} else if (line === 'QUIT') {
					socket.write('221 bye\r\n');
				} else {
					socket.write('250 ok\r\n');
				}
			}
		});
		socket.once('close', () => clearTimeout(timer));
	});
	await new Promise<void>(resolve => {
		peer.server.listen(0, ip, resolve);
	});
	peer.port = (peer.server.address() as net.AddressInfo).port;
	return peer;
}

describe('a round over many domains', () => {
	let dns: DnsServer;
	let peers: Peer[];
	let options: RoundOptions;

	beforeAll(async () => {
		peers = await Promise.all(ips.map(async ip => startPeer(ip)));
		dns = await startDnsServer({
			'poly.test': {MX: [[10, 'a.poly.test'], [20, 'b.poly.test'], [30, 'c.poly.test']]},
			'share.test': {MX: [[5, 'a.poly.test']]},
			'other.test': {MX: [[10, 'x.other.test'], [10, 'y.other.test']]},
			'a.poly.test': {A: [ips[0]!]},
			'b.poly.test': {A: [ips[0]!]},
			'c.poly.test': {A: [ips[0]!]},
			'x.other.test': {A: [ips[1]!]},
			'y.other.test': {A: [ips[2]!]},
		});
		options = {
			version: 'test', resolvers: [dns.address], port: 25, ports: Object.fromEntries(ips.map((ip, index) => [ip, peers[index]!.port])),
			ehloName: 'probe.mxdash.test', relay: 'basic', mailFrom: 'a@example.org', rcptTo: 'b@example.net', concurrency: 8, warnDays: 21,
			limits: {...defaultLimits, bannerMs: 3000, commandMs: 3000},
		};
	});

	afterAll(async () => {
		await dns?.close();
		for (const peer of peers ?? []) {
			peer.server.close();
		}
	});

	it('probes each (name, address) once, one connection per IP at a time, other IPs in parallel', async () => {
		const events: MonitorEvent[] = [];
		const report = await runRound(['poly.test', 'share.test', 'other.test'], options, event => events.push(event));
		expect(peers[0]!.sessions).toBe(3);
		expect(perIp.get(ips[0]!)!.max).toBe(1);
		// The per-IP pace: the sessions of the three names on one address begin perIpPaceMs apart
		// (less a little: startedAt is taken a moment after the pace is counted; unpaced, ~60 ms).
		const times = report.domains.flatMap(domain => domain.mx.flatMap(mx => mx.addresses.filter(address => address.ip === ips[0]).map(address => Date.parse(address.startedAt))));
		const begins = [...new Set(times)].sort((a, b) => a - b);
		expect(begins).toHaveLength(3);
		expect(begins.slice(1).map((time, index) => time - begins[index]!).every(gap => gap >= options.limits.perIpPaceMs - 10)).toBe(true);
		expect(maxActive).toBeGreaterThan(1);
		expect(report.summary.addresses).toBe(6);
		expect(events[0]?.type).toBe('round-start');
		expect(events.at(-1)?.type).toBe('round-done');
		expect(events.filter(event => event.type === 'queued')).toHaveLength(5);
		const stageEvents = events.filter(event => event.type === 'probe' && event.event.type === 'stage');
		expect(stageEvents.length).toBeGreaterThan(5 * 8);
		expect(report.domains.find(domain => domain.domain === 'share.test')!.mx[0]!.addresses[0]!.startedAt)
			.toBe(report.domains.find(domain => domain.domain === 'poly.test')!.mx[0]!.addresses[0]!.startedAt);
	});

	it('holds --concurrency 1 across every address', async () => {
		maxActive = 0;
		await runRound(['other.test', 'poly.test'], {...options, concurrency: 1});
		expect(maxActive).toBe(1);
	});
});

describe('a host whose TLS handshake fails', () => {
	const ip = '127.0.28.4';
	let dns: DnsServer;
	let peer: Peer;

	beforeAll(async () => {
		peer = await startPeer(ip, {brokenTls: true});
		dns = await startDnsServer({
			'broken-tls.test': {MX: [[10, 'mx.broken-tls.test']]},
			'mx.broken-tls.test': {A: [ip]},
		});
	});

	afterAll(async () => {
		await dns?.close();
		peer?.server.close();
	});

	it('gets its relay verdict from a second, plaintext connection, after the first is closed', async () => {
		const lines: string[] = [];
		const report = await runRound(['broken-tls.test'], {
			version: 'test', resolvers: [dns.address], port: 25, ports: {[ip]: peer.port},
			ehloName: 'probe.mxdash.test', relay: 'basic', mailFrom: 'a@example.org', rcptTo: 'b@example.net', concurrency: 8, warnDays: 21,
			limits: {...defaultLimits, bannerMs: 3000, commandMs: 3000, tlsMs: 3000},
		}, event => {
			if (event.type === 'probe' && event.event.type === 'line') {
				lines.push(event.event.line.text);
			}
		});
		expect(peer.sessions).toBe(2);
		expect(perIp.get(ip)!.max).toBe(1);
		const address = report.domains[0]!.mx[0]!.addresses[0]!;
		const ids = address.findings.map(finding => finding.id);
		expect(address.stages.tls).toMatchObject({outcome: 'failed', error: 'tls-failed'});
		expect(ids).toContain('starttls-failed');
		expect(address.relay).toMatchObject({tested: true, open: false, plaintextRetry: true});
		expect(address.relay.attempts[0]).toMatchObject({code: 550, accepted: false});
		expect(address.stages.relay).toMatchObject({outcome: 'ok', detail: 'closed (plaintext retry)'});
		expect(lines.filter(line => line.includes('a second connection, in plaintext'))).toHaveLength(1);
	});
});
