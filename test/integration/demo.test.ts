import {readFileSync} from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {defaultLimits} from '../../source/core/limits.js';
import {runRound} from '../../source/core/run/monitor.js';
import type {AddressReport, DomainReport, Report} from '../../source/core/run/report-model.js';
import {startDemo} from '../../source/demo/demo.js';
import type {Demo} from '../../source/demo/demo.js';
import {startSmtpServer} from '../../source/peers/smtp-server.js';
import type {SmtpServer} from '../../source/peers/smtp-server.js';

/** Resolves with how the connection went: 'connected', or the error code (ECONNREFUSED …). */
async function connectOutcome(host: string, port: number): Promise<string> {
	return new Promise(resolve => {
		const socket = net.connect({host, port});
		const timer = setTimeout(() => {
			socket.destroy();
			resolve('timeout');
		}, 2000);
		socket.once('connect', () => {
			clearTimeout(timer);
			socket.destroy();
			resolve('connected');
		});
		socket.once('error', (error: NodeJS.ErrnoException) => {
			clearTimeout(timer);
			resolve(error.code ?? 'error');
		});
	});
}

/** What a raw client has read, and a bounded wait for more. */
type Reader = {text(): string; waitFor(pattern: RegExp, ms?: number): Promise<string>; closed: Promise<void>};

function reader(socket: net.Socket): Reader {
	let text = '';
	let wake: (() => void) | undefined;
	socket.on('data', (chunk: Buffer) => {
		text += chunk.toString('latin1');
		wake?.();
	});
	socket.on('error', () => undefined);
	const closed = new Promise<void>(resolve => {
		socket.once('close', () => {
			wake?.();
			resolve();
		});
	});
	return {
		text: () => text,
		closed,
		async waitFor(pattern, ms = 2000) {
			const deadline = performance.now() + ms;
			while (!pattern.test(text)) {
				if (socket.destroyed || performance.now() > deadline) {
					throw new Error(`waited for ${String(pattern)}; got ${JSON.stringify(text)}`);
				}

				await new Promise<void>(resolve => {
					wake = resolve;
					setTimeout(resolve, 50);
				});
			}

			return text;
		},
	};
}

async function connect(port: number, host = '127.0.0.1'): Promise<{socket: net.Socket; read: Reader}> {
	const socket = net.connect({host, port});
	const read = reader(socket);
	await new Promise<void>((resolve, reject) => {
		socket.once('connect', resolve);
		socket.once('error', reject);
	});
	return {socket, read};
}

function ids(findings: Array<{id: string}>): string[] {
	return findings.map(finding => finding.id);
}

