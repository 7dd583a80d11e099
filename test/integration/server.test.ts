// --server HOST[:PORT]: one server probed directly, as swaks --server does, with no MX lookup;
// by name (its A from the loopback DNS server) and by address, IPv4 and [::1], on unprivileged ports.
import net from 'node:net';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {inputKey, parseServer} from '../../source/core/dns/resolver.js';
import {defaultLimits} from '../../source/core/limits.js';
import {probeKey} from '../../source/core/run/knowledge.js';
import {runRound} from '../../source/core/run/monitor.js';
import type {Report} from '../../source/core/run/report-model.js';
import {domainLines} from '../../source/ui/panes.js';
import {Store} from '../../source/ui/store.js';
import {makeTheme} from '../../source/ui/theme.js';
import {startDnsServer} from '../../source/peers/dns-server.js';
import type {DnsServer} from '../../source/peers/dns-server.js';
import {runCli} from '../helpers/run-cli.js';

type Peer = {server: net.Server; port: number; sessions: number};

/** A tiny SMTP server that greets at once and refuses to relay (no STARTTLS: critical, on purpose). */
async function startPeer(ip: string): Promise<Peer> {
	const peer: Peer = {server: net.createServer(), port: 0, sessions: 0};
	peer.server.on('connection', socket => {
		peer.sessions++;
		socket.on('error', () => undefined);
		socket.write('220 mx.direct.test ESMTP\r\n');
		let buffer = '';
		socket.on('data', chunk => {
			buffer += chunk.toString('latin1');
			let lf: number;
			while ((lf = buffer.indexOf('\n')) !== -1) {
				const line = buffer.slice(0, lf).trim().toUpperCase();
				buffer = buffer.slice(lf + 1);
				if (line.startsWith('EHLO')) {
					socket.write('250-mx.direct.test\r\n250 PIPELINING\r\n');
				} else if (line.startsWith('RCPT')) {
					socket.write('550 5.7.1 relay denied\r\n');
				} else if (line === 'QUIT') {
					socket.end('221 bye\r\n');
				} else {
					socket.write('250 ok\r\n');
				}
			}
		});
	});
	await new Promise<void>(resolve => {
		peer.server.listen(0, ip, resolve);
	});
	peer.port = (peer.server.address() as net.AddressInfo).port;
	return peer;
}

let dns: DnsServer;
let v4: Peer;
let v6: Peer;
const env = {MXDASH_CONFIG_DIR: '/nonexistent/mxdash-server-test'};
const common = (): string[] => ['--resolver', dns.address, '--timeout', '5', '--ehlo-name', 'probe.mxdash.test'];

beforeAll(async () => {
	[v4, v6] = await Promise.all([startPeer('127.0.29.1'), startPeer('::1')]);
	dns = await startDnsServer({'mx.direct.test': {A: ['127.0.29.1']}});
});

afterAll(async () => {
	await dns?.close();
	v4?.server.close();
	v6?.server.close();
});

/** The findings of the domains and their MX hosts, those about the run itself (repeated in each domain) aside. */
const noMxFindings = (report: Report): string[] => report.domains.flatMap(domain => [...domain.findings, ...domain.mx.flatMap(mx => mx.findings)])
	.filter(item => !report.findings.some(run => run.id === item.id)).map(item => item.id);

