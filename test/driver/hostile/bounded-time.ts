// Section 2 of the hostile suite (test/driver/hostile.test.ts): bounded time.
import {spawn, spawnSync} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import net from 'node:net';
import {describe, it} from 'vitest';
import {runRound} from '../../../source/core/run/monitor.js';
import type {RoundOptions} from '../../../source/core/run/monitor.js';
import {readFileSync} from 'node:fs';
import {startDnsServer} from '../../../source/peers/dns-server.js';
import {closedPort} from '../../../source/peers/listener.js';
import {startPolicyServer} from '../../../source/peers/policy-server.js';
import type {Zone} from '../../../source/peers/dns-server.js';
import {bounded, hostileAddress} from '../../helpers/hostile-servers.js';
import {drip, ehloDrip, mute, tlsStall} from './behaviours.js';
import {ehloName, ended, failedStage, greeting, hostile, limits, mailFrom, probeAt, rcptTo, received, servers} from './fixtures.js';

// ---------------------------------------------------------------------------------------------
// 2. Bounded time
// ---------------------------------------------------------------------------------------------

const pythonMissing = ((): string | undefined => {
	const check = spawnSync('python3', ['-c', 'import socket'], {timeout: 10_000});
	return check.status === 0 ? undefined : 'python3 is not available';
})();

type Blackhole = {host: string; port: number; stop(): void};

/** A listener that never accepts, with a full backlog: the kernel drops new SYNs (python3, since Node always accepts). */
async function blackhole(): Promise<Blackhole> {
	const host = hostileAddress();
	const script = 'import socket,sys\ns=socket.socket()\ns.bind((sys.argv[1],0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()\n';
	const child: ChildProcess = spawn('python3', ['-c', script, host], {stdio: ['pipe', 'pipe', 'ignore']});
	const port = await bounded(new Promise<number>((resolve, reject) => {
		child.stdout!.once('data', (data: Buffer) => {
			resolve(Number(data.toString().trim()));
		});
		child.once('error', reject);
	}), 10_000, 'python3 listener');
	// Fill the accept queue (backlog 0 holds one connection); later SYNs are dropped.
	const fillers = [net.connect({host, port}), net.connect({host, port})];
	for (const filler of fillers) {
		filler.on('error', () => undefined);
	}

	await bounded(new Promise(resolve => {
		fillers[0]!.once('connect', resolve);
	}), 3000, 'the first filler connection');
	return {
		host,
		port,
		stop() {
			for (const filler of fillers) {
				filler.destroy();
			}

			child.stdin?.end();
			child.kill();
		},
	};
}

