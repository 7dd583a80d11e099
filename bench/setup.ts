// What the benchmark probes and with which settings: 200 domains × 5 MX hosts on loopback (the
// dashboard's 1,000 rows), each a STARTTLS server whose replies come late, probed 50 at a time.
import {existsSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

export const domainCount = 200;
export const hostsPerDomain = 5;
/** Each reply about this late (see SmtpBehaviour.replyDelayMs): a stand-in for network latency. */
export const replyDelayMs = 25;
export const concurrency = 50;
export const cycles = 3;
/** Start another cycle only if it should end within this long (at least `minimumCycles` run). */
export const budgetMs = 85_000;
export const minimumCycles = 2;
export const roundTimeoutMs = 30_000;
/** C: a key every this long while the round runs (key to frame, issue 10: ≤ 50 ms at p95). */
export const keyIntervalMs = 150;
/** The frame-cost measurement: keys per dashboard size, and the sizes (domains of 5 MX each). */
export const framePresses = 30;
/** Rounds of C with keys pressed, per terminal size: their keys pooled for key → frame. */
export const keyRoundCount = 3;
export const frameSizes = [20, 200] as const;
/** The warm-up rounds probe the first this many domains: enough to compile, not a whole round. */
export const warmUpDomains = 40;
export const terminalSize = {columns: 160, rows: 60};
/** The frame cost again on the common terminal size, for comparison. */
export const smallTerminal = {columns: 80, rows: 24};
export const ehloName = 'bench.mxdash.invalid';
export const mailFrom = 'mxdash-relay-test@example.org';
export const rcptTo = 'relay-test@example.net';
/** The zone's DNS server, beside the SMTP servers' 127.0.70–74.1–200. */
export const dnsHost = '127.0.70.254';

export type Host = {domain: string; exchange: string; ip: string};

export const scenarios = ['A', 'B', 'C'] as const;
export type Scenario = typeof scenarios[number];

export const scenarioNames: Record<Scenario, string> = {
	A: 'engine only',
	B: 'engine + dashboard, one thread',
	C: 'engine in a worker + dashboard',
};

/** Addresses per /24: 127.0.70.1–200, then 127.0.71.1–200, … */
const perNet = 200;

/** The networks the addresses take, as the header prints them. */
export function networks(count: number): string {
	const last = 70 + Math.ceil(count / perNet) - 1;
	return last === 70 ? '127.0.70.0/24' : `127.0.70.0/24 … 127.0.${last}.0/24`;
}

/** 200 domains × 5 MX hosts, one address each on 127.0.70.0/24 … 127.0.74.0/24. */
export function layout(): {domains: string[]; hosts: Host[]} {
	const domains = Array.from({length: domainCount}, (_, index) => `d${String(index + 1).padStart(3, '0')}.bench`);
	const hosts = domains.flatMap((domain, index) => Array.from({length: hostsPerDomain}, (_, slot) => ({
		domain,
		exchange: `mx${slot + 1}.${domain}`,
		ip: ipOf((index * hostsPerDomain) + slot),
	})));
	return {domains, hosts};
}

function ipOf(n: number): string {
	return `127.0.${70 + Math.floor(n / perNet)}.${(n % perNet) + 1}`;
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
