import {Resolver} from 'node:dns/promises';
import net from 'node:net';
import {domainToASCII} from 'node:url';
import {MxdashError} from '../errors.js';
import {reservedRange} from './address-ranges.js';
import {finding} from '../checks/catalogue.js';
import type {Limits} from '../limits.js';
import type {Finding, MxHost, MxPlan, PtrInfo} from '../types.js';

export type DnsOptions = {servers?: string[]; limits: Pick<Limits, 'dnsMs' | 'maxCnameDepth' | 'maxMxHosts' | 'maxAddressesPerHost'>};

type DnsFailure = {kind: 'nxdomain' | 'nodata' | 'servfail' | 'refused' | 'timeout' | 'unreachable' | 'other'; code: string; message: string};

const failureKinds: Record<string, DnsFailure['kind']> = {
	ENOTFOUND: 'nxdomain',
	ENODATA: 'nodata',
	ESERVFAIL: 'servfail',
	EREFUSED: 'refused',
	ETIMEOUT: 'timeout',
	ECONNREFUSED: 'unreachable',
	ECANCELLED: 'timeout',
};

const failureWords: Record<DnsFailure['kind'], string> = {
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
	if (!valid) {
		throw new MxdashError('bad-domain', `not a valid domain name: ${JSON.stringify(input)}`);
	}

	return ascii;
}

/** Parse `--resolver HOST[:PORT]` (IPv6 as [addr]:port); throw a usage error for anything else. */
export function parseResolver(value: string): string {
	const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
	const plain = /^([^:]+)(?::(\d+))?$/.exec(value);
	const [host, port] = bracketed ? [bracketed[1]!, bracketed[2]] : (plain ? [plain[1]!, plain[2]] : (net.isIPv6(value) ? [value, undefined] : ['', undefined]));
	if (!net.isIP(host) || (port !== undefined && (Number(port) < 1 || Number(port) > 65_535))) {
		throw new MxdashError('bad-resolver', `--resolver needs an IP address with an optional port, like 127.0.0.1:5353 or [::1]:53, not ${JSON.stringify(value)}`);
	}

	const address = net.isIPv6(host) ? `[${host}]` : host;
	return port ? `${address}:${port}` : host;
}

/** A resolver whose every query ends by an absolute deadline and fails with a classified error. */
export class Dns {
	private readonly resolver: Resolver;

	constructor(private readonly options: DnsOptions) {
		this.resolver = new Resolver({timeout: Math.max(100, Math.floor(options.limits.dnsMs / 2)), tries: 2});
		if (options.servers && options.servers.length > 0) {
			this.resolver.setServers(options.servers);
		}
	}