describe.concurrent('2. bounded time', () => {
	it('a tarpit dripping a valid greeting, one byte per 300 ms: banner-timeout at the absolute bannerMs [guards the stage deadline being absolute, not idle]', async ({expect}) => {
		const server = await hostile('greeting tarpit', drip(greeting, 300));
		const {result, elapsed, ids} = await probeAt(server);
		const session = await ended(await server.session());

		expect(failedStage(result)).toEqual(['banner', 'timeout']);
		expect(ids).toEqual(['banner-timeout']);
		expect(elapsed).toBeGreaterThanOrEqual(limits.bannerMs);
		expect(elapsed).toBeLessThanOrEqual(limits.bannerMs + 700);
		expect(result.stages.banner.ms).toBeGreaterThanOrEqual(limits.bannerMs - 5);
		// The server did talk all along: an idle timer would have been reset five times.
		expect(session.bytesWritten).toBeGreaterThanOrEqual(4);
		expect(session.bytesWritten).toBeLessThan(greeting.length);
		expect(received(session)).toEqual([]);
	});

	it('a greeting, then the EHLO answer one byte per 300 ms: ehlo-timeout at commandMs, then QUIT [guards the command deadline]', async ({expect}) => {
		const server = await hostile('EHLO tarpit', ehloDrip);
		const {result, elapsed, ids} = await probeAt(server);
		const session = await ended(await server.session());

		expect(failedStage(result)).toEqual(['ehlo', 'timeout']);
		expect(ids).toContain('ehlo-timeout');
		expect(result.stages.ehlo.ms).toBeGreaterThanOrEqual(limits.commandMs - 5);
		expect(result.stages.ehlo.ms).toBeLessThanOrEqual(limits.commandMs + 700);
		expect(elapsed).toBeLessThanOrEqual(limits.commandMs + 1200);
		expect(session.bytesWritten - greeting.length).toBeGreaterThanOrEqual(4);
		expect(received(session)).toEqual(['EHLO probe.mxdash.test', 'QUIT']);
	});

	it('a TLS handshake that stalls after the first bytes of a ServerHello: tls-timeout at tlsMs [guards the tls deadline]', async ({expect}) => {
		const server = await hostile('TLS stall', tlsStall);
		const {result, ids} = await probeAt(server);
		await ended(await server.session());

		expect(result.stages.starttls.status).toBe('ok');
		expect(failedStage(result)).toEqual(['tls', 'timeout']);
		expect(ids).toContain('tls-timeout');
		expect(result.stages.tls.ms).toBeGreaterThanOrEqual(limits.tlsMs - 5);
		expect(result.stages.tls.ms).toBeLessThanOrEqual(limits.tlsMs + 700);
	});

	it('a listener whose backlog is full: tcp-timeout at connectMs [guards the connect deadline]', async ({expect, skip}) => {
		if (pythonMissing) {
			process.stderr.write(`*** connect-timeout test skipped: ${pythonMissing} ***\n`);
			skip();
		}

		const hole = await blackhole();
		try {
			const {result, elapsed, ids} = await probeAt(hole);
			expect(failedStage(result)).toEqual(['connect', 'timeout']);
			expect(ids).toEqual(['tcp-timeout']);
			expect(elapsed).toBeGreaterThanOrEqual(limits.connectMs);
			expect(elapsed).toBeLessThanOrEqual(limits.connectMs + 700);
			// The transcript says what was tried and how long it waited, not nothing.
			expect(result.transcript.map(line => [line.dir, line.text])).toEqual([
				['info', `connecting to ${hole.host} port ${hole.port} (up to ${limits.connectMs} ms)`],
				['info', expect.stringMatching(new RegExp(`^connection to ${hole.host.replaceAll('.', '\\.')} port ${hole.port} timed out after \\d+ ms: no answer$`)) as unknown],
			]);
		} finally {
			hole.stop();
		}
	});

	it('a resolver that never answers: dns-error by dnsMs, for the domain and for an MX host [guards Dns.query deadline]', async ({expect}) => {
		const dns = await startDnsServer({
			'mute.test': {mute: true},
			'mutehost.test': {MX: [[10, 'mx.mutehost.test']]},
			'mx.mutehost.test': {mute: true},
		}, hostileAddress());
		servers.push(dns);
		const options = roundOptions({resolvers: [dns.address]});

		let started = performance.now();
		const domain = await runRound(['mute.test'], options);
		let elapsed = performance.now() - started;
		// The policy layer's info findings (this scripted server does not validate) aside.
		expect(domain.domains[0]!.findings.filter(item => item.severity !== 'info').map(item => item.id)).toEqual(['dns-error']);
		expect(domain.summary.exitCode).toBe(3);
		expect(elapsed).toBeGreaterThanOrEqual(limits.dnsMs - 5);
		expect(elapsed).toBeLessThanOrEqual(limits.dnsMs + 500);

		started = performance.now();
		const host = await runRound(['mutehost.test'], options);
		elapsed = performance.now() - started;
		expect(host.domains[0]!.mx[0]!.findings.map(item => item.id)).toContain('dns-error');
		// The CNAME lookup beside the A/AAAA lookups, bounded by dnsMs; then the MX host's TLSA set
		// and DNSSEC status (they need its alias chain): two in a row.
		expect(elapsed).toBeLessThanOrEqual(2 * limits.dnsMs + 500);
	});

	it('hostile policy hosts (an endless body, a slow drip, a redirect loop, a huge TXT answer) each end by the fetch deadline with a finding [guards fetchPolicy and PolicyDns bounds, through the Monitor]', async ({expect}) => {
		const pem = (name: string): string => readFileSync(new URL(`../../../source/demo/certs/${name}.pem`, import.meta.url), 'utf8');
		const cert = {key: pem('policy-key'), cert: pem('policy')};
		const policyHost = hostileAddress();
		const policies = await startPolicyServer({host: policyHost, hosts: {
			'mta-sts.healthy.demo': {...cert, behaviour: 'endless'},
			'mta-sts.expired.demo': {...cert, behaviour: 'drip', body: 'version: STSv1\nmode: enforce\nmx: mx.hostile.demo\nmax_age: 86400\n'},
			'mta-sts.relay.demo': {...cert, status: 301, location: 'https://mta-sts.relay.demo/.well-known/mta-sts.txt'},
		}});
		servers.push(policies);
		const mx = hostileAddress();
		const port = await closedPort(mx);
		const domains = ['healthy.demo', 'expired.demo', 'relay.demo', 'plaintext.demo'];
		const zone: Zone = {
			'mx.hostile.demo': {A: [mx]},
			...Object.fromEntries(domains.flatMap(domain => [
				[domain, {MX: [[10, 'mx.hostile.demo']]}],
				[`mta-sts.${domain}`, {A: [policyHost]}],
				[`_mta-sts.${domain}`, {TXT: ['v=STSv1; id=1;']}],
			])),
			// 50 KB of TXT (over TCP): the lookup keeps a bounded part, the v=STSv1 record among it.
			'_mta-sts.plaintext.demo': {TXT: ['v=STSv1; id=2;', ...Array.from({length: 200}, (_, index) => `filler ${index} ${'x'.repeat(240)}`)]},
		};
		const dns = await startDnsServer(zone, hostileAddress());
		servers.push(dns);
		const fetchMs = 1500;
		const options = roundOptions({resolvers: [dns.address], ports: {[mx]: port}, ca: [pem('policy-root')], policyPort: policies.port, limits: {...limits, policyFetchMs: fetchMs}});
		const started = performance.now();
		const report = await runRound(domains, options);
		const elapsed = performance.now() - started;
		const fetches = Object.fromEntries(report.domains.map(domain => [domain.domain, domain.policy?.mtaSts.fetch?.error?.kind ?? domain.policy?.mtaSts.error]));
		expect(fetches).toEqual({'healthy.demo': 'too-large', 'expired.demo': 'timeout', 'relay.demo': 'redirect', 'plaintext.demo': 'http-status'});
		for (const domain of report.domains.slice(0, 3)) {
			expect(domain.findings.map(item => item.id), domain.domain).toContain('mta-sts-policy-unreachable');
		}

		// The huge answer is cut, not an error: its record was read (and its policy host, which serves no policy for it, answered 404).
		expect(report.domains[3]!.policy?.mtaSts.record).toEqual({raw: 'v=STSv1; id=2;', id: '2'});
		expect(elapsed).toBeLessThan(fetchMs + limits.dnsMs + 1000);
	});

	it('a whole round over a tarpit, a mute server, an EHLO tarpit, a stalled TLS, a black hole and a mute domain ends within the longest deadline plus slack [guards every deadline at once, in runRound]', async ({expect}) => {
		const targets = await Promise.all([
			hostile('round: greeting tarpit', drip(greeting, 300)),
			hostile('round: mute', mute),
			hostile('round: EHLO tarpit', ehloDrip),
			hostile('round: TLS stall', tlsStall),
		]);
		const hole = pythonMissing ? undefined : await blackhole();
		try {
			const all = [...targets, ...(hole ? [hole] : [])];
			const zone: Zone = {
				'mute.round.test': {mute: true},
				...Object.fromEntries(all.flatMap((target, index) => [
					[`d${index}.round.test`, {MX: [[10, `mx${index}.round.test`]]}],
					[`mx${index}.round.test`, {A: [target.host]}],
				])),
			};
			const dns = await startDnsServer(zone, hostileAddress());
			servers.push(dns);
			const options = roundOptions({resolvers: [dns.address], ports: Object.fromEntries(all.map(target => [target.host, target.port]))});
			const started = performance.now();
			const report = await runRound([...all.map((_, index) => `d${index}.round.test`), 'mute.round.test'], options);
			const elapsed = performance.now() - started;

			const stageErrors = report.domains.flatMap(domain => domain.mx.flatMap(mx => mx.addresses.map(address => failedStage(address))));
			expect(stageErrors).toEqual([
				['banner', 'timeout'],
				['banner', 'timeout'],
				['ehlo', 'timeout'],
				['tls', 'timeout'],
				...(hole ? [['connect', 'timeout']] : []),
			]);
			expect(report.domains.at(-1)!.findings.filter(item => item.severity !== 'info').map(item => item.id)).toEqual(['dns-error']);
			const longest = Math.max(limits.connectMs, limits.bannerMs, limits.commandMs, limits.tlsMs, limits.dnsMs);
			expect(elapsed).toBeLessThan(longest + 1500);
		} finally {
			hole?.stop();
		}
	});
});

function roundOptions(overrides: Partial<RoundOptions>): RoundOptions {
	return {
		version: 'test',
		port: 25,
		ehloName,
		relay: 'basic',
		mailFrom,
		rcptTo,
		concurrency: 16,
		warnDays: 21,
		limits,
		...overrides,
	};
}
