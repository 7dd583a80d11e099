import {Resolver} from 'node:dns/promises';
import net from 'node:net';
import {domainToASCII} from 'node:url';
import {MxdashError} from '../errors.js';
import type {Limits} from '../limits.js';
import type {DnsFailure, MxHost, MxPlan, PtrInfo} from '../types.js';
import {Slots} from '../run/slots.js';

export type DnsOptions = {servers?: string[]; limits: Pick<Limits, 'dnsMs' | 'dnsInFlight' | 'maxCnameDepth' | 'maxMxHosts' | 'maxAddressesPerHost'>};

const failureKinds: Record<string, DnsFailure['kind']> = {
	ENOTFOUND: 'nxdomain',
	ENODATA: 'nodata',
	ESERVFAIL: 'servfail',
	EREFUSED: 'refused',
	ETIMEOUT: 'timeout',
	ECONNREFUSED: 'unreachable',
	ECANCELLED: 'timeout',
};

/** A DNS failure in a few words, for messages. */
export const failureWords: Record<DnsFailure['kind'], string> = {
	nxdomain: 'NXDOMAIN',
	nodata: 'no such record',
	servfail: 'SERVFAIL',
	refused: 'REFUSED',
	timeout: 'timeout',
	unreachable: 'resolver unreachable',
	other: 'error',
};

/** Turn what the user typed into the ASCII domain to query, or throw a usage error. */
export function normalizeDomain(input: string): string {
	const trimmed = input.trim().replace(/\.$/, '');
	// domainToASCII follows the URL parser: it silently drops tabs and line breaks and decodes
	// percent escapes, so "exa\nmple.com" would become example.com. Refuse those first.
	const unsafe = [...trimmed].some(char => char < ' ' || char === '\x7F' || char === '%');
	const ascii = unsafe ? '' : (/^[\x20-\x7E]*$/.test(trimmed) ? trimmed.toLowerCase() : domainToASCII(trimmed));
	const labels = ascii.split('.');
	const valid = ascii.length > 0 && ascii.length <= 253 && !net.isIP(ascii)
		&& labels.every(label => /^[a-z\d_](?:[a-z\d_-]{0,61}[a-z\d_])?$/i.test(label));
	if (ascii.length > 253) {
		// Echoing hundreds of characters back hides the one fact that matters.
		throw new MxdashError('bad-domain', `not a valid domain name: ${JSON.stringify(`${[...input].slice(0, 24).join('')}…`)} is too long (${ascii.length} characters, at most 253)`);
	}

	if (!valid) {
		throw new MxdashError('bad-domain', `not a valid domain name: ${JSON.stringify(input)}`);
	}

	return ascii;
}

/** Parse `--resolver HOST[:PORT]` (IPv6 as [addr]:port); throw a usage error for anything else. */
export function parseResolver(value: string, name = '--resolver'): string {
	const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
	const plain = /^([^:]+)(?::(\d+))?$/.exec(value);
	const [host, port] = bracketed ? [bracketed[1]!, bracketed[2]] : (plain ? [plain[1]!, plain[2]] : (net.isIPv6(value) ? [value, undefined] : ['', undefined]));
	if (!net.isIP(host) || (port !== undefined && (Number(port) < 1 || Number(port) > 65_535))) {
		throw new MxdashError('bad-resolver', `${name} needs an IP address with an optional port, like 127.0.0.1:5353 or [::1]:53, not ${JSON.stringify(value)}`);
	}

	const address = net.isIPv6(host) ? `[${host}]` : host;
	return port ? `${address}:${port}` : host;
}

/**
 * A server given directly, `--server HOST[:PORT]` (IPv6 as [addr]:port, or a bare address
 * without a port): its key is `host:port` or `[v6]:port`, which no domain name can be, so the
 * key alone says the input skips the MX lookup wherever it travels (worker, dashboard).
 */
export function parseServer(value: string, defaultPort: number, name = '--server'): string {
	const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
	const plain = /^([^:[\]]+)(?::(\d+))?$/.exec(value);
	const [host, port] = bracketed ? [bracketed[1]!, bracketed[2]] : (plain ? [plain[1]!, plain[2]] : (net.isIPv6(value) ? [value, undefined] : ['', undefined]));
	const number = port === undefined ? defaultPort : Number(port);
	let address = net.isIP(host) ? host.toLowerCase() : '';
	if (!address && !bracketed) {
		try {
			address = normalizeDomain(host);
		} catch {
			address = '';
		}
	}

	if (!address || !Number.isInteger(number) || number < 1 || number > 65_535) {
		throw new MxdashError('bad-flag', `${name} needs a host name or an IP address with an optional port, like mx.example.org:25, 192.0.2.1 or [2001:db8::1]:2525, not ${JSON.stringify(value)}`);
	}

	return `${net.isIPv6(address) ? `[${address}]` : address}:${number}`;
}

/** The host and port of a key made by parseServer; undefined for a domain. */
export function directServer(key: string): {host: string; port: number} | undefined {
	const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(key);
	return match ? {host: match[1] ?? match[2]!, port: Number(match[3])} : undefined;
}

