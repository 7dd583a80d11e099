import {createHash, X509Certificate} from 'node:crypto';
import {existsSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {startDnsServer, reverseName} from '../peers/dns-server.js';
import type {DnsServer, Zone} from '../peers/dns-server.js';
import {closedPort} from '../peers/listener.js';
import {startPolicyServer} from '../peers/policy-server.js';
import type {PolicyServer} from '../peers/policy-server.js';
import {startSmtpServer} from '../peers/smtp-server.js';
import type {SmtpBehaviour, SmtpServer} from '../peers/smtp-server.js';

/** What `mxdash --demo` probes: feed these to runRound (resolvers, ports, ca) as they are. */
export type Demo = {
	domains: string[];
	/** The demo's own DNS server, as HOST:PORT. */
	resolvers: string[];
	/** The SMTP port of each demo address. */
	ports: Record<string, number>;
	/** The demo root CA (PEM), to trust beside the system's roots (and the policy hosts' root). */
	ca: string[];
	/** The HTTPS port of the demo's MTA-STS policy host (it needs no root either). */
	policyPort: number;
	/** The demo's own blocklist. */
	dnsbl: string[];
	/** Close every server and connection; resolves promptly. */
	stop(): Promise<void>;
};

/**
 * The demo's addresses: 127.0.53.0/24 is loopback on Linux (all of 127/8 is), and binding
 * there needs no privilege. Each behaviour has its own address, since the engine knows one
 * port per address.
 */
const addresses = {
	healthy: '127.0.53.1',
	expired: '127.0.53.2',
	relay: '127.0.53.3',
	plaintext: '127.0.53.4',
	slow: '127.0.53.5',
	unreachable: '127.0.53.6',
	policy: '127.0.53.7',
} as const;

/** A greeting this late is past the engine's 5 s banner-slow threshold, yet far from its timeouts. */
const slowGreetingMs = 6000;

/**
 * The build bundles only code into dist/, so the PEM files stay in source/demo/certs/: next to
 * this module when it runs from source (vitest), one level up from dist/ when built.
 */
function certsDirectory(): URL {
	const candidates = [new URL('certs/', import.meta.url), new URL('../source/demo/certs/', import.meta.url)];
	const found = candidates.find(candidate => existsSync(new URL('root-ca.pem', candidate)));
	if (!found) {
		throw new Error(`the demo certificates were not found; looked in ${candidates.map(candidate => fileURLToPath(candidate)).join(' and ')}`);
	}

	return found;
}

function readPem(directory: URL, name: string): string {
	return readFileSync(new URL(`${name}.pem`, directory), 'utf8');
}

/** The TLSA data of a certificate: SHA-256 of its SubjectPublicKeyInfo (selector 1) or of the whole certificate (selector 0). */
function tlsaOf(pem: string, selector: 0 | 1): string {
	const cert = new X509Certificate(pem);
	const der = selector === 1 ? cert.publicKey.export({type: 'spki', format: 'der'}) : cert.raw;
	return createHash('sha256').update(der).digest('hex');
}

const policy = (mode: string, mx: string[]): string => `version: STSv1\r\nmode: ${mode}\r\n${mx.map(item => `mx: ${item}\r\n`).join('')}max_age: 604800\r\n`;

/**
 * The policies the demo's domains publish: healthy.demo passes every one; expired.demo
 * enforces MTA-STS on a host with an expired certificate; mismatch.demo's policy covers no MX;
 * plaintext.demo tests MTA-STS on a host without STARTTLS; dane.demo publishes a TLSA record
 * that matches nothing; relay.demo's address is on the demo blocklist.
 */
const policies: Record<string, {mode: string; mx: string[]}> = {
	'healthy.demo': {mode: 'enforce', mx: ['mx1.healthy.demo', 'mx2.healthy.demo']},
	'expired.demo': {mode: 'enforce', mx: ['mx.expired.demo']},
	'mismatch.demo': {mode: 'enforce', mx: ['*.other.demo']},
	'plaintext.demo': {mode: 'testing', mx: ['mx.plaintext.demo']},
};

function zone(certs: {healthy: string; intermediate: string}): Zone {
	const a = addresses;
	const stsNames = Object.fromEntries(Object.keys(policies).flatMap(domain => [
		[`_mta-sts.${domain}`, {TXT: ['v=STSv1; id=20261201T000000;']}],
		[`mta-sts.${domain}`, {A: [a.policy]}],
	]));
	const rollover = [{usage: 3, selector: 1, matchingType: 1, data: tlsaOf(certs.healthy, 1)}, {usage: 2, selector: 0, matchingType: 1, data: tlsaOf(certs.intermediate, 0)}];
	const listed = (ip: string): string => `${ip.split('.').reverse().join('.')}.bl.demo`;
	return {
		// The validating resolver's probe: the root's DNSKEY comes back authenticated.
		'.': {DNSKEY: [{flags: 257, algorithm: 13, key: Buffer.alloc(64, 1).toString('base64')}]},
		...stsNames,
		'_smtp._tls.healthy.demo': {TXT: ['v=TLSRPTv1; rua=mailto:tls-reports@healthy.demo']},
		'_smtp._tls.expired.demo': {TXT: ['v=TLSRPTv1; rua=ftp://reports.expired.demo/']},
		// DANE-EE for the key and DANE-TA for the issuing CA: a rollover-safe pair.
		'_25._tcp.mx1.healthy.demo': {TLSA: rollover},
		'_25._tcp.mx2.healthy.demo': {TLSA: rollover},
		'dane.demo': {MX: [[10, 'mx.dane.demo']]},
		'mx.dane.demo': {A: [a.healthy]},
		'_25._tcp.mx.dane.demo': {TLSA: [{usage: 3, selector: 1, matchingType: 1, data: createHash('sha256').update('a key nobody has').digest('hex')}]},
		'mismatch.demo': {MX: [[10, 'mx1.healthy.demo']]},
		[listed(a.relay)]: {A: ['127.0.0.2'], TXT: ['demo: an open relay, listed for the demo']},
		'2.0.0.127.bl.demo': {A: ['127.0.0.2'], TXT: ['RFC 5782 test entry']},
		'healthy.demo': {MX: [[10, 'mx1.healthy.demo'], [20, 'mx2.healthy.demo']]},
		'mx1.healthy.demo': {A: [a.healthy]},
		'mx2.healthy.demo': {A: [a.unreachable]},
		'expired.demo': {MX: [[10, 'mx.expired.demo']]},
		'mx.expired.demo': {A: [a.expired]},
		'relay.demo': {MX: [[10, 'mx.relay.demo']]},
		'mx.relay.demo': {A: [a.relay]},
		'plaintext.demo': {MX: [[10, 'mx.plaintext.demo']]},
		'mx.plaintext.demo': {A: [a.plaintext]},
		'slow.demo': {MX: [[10, 'mx.slow.demo']]},
		'mx.slow.demo': {A: [a.slow]},
		// Forward-confirmed PTRs, except the relay's (a generic name that points elsewhere:
		// ptr-mismatch) and the plaintext host's (none at all: ptr-missing).
		[reverseName(a.healthy)]: {PTR: ['mx1.healthy.demo']},
		[reverseName(a.unreachable)]: {PTR: ['mx2.healthy.demo']},
		[reverseName(a.expired)]: {PTR: ['mx.expired.demo']},
		[reverseName(a.slow)]: {PTR: ['mx.slow.demo']},
		[reverseName(a.relay)]: {PTR: ['host-53-3.dynamic.isp.demo']},
		'host-53-3.dynamic.isp.demo': {A: ['127.0.53.203']},
	};
}

async function closeQuietly(servers: Array<{close(): Promise<void>}>): Promise<void> {
	await Promise.allSettled(servers.map(async server => server.close()));
}

/** Race `promise` against a timer, so one stuck close cannot hold stop() up. */
async function atMost(promise: Promise<void>, ms: number): Promise<void> {
	let timer: NodeJS.Timeout | undefined;
	await Promise.race([promise, new Promise<void>(resolve => {
		timer = setTimeout(resolve, ms);
		timer.unref();
	})]);
	clearTimeout(timer);
}

/**
 * Start the demo: loopback SMTP servers on unprivileged ports, one per behaviour, and an
 * authoritative DNS server for the `.demo` zone. Needs no network, no port 25 and no root.
 */
export async function startDemo(): Promise<Demo> {
	const directory = certsDirectory();
	const intermediate = readPem(directory, 'intermediate');
	const leaf = (name: string): {key: string; cert: string} => ({key: readPem(directory, `${name}-key`), cert: readPem(directory, name) + intermediate});
	const behaviours: Array<[keyof typeof addresses, SmtpBehaviour]> = [
		['healthy', {hostname: 'mx1.healthy.demo', tls: {...leaf('healthy'), minVersion: 'TLSv1.3'}, localDomains: ['healthy.demo']}],
		// TLS 1.2 at most, with a certificate that expired in 2021 and names another host.
		['expired', {hostname: 'mx.expired.demo', tls: {...leaf('expired'), maxVersion: 'TLSv1.2'}, localDomains: ['expired.demo']}],
		// A forgotten box that greets with its default name and relays for anyone.
		['relay', {hostname: 'relay.localdomain', tls: leaf('relay'), openRelay: true}],
		['plaintext', {hostname: 'mx.plaintext.demo', localDomains: ['plaintext.demo']}],
		['slow', {hostname: 'mx.slow.demo', tls: leaf('slow'), greetingDelayMs: slowGreetingMs, localDomains: ['slow.demo']}],
	];

	const started: Array<SmtpServer | DnsServer | PolicyServer> = [];
	const ports: Record<string, number> = {};
	try {
		for (const [name, behaviour] of behaviours) {
			const server = await startSmtpServer(behaviour, addresses[name]);
			started.push(server);
			ports[addresses[name]] = server.port;
		}

		ports[addresses.unreachable] = await closedPort(addresses.unreachable);
		const dns = await startDnsServer(zone({healthy: readPem(directory, 'healthy'), intermediate}), '127.0.0.1', 0, {authenticated: true});
		started.push(dns);
		const policyCert = {key: readPem(directory, 'policy-key'), cert: readPem(directory, 'policy')};
		const policyServer = await startPolicyServer({
			host: addresses.policy,
			hosts: Object.fromEntries(Object.entries(policies).map(([domain, {mode, mx}]) => [`mta-sts.${domain}`, {...policyCert, body: policy(mode, mx)}])),
		});
		started.push(policyServer);
		return {
			domains: ['healthy.demo', 'expired.demo', 'relay.demo', 'plaintext.demo', 'slow.demo', 'dane.demo', 'mismatch.demo'],
			resolvers: [dns.address],
			ports,
			ca: [readPem(directory, 'root-ca'), readPem(directory, 'policy-root')],
			policyPort: policyServer.port,
			dnsbl: ['bl.demo'],
			async stop() {
				await atMost(closeQuietly(started), 2000);
			},
		};
	} catch (error) {
		await closeQuietly(started);
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'EADDRNOTAVAIL') {
			// macOS routes only 127.0.0.1 to lo0 unless told otherwise.
			throw new Error(`the demo needs the loopback addresses ${Object.values(addresses).join(', ')}; this system does not have them (on macOS: sudo ifconfig lo0 alias 127.0.53.1 up, and so on for each)`, {cause: error});
		}

		throw error;
	}
}