	async query<T>(run: (resolver: Resolver) => Promise<T>): Promise<T | DnsFailure> {
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

	async plan(input: string): Promise<MxPlan> {
		const domain = normalizeDomain(input);
		const findings: Finding[] = [];
		const plan: MxPlan = {domain, input, mx: [], findings};
		const answer = await this.query(async resolver => resolver.resolveMx(domain));
		if (isFailure(answer)) {
			if (answer.kind === 'nxdomain') {
				findings.push(finding('dns-nxdomain', `${domain} does not exist (NXDOMAIN).`));
			} else if (answer.kind === 'nodata') {
				await this.implicit(plan);
			} else {
				findings.push(finding('dns-error', `The MX query for ${domain} failed: ${failureWords[answer.kind]} (${answer.message}). Nothing was probed; mxdash never falls back to the implicit MX on a temporary error.`));
				plan.unknown = answer.kind === 'timeout' || answer.kind === 'unreachable';
			}

			return plan;
		}

		const nullMx = answer.filter(record => record.exchange === '' || record.exchange === '.');
		if (nullMx.length > 0) {
			findings.push(finding('mx-null', `${domain} publishes a null MX (RFC 7505): it accepts no mail.`));
			if (nullMx.length !== answer.length) {
				findings.push(finding('mx-null-mixed', `${domain} has a null MX beside ${answer.length - nullMx.length} other MX record(s).`));
			}

			return plan;
		}

		const sorted = [...answer].sort((a, b) => a.priority - b.priority || a.exchange.localeCompare(b.exchange));
		const unique = new Map<string, number>();
		for (const record of sorted) {
			const name = record.exchange.toLowerCase().replace(/\.$/, '');
			if (!unique.has(name)) {
				unique.set(name, record.priority);
			}
		}

		const {maxMxHosts} = this.options.limits;
		if (unique.size > maxMxHosts) {
			findings.push(finding('mx-too-many', `${domain} has ${unique.size} MX hosts; mxdash probes the first ${maxMxHosts} by preference.`));
		}

		plan.mx = await Promise.all([...unique].slice(0, maxMxHosts).map(async ([exchange, preference]) => this.host(exchange, preference, false)));
		findings.push(...redundancyFindings(plan));
		return plan;
	}

	private async implicit(plan: MxPlan): Promise<void> {
		const host = await this.host(plan.domain, 0, true);
		if (host.addresses.length === 0) {
			plan.findings.push(finding('mx-none', `${plan.domain} has no MX record and no A/AAAA record: no mail can be delivered to it.`));
			return;
		}

		plan.findings.push(finding('mx-implicit', `${plan.domain} has no MX record; mail goes to its own address(es): ${host.addresses.join(', ')} (RFC 5321 §5.1).`));
		plan.mx = [host];
		plan.findings.push(...redundancyFindings(plan));
	}

	private async host(exchange: string, preference: number, implicit: boolean): Promise<MxHost> {
		const host: MxHost = {exchange, preference, implicit, ipLiteral: false, addresses: [], findings: []};
		const literal = exchange.replace(/^\[|\]$/g, '');
		if (net.isIP(literal)) {
			host.ipLiteral = true;
			host.addresses = [literal];
			host.findings.push(finding('mx-ip-literal', `The MX exchange "${exchange}" is an IP address, not a host name.`), ...reservedFindings(exchange, host.addresses));
			return host;
		}

		const chain = await this.cnameChain(exchange);
		if (chain.loop) {
			host.cname = chain.names;
			host.findings.push(finding('mx-cname-loop', `${exchange} is an alias whose CNAME chain ${chain.names.join(' → ')} loops or is longer than ${this.options.limits.maxCnameDepth}.`));
			return host;
		}

		if (chain.names.length > 0 && !implicit) {
			host.cname = chain.names;
			host.findings.push(finding('mx-cname', `The MX host ${exchange} is an alias (CNAME → ${chain.names.join(' → ')}).`));
		}

		const [v4, v6] = await Promise.all([
			this.query(async resolver => resolver.resolve4(exchange)),
			this.query(async resolver => resolver.resolve6(exchange)),
		]);
		const addresses = [...(isFailure(v4) ? [] : v4), ...(isFailure(v6) ? [] : v6)];
		host.addresses = [...new Set(addresses)].slice(0, this.options.limits.maxAddressesPerHost);
		host.findings.push(...reservedFindings(exchange, host.addresses));
		if (host.addresses.length === 0 && !implicit) {
			const temporary = [v4, v6].find(answer => isFailure(answer) && !['nxdomain', 'nodata'].includes(answer.kind));
			host.findings.push(temporary && isFailure(temporary)
				? finding('dns-error', `The address lookup of ${exchange} failed: ${failureWords[temporary.kind]} (${temporary.message}).`)
				: finding('mx-unresolvable', `The MX host ${exchange} has no A or AAAA record${isFailure(v4) && v4.kind === 'nxdomain' ? ' (NXDOMAIN)' : ''}.`));
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

function reservedFindings(exchange: string, addresses: string[]): Finding[] {
	return addresses.flatMap(ip => {
		const range = reservedRange(ip);
		return range ? [finding('mx-reserved-address', `${exchange} resolves to ${ip}, in the ${range} range, which senders on the Internet cannot reach.`)] : [];
	});
}

function redundancyFindings(plan: MxPlan): Finding[] {
	const addresses = new Set(plan.mx.flatMap(host => host.addresses));
	const findings: Finding[] = [];
	if (addresses.size === 1) {
		findings.push(finding('mx-single-point', `Every MX host of ${plan.domain} resolves to one address, ${[...addresses][0]!}: no redundancy.`));
	}

	if (addresses.size > 0 && ![...addresses].some(address => net.isIPv6(address))) {
		findings.push(finding('mx-no-ipv6', `No MX host of ${plan.domain} has an IPv6 address.`));
	}

	return findings;
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