/** The key of an input: a server given directly as it is, a domain normalized. */
export function inputKey(input: string): string {
	return directServer(input) ? input : normalizeDomain(input);
}

/**
 * Plans asked for before the round starts (prefetchPlans), by input key. Each is taken once, and
 * only by a Dns with the same servers and limits: otherwise it asks again.
 */
const early = new Map<string, {options: string; dns: Dns; plan: Promise<MxPlan>}>();
const optionsKey = (options: DnsOptions): string => JSON.stringify([options.servers ?? [], options.limits]);

/**
 * Start the MX plans of a one-shot run's domains while the rest of mxdash loads (~130 ms of
 * start-up against 2 round trips of DNS). At most 16; bad inputs are left to the run to report.
 */
export function prefetchPlans(inputs: string[], options: DnsOptions): void {
	const dns = new Dns(options);
	for (const input of inputs.slice(0, 16)) {
		try {
			early.set(inputKey(input), {options: optionsKey(options), dns, plan: dns.plan(input)});
		} catch {
			// Not a domain: the run says so.
		}
	}
}

/** Whether plans were asked for before the round (their answers may be in, or due any moment). */
export function prefetching(): boolean {
	return early.size > 0;
}

/** Drop the plans nobody took, ending their queries (a run that stops early must not wait for them). */
export function cancelPrefetch(): void {
	for (const {dns} of early.values()) {
		dns.cancel();
	}

	early.clear();
}

type HostAnswers = [chain: {names: string[]; loop: boolean}, v4: string[] | DnsFailure, v6: string[] | DnsFailure];

/** A resolver whose every query ends by an absolute deadline and fails with a classified error. */
export class Dns {
	private readonly resolver: Resolver;
	/** Thousands of questions at once (a large round) came back faster than the one socket was read, and the kernel dropped answers: each then cost a retry, or the lookup. */
	private readonly inFlight: Slots;
	/** A host's CNAME chain and addresses, asked once a round however many domains name it. */
	private lookups = new Map<string, Promise<HostAnswers>>();

	constructor(private readonly options: DnsOptions) {
		this.resolver = new Resolver({timeout: Math.max(100, Math.floor(options.limits.dnsMs / 2)), tries: 2});
		this.inFlight = new Slots(options.limits.dnsInFlight);
		if (options.servers && options.servers.length > 0) {
			this.resolver.setServers(options.servers);
		}
	}

	/** Forget the host lookups of the last round: a new round asks again. */
	newRound(): void {
		this.lookups = new Map();
	}

	async query<T>(run: (resolver: Resolver) => Promise<T>): Promise<T | DnsFailure> {
		return this.inFlight.run(async () => this.ask(run));
	}

	private async ask<T>(run: (resolver: Resolver) => Promise<T>): Promise<T | DnsFailure> {
		let timer: NodeJS.Timeout | undefined;
		const deadline = new Promise<DnsFailure>(resolve => {
			timer = setTimeout(() => {
				resolve({kind: 'timeout', code: 'ETIMEOUT', message: `no answer within ${this.options.limits.dnsMs} ms`});
			}, this.options.limits.dnsMs);
		});
		try {
			return await Promise.race([run(this.resolver).catch((error: NodeJS.ErrnoException) => classify(error)), deadline]);
		} finally {
			clearTimeout(timer);
		}
	}

	/** Ends the queries under way; each answers as failed (cancelled). */
	cancel(): void {
		this.resolver.cancel();
	}

	/** What DNS says of a domain's mail hosts: facts only, the dns-plan check judges them. */
	async plan(input: string): Promise<MxPlan> {
		const key = inputKey(input);
		const prefetched = early.get(key);
		if (prefetched && prefetched.dns !== this) {
			early.delete(key);
			if (prefetched.options === optionsKey(this.options)) {
				return prefetched.plan;
			}

			prefetched.dns.cancel();
		}

		const server = directServer(input);
		if (server) {
			// No MX query: the one host is the name or address given, a name's A/AAAA looked up.
			const literal = net.isIP(server.host) > 0;
			const host = literal ? {exchange: server.host, preference: 0, implicit: false, ipLiteral: true, addresses: [server.host]} : await this.host(server.host, 0, false);
			return {domain: input, input, query: {answer: 'direct'}, mx: [{...host, port: server.port}]};
		}

		const domain = normalizeDomain(input);
		const answer = await this.query(async resolver => resolver.resolveMx(domain));
		if (isFailure(answer)) {
			if (answer.kind === 'nodata') {
				const host = await this.host(domain, 0, true);
				return {domain, input, query: {answer: 'none'}, mx: host.addresses.length > 0 ? [host] : []};
			}

			return {domain, input, query: {answer: 'failed', failure: answer}, mx: [], ...(answer.kind === 'timeout' || answer.kind === 'unreachable' ? {unknown: true} : {})};
		}

		const nullRecords = answer.filter(record => record.exchange === '' || record.exchange === '.').length;
		const sorted = [...answer].sort((a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange));
		const unique = new Map<string, number>();
		for (const record of sorted) {
			const name = record.exchange.toLowerCase().replace(/\.$/, '');
			if (!unique.has(name)) {
				unique.set(name, record.priority);
			}
		}

		const query = {answer: 'records', records: answer.length, nullRecords, hosts: unique.size} as const;
		if (nullRecords > 0) {
			return {domain, input, query, mx: []};
		}

		const mx = await Promise.all([...unique].slice(0, this.options.limits.maxMxHosts).map(async ([exchange, preference]) => this.host(exchange, preference, false)));
		return {domain, input, query, mx};
	}

