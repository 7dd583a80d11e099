import {existsSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {startDnsServer, reverseName} from '../peers/dns-server.js';
import type {DnsServer, Zone} from '../peers/dns-server.js';
import {closedPort} from '../peers/listener.js';
import {startSmtpServer} from '../peers/smtp-server.js';
import type {SmtpBehaviour, SmtpServer} from '../peers/smtp-server.js';

/** What `mxdash --demo` probes: feed these to runRound (resolvers, ports, ca) as they are. */
export type Demo = {
	domains: string[];
	/** The demo's own DNS server, as HOST:PORT. */
	resolvers: string[];
	/** The SMTP port of each demo address. */
	ports: Record<string, number>;
	/** The demo root CA (PEM), to trust beside the system's roots. */
	ca: string[];
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
} as const;

/** A greeting this late is past the engine's 5 s banner-slow threshold, yet far from its timeouts. */
const slowGreetingMs = 6000;

/**
 * tsc compiles only .ts into dist/, so the PEM files stay in source/demo/certs/: next to this
 * module when it runs from source (vitest), two levels up from dist/demo/ when built.
 */
function certsDirectory(): URL {
	const candidates = [new URL('certs/', import.meta.url), new URL('../../source/demo/certs/', import.meta.url)];
	const found = candidates.find(candidate => existsSync(new URL('root-ca.pem', candidate)));
	if (!found) {
		throw new Error(`the demo certificates were not found; looked in ${candidates.map(candidate => fileURLToPath(candidate)).join(' and ')}`);
	}

	return found;
}

function readPem(directory: URL, name: string): string {
	return readFileSync(new URL(`${name}.pem`, directory), 'utf8');
}

function zone(): Zone {
	const a = addresses;
	return {
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

async function closeQuietly(servers: Array<SmtpServer | DnsServer>): Promise<void> {
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

	const started: Array<SmtpServer | DnsServer> = [];
	const ports: Record<string, number> = {};
	try {
		for (const [name, behaviour] of behaviours) {
			const server = await startSmtpServer(behaviour, addresses[name]);
			started.push(server);
			ports[addresses[name]] = server.port;
		}

		ports[addresses.unreachable] = await closedPort(addresses.unreachable);
		const dns = await startDnsServer(zone(), '127.0.0.1', 0);
		started.push(dns);
		return {
			domains: ['healthy.demo', 'expired.demo', 'relay.demo', 'plaintext.demo', 'slow.demo'],
			resolvers: [dns.address],
			ports,
			ca: [readPem(directory, 'root-ca')],
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