describe('--server HOST[:PORT]', () => {
	it('probes a name given directly: its A record, on its port, with nothing said of MX records', async () => {
		const before = v4.sessions;
		const run = await runCli(['--json', ...common(), '--server', `mx.direct.test:${v4.port}`], env);
		expect(run.stderr).toBe('');
		const report = JSON.parse(run.stdout) as Report;
		expect(report.domains).toHaveLength(1);
		const [domain] = report.domains;
		expect(domain).toMatchObject({domain: `mx.direct.test:${v4.port}`, direct: true});
		expect(domain!.mx).toHaveLength(1);
		expect(domain!.mx[0]).toMatchObject({exchange: 'mx.direct.test', port: v4.port});
		expect(domain!.mx[0]!.addresses.map(address => [address.ip, address.port, address.stages.connect.status])).toEqual([['127.0.29.1', v4.port, 'ok']]);
		expect(noMxFindings(report)).toEqual([]);
		expect(v4.sessions).toBe(before + 1);
		expect(run.code).toBe(report.summary.exitCode);
	});

	it('probes an IPv4 address given directly, without calling it an IP-literal MX', async () => {
		const run = await runCli(['--json', ...common(), '--server', `127.0.29.1:${v4.port}`], env);
		const report = JSON.parse(run.stdout) as Report;
		expect(report.domains[0]).toMatchObject({domain: `127.0.29.1:${v4.port}`, direct: true});
		expect(report.domains[0]!.mx[0]).toMatchObject({exchange: '127.0.29.1', ipLiteral: true, port: v4.port});
		expect(report.domains[0]!.mx[0]!.addresses[0]!.stages.banner.status).toBe('ok');
		expect(noMxFindings(report)).toEqual([]);
	});

	it('probes [::1]:PORT beside a domain, and the text report says it was given directly', async () => {
		const run = await runCli([...common(), '--server', `[::1]:${v6.port}`, '--port', String(v4.port), 'mx.direct.test'], env);
		expect(run.stderr).toBe('');
		expect(run.stdout).toMatch(new RegExp(`^\\[::1\\]:${v6.port}  [A-Z]+  \\(given directly, no MX lookup, 1 address\\)$`, 'm'));
		expect(run.stdout).toContain(`  server ::1 port ${v6.port} (--server)`);
		expect(run.stdout).toMatch(new RegExp(`[A-Z]+ +\\[::1\\]:${v6.port} `));
		// The domain beside it is still a domain: its implicit MX is judged as one.
		expect(run.stdout).toContain('mx-implicit');
		expect(run.stdout).toContain('2 domains');
	});

	it('takes the port from --port when none is given', async () => {
		const run = await runCli(['--json', ...common(), '--port', String(v4.port), '--server', '127.0.29.1'], env);
		const report = JSON.parse(run.stdout) as Report;
		expect(report.domains[0]!.domain).toBe(`127.0.29.1:${v4.port}`);
		expect(report.domains[0]!.mx[0]!.addresses[0]!.stages.connect.status).toBe('ok');
	});

	it.each([
		[['--server', 'bad name']],
		[['--server', '127.0.0.1:0']],
		[['--server', '[::1]:70000']],
		[['--server', '[mx.direct.test]:25']],
	])('%j is refused in one line, nothing probed', async args => {
		const run = await runCli(['--json', ...common(), ...args], env);
		expect(run.code).toBe(3);
		expect(run.stdout).toBe('');
		expect(run.stderr).toMatch(/^mxdash: --server needs a host name or an IP address with an optional port, like mx\.example\.org:25, 192\.0\.2\.1 or \[2001:db8::1\]:2525, not "[^"]*"\n$/);
	});

	it('leaves an argument without the flag a domain: HOST:PORT there is refused as one', async () => {
		const run = await runCli(['--json', ...common(), `127.0.29.1:${v4.port}`], env);
		expect(run.code).toBe(3);
		expect(run.stderr).toMatch(/^mxdash: not a valid domain name: "127\.0\.29\.1:\d+"\n$/);
	});

	it('is refused beside --demo', async () => {
		const run = await runCli(['--demo', '--server', '127.0.29.1'], env);
		expect(run.code).toBe(3);
		expect(run.stderr).toMatch(/^mxdash: --demo probes only its own demo domains; drop --server 127\.0\.29\.1 or drop --demo\n$/);
	});
});

describe('--server in the dashboard', () => {
	it('is a row under its own header, and its domain screen says it was given directly', async () => {
		const key = parseServer(`mx.direct.test:${v4.port}`, 25);
		const store = new Store([{domain: inputKey(key), input: key}], 0);
		await runRound([key], {
			version: 'test', resolvers: [dns.address], port: 25, ehloName: 'probe.mxdash.test', relay: 'basic', mailFrom: 'a@example.org', rcptTo: 'b@example.net',
			concurrency: 2, warnDays: 21, limits: {...defaultLimits, bannerMs: 3000, commandMs: 3000},
		}, event => {
			store.apply(event);
		});
		store.flush();
		const snapshot = store.getSnapshot();
		expect(snapshot.rows.map(row => [row.kind, row.domain, row.kind === 'host' ? row.key : ''])).toEqual([
			['domain', key, ''],
			['host', key, probeKey('mx.direct.test', '127.0.29.1', v4.port)],
		]);
		const host = snapshot.hosts.get(probeKey('mx.direct.test', '127.0.29.1', v4.port));
		expect(host?.result?.stages.banner.outcome).toBe('ok');
		const lines = domainLines(snapshot.domains[0]!, 100, makeTheme({noColor: true})).map(line => line.text);
		expect(lines).toContain('Given directly (--server): no MX lookup');
	});
});
