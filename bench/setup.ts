// What the benchmark probes and with which settings: 40 domains × 5 MX hosts on loopback, each
// a STARTTLS server whose replies come late, probed 50 at a time.
import {existsSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

export const domainCount = 40;
export const hostsPerDomain = 5;
/** Each reply about this late (see SmtpBehaviour.replyDelayMs): a stand-in for network latency. */
export const replyDelayMs = 25;
export const concurrency = 50;
export const cycles = 5;
/** Start another cycle only if it should end within this long (at least `minimumCycles` run). */
export const budgetMs = 95_000;
export const minimumCycles = 3;
export const roundTimeoutMs = 30_000;
export const terminalSize = {columns: 160, rows: 60};
export const ehloName = 'bench.mxdash.invalid';
export const mailFrom = 'mxdash-relay-test@example.org';
export const rcptTo = 'relay-test@example.net';
/** The zone's DNS server, beside the SMTP servers' 127.0.70.1–200. */
export const dnsHost = '127.0.70.254';

export type Host = {domain: string; exchange: string; ip: string};

export const scenarios = ['A', 'B', 'C'] as const;
export type Scenario = typeof scenarios[number];

export const scenarioNames: Record<Scenario, string> = {
	A: 'engine only',
	B: 'engine + dashboard, one thread',
	C: 'engine in a worker + dashboard',
};

/** 40 domains × 5 MX hosts, one address each on 127.0.70.0/24. */
export function layout(): {domains: string[]; hosts: Host[]} {
	const domains = Array.from({length: domainCount}, (_, index) => `d${String(index + 1).padStart(2, '0')}.bench`);
	const hosts = domains.flatMap((domain, index) => Array.from({length: hostsPerDomain}, (_, slot) => ({
		domain,
		exchange: `mx${slot + 1}.${domain}`,
		ip: `127.0.70.${(index * hostsPerDomain) + slot + 1}`,
	})));
	return {domains, hosts};
}

/** The demo certificates: source/demo/certs, seen from the built bench (dist-bench/bench/) or from bench/. */
export function readPem(name: string): string {
	const candidates = [new URL('../../source/demo/certs/', import.meta.url), new URL('../source/demo/certs/', import.meta.url)];
	const found = candidates.find(candidate => existsSync(new URL('root-ca.pem', candidate)));
	if (!found) {
		throw new Error(`the demo certificates were not found; looked in ${candidates.map(candidate => fileURLToPath(candidate)).join(' and ')}`);
	}

	return readFileSync(new URL(`${name}.pem`, found), 'utf8');
}

export function healthyTls(): {key: string; cert: string; minVersion: 'TLSv1.3'} {
	return {key: readPem('healthy-key'), cert: readPem('healthy') + readPem('intermediate'), minVersion: 'TLSv1.3'};
}