describe('the embedded demo', () => {
	let demo: Demo;
	let report: Report;
	let roundMs: number;
	let stopped = false;

	const domain = (name: string): DomainReport => {
		const found = report.domains.find(item => item.domain === name);
		expect(found, name).toBeDefined();
		return found!;
	};

	const address = (name: string, exchange: string): AddressReport => {
		const found = domain(name).mx.find(mx => mx.exchange === exchange)?.addresses[0];
		expect(found, exchange).toBeDefined();
		return found!;
	};

	/** Every finding of a domain, at every level. */
	const everything = (name: string): Array<{id: string; severity: string}> => {
		const item = domain(name);
		return [...item.findings, ...item.mx.flatMap(mx => [...mx.findings, ...mx.addresses.flatMap(entry => entry.findings)])];
	};

	beforeAll(async () => {
		demo = await startDemo();
		const started = performance.now();
		report = await runRound(demo.domains, {
			version: 'test',
			resolvers: demo.resolvers,
			port: 25,
			ports: demo.ports,
			ca: demo.ca,
			ehloName: 'probe.mxdash.test',
			relay: 'basic',
			mailFrom: 'a@example.org',
			rcptTo: 'b@example.net',
			concurrency: 8,
			warnDays: 21,
			limits: defaultLimits,
			policyPort: demo.policyPort,
			dnsbl: demo.dnsbl,
		});
		roundMs = performance.now() - started;
	}, 30_000);

	afterAll(async () => {
		if (!stopped) {
			await demo?.stop();
		}
	});

	it('serves only loopback addresses on unprivileged ports, and DNS on 127.0.0.1', () => {
		expect(demo.domains).toEqual(['healthy.demo', 'expired.demo', 'relay.demo', 'plaintext.demo', 'slow.demo', 'dane.demo', 'mismatch.demo']);
		expect(demo.resolvers).toHaveLength(1);
		expect(demo.resolvers[0]).toMatch(/^127\.0\.0\.1:\d+$/);
		expect(Object.keys(demo.ports)).toHaveLength(6);
		for (const [ip, port] of Object.entries(demo.ports)) {
			expect(ip).toMatch(/^127\.0\.53\.\d+$/);
			expect(port).toBeGreaterThanOrEqual(1024);
		}

		expect(demo.ca[0]).toContain('BEGIN CERTIFICATE');
		// The slow greeting sets the pace; everything else runs beside it.
		expect(roundMs).toBeGreaterThan(5500);
		expect(roundMs).toBeLessThan(15_000);
	});

	it('healthy.demo: mx1 is clean on TLS 1.3 with a trusted chain, mx2 refuses connections', () => {
		const mx1 = address('healthy.demo', 'mx1.healthy.demo');
		for (const [name, stage] of Object.entries(mx1.stages)) {
			expect(stage.status, `${name}: ${stage.detail ?? ''}`).toBe('ok');
		}

		expect(mx1.banner?.text).toBe('mx1.healthy.demo ESMTP');
		expect(mx1.tls?.version).toBe('TLSv1.3');
		expect(mx1.tls?.authorized).toBe(true);
		expect(mx1.tls?.hostnameMatch).toBe(true);
		expect(mx1.tls?.chain.map(cert => cert.subject)).toEqual([
			'O=mxdash demo, CN=mx1.healthy.demo',
			'O=mxdash demo, CN=mxdash demo intermediate CA',
			'O=mxdash demo, CN=mxdash demo root CA',
		]);
		expect(mx1.tls?.chain[0]?.keyType).toBe('ec');
		expect(mx1.tls?.chain[0]?.keyBits).toBe(256);
		expect(mx1.ehlo?.extensions.map(extension => extension.keyword)).toEqual(expect.arrayContaining(['PIPELINING', 'SIZE', '8BITMIME', 'STARTTLS']));
		expect(mx1.ehlo?.extensionsAfterTls?.map(extension => extension.keyword)).not.toContain('STARTTLS');
		expect(mx1.relay).toMatchObject({tested: true, open: false});
		expect(mx1.relay.attempts[0]?.code).toBe(554);
		expect(mx1.ptr).toBe('mx1.healthy.demo');
		expect(mx1.fcrdns).toBe(true);
		expect(mx1.findings.filter(finding => finding.severity !== 'info')).toEqual([]);
		expect(mx1.status).toBe('ok');

		const mx2 = address('healthy.demo', 'mx2.healthy.demo');
		expect(ids(mx2.findings)).toContain('tcp-refused');
		expect(mx2.stages.connect.error).toBe('refused');
		expect(mx2.ms).toBeLessThan(1000);
		expect(domain('healthy.demo').status).toBe('critical');
	});

	it('shows the policy layer: one domain passes every policy, others fail MTA-STS, DANE and a blocklist in distinct ways', () => {
		const delivery = (name: string, exchange: string): AddressReport['delivery'] => address(name, exchange).delivery;
		const pick = (value: AddressReport['delivery']): unknown => value && {opportunistic: value.opportunistic, mtaSts: value.mtaSts, dane: value.dane};
		expect(pick(delivery('healthy.demo', 'mx1.healthy.demo'))).toEqual({opportunistic: 'deliver', mtaSts: 'deliver', dane: 'deliver'});
		expect(address('healthy.demo', 'mx1.healthy.demo').dane).toMatchObject({checked: true, match: 'matched', depth: 0});
		expect(domain('healthy.demo').policy?.mtaSts).toMatchObject({record: {id: '20261201T000000'}, policy: {mode: 'enforce', mx: ['mx1.healthy.demo', 'mx2.healthy.demo']}, fetch: {status: 200}});
		expect(domain('healthy.demo').policy?.tlsRpt.rua).toEqual(['mailto:tls-reports@healthy.demo']);
		const policyIds = (name: string): string[] => everything(name).map(item => item.id).filter(id => /^(mta-sts|tlsrpt|dane|dnssec|dnsbl)/.test(id)).sort();
		expect(policyIds('healthy.demo')).toEqual([]);
		expect(pick(delivery('expired.demo', 'mx.expired.demo'))).toEqual({opportunistic: 'deliver', mtaSts: 'fail', dane: 'none'});
		expect(policyIds('expired.demo')).toEqual(['dane-none', 'mta-sts-would-fail', 'tlsrpt-invalid']);
		expect(pick(delivery('mismatch.demo', 'mx1.healthy.demo'))).toEqual({opportunistic: 'deliver', mtaSts: 'fail', dane: 'deliver'});
		expect(policyIds('mismatch.demo')).toEqual(['mta-sts-mx-mismatch', 'tlsrpt-none']);
		expect(pick(delivery('dane.demo', 'mx.dane.demo'))).toEqual({opportunistic: 'deliver', mtaSts: 'none', dane: 'fail'});
		expect(policyIds('dane.demo')).toEqual(['dane-mismatch', 'dane-no-rollover', 'mta-sts-none', 'tlsrpt-none']);
		expect(pick(delivery('plaintext.demo', 'mx.plaintext.demo'))).toEqual({opportunistic: 'deliver', mtaSts: 'deliver', dane: 'none'});
		expect(policyIds('plaintext.demo')).toEqual(['dane-none', 'mta-sts-testing', 'mta-sts-would-fail', 'tlsrpt-none']);
		const relay = address('relay.demo', 'mx.relay.demo');
		expect(relay.dnsbl).toEqual([expect.objectContaining({zone: 'bl.demo', listed: true, codes: ['127.0.0.2']})]);
		expect(policyIds('relay.demo')).toEqual(['dane-none', 'dnsbl-listed', 'mta-sts-none', 'tlsrpt-none']);
		expect(report.findings.map(item => item.id)).toEqual([]);
	});

	it('expired.demo: an expired certificate for another name', () => {
		const mx = address('expired.demo', 'mx.expired.demo');
		expect(ids(mx.findings)).toEqual(expect.arrayContaining(['cert-expired', 'cert-hostname-mismatch']));
		expect(mx.tls?.authorized).toBe(false);
		expect(mx.tls?.hostnameMatch).toBe(false);
		expect(mx.tls?.chain[0]?.san).toEqual(['DNS:www.elsewhere.demo']);
		expect(mx.tls?.chain[0]?.validTo).toBe('2021-01-01T00:00:00.000Z');
		expect(mx.relay.open).toBe(false);
	});

	it('relay.demo: an open relay that still refuses DATA', () => {
		const mx = address('relay.demo', 'mx.relay.demo');
		expect(ids(mx.findings)).toContain('open-relay');
		expect(mx.relay.open).toBe(true);
		expect(mx.transcript.some(line => line.dir === 'client' && /^DATA/i.test(line.text))).toBe(false);
		expect(ids(mx.findings)).toContain('ptr-mismatch');
		expect(ids(mx.findings)).toContain('banner-hostname-mismatch');
	});

	it('plaintext.demo: no STARTTLS', () => {
		const mx = address('plaintext.demo', 'mx.plaintext.demo');
		expect(ids(mx.findings)).toContain('starttls-missing');
		expect(ids(mx.findings)).toContain('ptr-missing');
		expect(mx.tls).toBeUndefined();
		expect(mx.relay.open).toBe(false);
	});

	it('slow.demo: a late greeting, and nothing critical', () => {
		const mx = address('slow.demo', 'mx.slow.demo');
		expect(ids(mx.findings)).toContain('banner-slow');
		expect(mx.banner?.delayMs).toBeGreaterThan(defaultLimits.bannerSlowMs);
		expect(everything('slow.demo').filter(finding => finding.severity === 'critical')).toEqual([]);
		expect(mx.tls?.authorized).toBe(true);
	});

	it('stop() closes every listener, promptly', async () => {
		const started = performance.now();
		await demo.stop();
		stopped = true;
		expect(performance.now() - started).toBeLessThan(2500);
		const [dnsHost, dnsPort] = demo.resolvers[0]!.split(':');
		const outcomes = await Promise.all([
			...Object.entries(demo.ports).map(async ([ip, port]) => connectOutcome(ip, port)),
			connectOutcome(dnsHost!, Number(dnsPort)),
		]);
		expect(outcomes.every(outcome => outcome === 'ECONNREFUSED')).toBe(true);
	});
}, 30_000);