	private async host(exchange: string, preference: number, implicit: boolean): Promise<MxHost> {
		const host: MxHost = {exchange, preference, implicit, ipLiteral: false, addresses: []};
		const literal = exchange.replace(/^\[|\]$/g, '');
		if (net.isIP(literal)) {
			return {...host, ipLiteral: true, addresses: [literal]};
		}

		let answers = this.lookups.get(exchange);
		if (!answers) {
			// The CNAME check goes alongside the address lookups (a recursive resolver follows the
			// chain for A and AAAA anyway): one round trip after the MX answer, not two.
			answers = Promise.all([
				this.cnameChain(exchange),
				this.query(async resolver => resolver.resolve4(exchange)),
				this.query(async resolver => resolver.resolve6(exchange)),
			]);
			this.lookups.set(exchange, answers);
		}

		const [chain, v4, v6] = await answers;
		if (chain.loop) {
			return {...host, cname: chain.names, cnameLoop: true};
		}

		if (chain.names.length > 0 && !implicit) {
			host.cname = chain.names;
		}

		const addresses = [...(isFailure(v4) ? [] : v4), ...(isFailure(v6) ? [] : v6)];
		host.addresses = [...new Set(addresses)].slice(0, this.options.limits.maxAddressesPerHost);
		const failures = [v4, v6].filter(answer => isFailure(answer));
		if (host.addresses.length === 0 && failures.length > 0) {
			host.lookupFailures = failures;
		}

		return host;
	}

	private async cnameChain(name: string): Promise<{names: string[]; loop: boolean}> {
		const names: string[] = [];
		const seen = new Set([name]);
		let current = name;
		for (let depth = 0; depth <= this.options.limits.maxCnameDepth; depth++) {
			const answer = await this.query(async resolver => resolver.resolveCname(current));
			if (isFailure(answer) || answer.length === 0) {
				return {names, loop: false};
			}

			current = answer[0]!.toLowerCase().replace(/\.$/, '');
			names.push(current);
			if (seen.has(current)) {
				return {names, loop: true};
			}

			seen.add(current);
		}

		return {names, loop: true};
	}

	/** A name's addresses (A and AAAA together), for the policy fetch: never the system's dns.lookup. */
	async addresses(name: string): Promise<string[] | {message: string}> {
		const answers = await Promise.all([
			this.query(async resolver => resolver.resolve4(name)),
			this.query(async resolver => resolver.resolve6(name)),
		]);
		const addresses = answers.flatMap(answer => (isFailure(answer) ? [] : answer));
		const failure = answers.find(answer => isFailure(answer));
		return addresses.length > 0 ? addresses : {message: `${name}: ${failure ? `${failureWords[failure.kind]} (${failure.message})` : 'no address'}`};
	}

	/** The PTR names of an address and whether the first resolves back to it (FCrDNS). */
	async ptr(ip: string): Promise<PtrInfo> {
		const names = await this.query(async resolver => resolver.reverse(ip));
		if (isFailure(names)) {
			return ['nxdomain', 'nodata'].includes(names.kind) ? {ptrNames: []} : {ptrNames: [], error: `${failureWords[names.kind]}: ${names.message}`};
		}

		const ptrNames = names.slice(0, 8).map(name => name.replace(/\.$/, ''));
		const forward = await Promise.all(ptrNames.slice(0, 2).map(async name =>
			this.query(async resolver => (net.isIPv6(ip) ? resolver.resolve6(name) : resolver.resolve4(name)))));
		const fcrdns = forward.some(answer => !isFailure(answer) && answer.some(address => sameAddress(address, ip)));
		return {...(ptrNames[0] ? {ptr: ptrNames[0]} : {}), ptrNames, fcrdns};
	}
}

function sameAddress(a: string, b: string): boolean {
	return net.isIPv6(a) ? new net.SocketAddress({address: a, family: 'ipv6'}).address === new net.SocketAddress({address: b, family: 'ipv6'}).address : a === b;
}

function classify(error: NodeJS.ErrnoException): DnsFailure {
	const code = error.code ?? 'UNKNOWN';
	return {kind: failureKinds[code] ?? 'other', code, message: error.message};
}

function isFailure(value: unknown): value is DnsFailure {
	return typeof value === 'object' && value !== null && 'kind' in value && 'code' in value && !Array.isArray(value);
}