describe('the demo SMTP servers', () => {
	const certs = new URL('../../source/demo/certs/', import.meta.url);
	const pem = (name: string): string => readFileSync(new URL(`${name}.pem`, certs), 'utf8');
	let server: SmtpServer;

	beforeAll(async () => {
		server = await startSmtpServer(
			{hostname: 'mx1.healthy.demo', tls: {key: pem('healthy-key'), cert: pem('healthy') + pem('intermediate'), minVersion: 'TLSv1.3'}, localDomains: ['healthy.demo']},
			'127.0.0.1',
			0,
			{idleMs: 400, maxLineBytes: 100, maxSessionBytes: 2000, maxConnections: 4},
		);
	});

	afterAll(async () => {
		await server.close();
	});

	it('answers the relay dialogue, never takes DATA, and says goodbye', async () => {
		const {socket, read} = await connect(server.port);
		await read.waitFor(/^220 mx1\.healthy\.demo ESMTP\r\n/);
		socket.write('MAIL FROM:<a@example.org>\r\nEHLO client.test\r\n');
		await read.waitFor(/^503 .*\r\n250-mx1\.healthy\.demo\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n$/m);
		socket.write('MAIL FROM:<>\r\nRCPT TO:<postmaster@healthy.demo>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<b%example.net@healthy.demo>\r\nDATA\r\nRSET\r\nNOOP\r\nQUIT\r\n');
		await read.closed;
		const replies = read.text().split('\r\n').slice(8, -1).map(line => line.slice(0, 3));
		expect(replies).toEqual(['250', '250', '554', '554', '502', '250', '250', '221']);
	});

	it('drops what came after STARTTLS in the clear, and needs EHLO again inside TLS', async () => {
		const {socket, read} = await connect(server.port);
		await read.waitFor(/^220 /);
		socket.write('EHLO client.test\r\n');
		await read.waitFor(/250 ENHANCEDSTATUSCODES\r\n/);
		socket.write('STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n');
		await read.waitFor(/220 2\.0\.0 Ready to start TLS\r\n$/);
		socket.removeAllListeners('data');
		const secure = tls.connect({socket, servername: 'mx1.healthy.demo', ca: [pem('root-ca')]});
		const inside = reader(secure);
		await new Promise<void>((resolve, reject) => {
			secure.once('secureConnect', resolve);
			secure.once('error', reject);
		});
		expect(secure.authorized).toBe(true);
		expect(secure.getProtocol()).toBe('TLSv1.3');
		secure.write('MAIL FROM:<a@example.org>\r\n');
		await inside.waitFor(/^503 5\.5\.1 Error: send HELO\/EHLO first\r\n$/);
		secure.write('EHLO client.test\r\n');
		await inside.waitFor(/250 ENHANCEDSTATUSCODES\r\n$/);
		expect(inside.text()).not.toContain('STARTTLS');
		secure.write('QUIT\r\n');
		await inside.closed;
	});

	it('closes on a line too long, too many bytes, or silence', async () => {
		const long = await connect(server.port);
		await long.read.waitFor(/^220 /);
		long.socket.write('NOOP ' + 'x'.repeat(200));
		await long.read.closed;
		expect(long.read.text()).toMatch(/500 5\.5\.2 Error: line too long\r\n$/);

		const chatty = await connect(server.port);
		await chatty.read.waitFor(/^220 /);
		chatty.socket.write('NOOP\r\n'.repeat(500));
		await chatty.read.closed;
		expect(chatty.read.text()).toMatch(/421 4\.7\.0 Too much data, closing connection\r\n$/);
		// The cap is checked before the lines are read: none of the 500 NOOPs was answered.
		expect(chatty.read.text().match(/^250 /gm) ?? []).toHaveLength(0);

		const started = performance.now();
		const quiet = await connect(server.port);
		await quiet.read.closed;
		expect(quiet.read.text()).toMatch(/421 4\.4\.2 Idle timeout, closing connection\r\n$/);
		expect(performance.now() - started).toBeLessThan(2000);
	});

	it('close() ends open connections at once', async () => {
		const other = await startSmtpServer({hostname: 'mx.slow.demo', greetingDelayMs: 10_000}, '127.0.0.1');
		const {read} = await connect(other.port);
		const started = performance.now();
		await other.close();
		await read.closed;
		expect(performance.now() - started).toBeLessThan(500);
		expect(read.text()).toBe('');
		expect(await connectOutcome('127.0.0.1', other.port)).toBe('ECONNREFUSED');
	});
});
