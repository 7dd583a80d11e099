// The policy layer's DNS lookups (TXT, TLSA, DNSSEC status, blocklists), over rawQuery so the AD
// bit is seen. Every method returns a fact value and never throws; the checks judge the facts.
import net from 'node:net';
import type {Answer, RecordType} from 'dns-packet';
import {defaultServers, isDnsFailure, rawQuery} from '../dns/packet.js';
import type {RawAnswer} from '../dns/packet.js';
import {failureWords} from '../dns/resolver.js';
import type {DnsFailure} from '../types.js';
import type {DnsblAnswer, DnsblHealth, DnssecStatus, MxPolicy, ResolverValidation, TlsaRecord, TxtAnswer} from './types.js';

const maxTxtRecords = 64;
const maxTxtBytes = 16 * 1024;
const maxTlsaRecords = 32;
const maxDnsblText = 512;
const maxCnameHops = 16;

/** What a blocklist's refusal answer (127.255.255.252–255) means: the list gave no verdict. */
export const dnsblRefusals: Record<string, string> = {
	'127.255.255.252': 'the list refused the query (127.255.255.252): typo in the list\'s name',
	'127.255.255.253': 'the list refused the query (127.255.255.253): unsupported or blocked query',
	'127.255.255.254': 'the list refused the query (127.255.255.254): public/open resolver refused, use your own resolver',
	'127.255.255.255': 'the list refused the query (127.255.255.255): rate limit / excessive queries',
};

const spamhaus: Record<string, string> = {
	'127.0.0.2': 'SBL (Spamhaus Block List: spam source)',
	'127.0.0.3': 'SBL CSS (snowshoe spam)',
	'127.0.0.4': 'XBL (exploited: CBL botnet/proxy)',
	'127.0.0.9': 'DROP (hijacked netblock)',
	'127.0.0.10': 'PBL (ISP: end-user range not meant to send direct)',
	'127.0.0.11': 'PBL (Spamhaus-maintained end-user range)',
};

/** The blocklists whose answer codes mxdash can name, zone → code → meaning. */
export const knownDnsblZones: Record<string, Record<string, string>> = {
	'zen.spamhaus.org': spamhaus,
	'sbl-xbl.spamhaus.org': spamhaus,
	'xbl.spamhaus.org': spamhaus,
	'pbl.spamhaus.org': spamhaus,
	'sbl.spamhaus.org': spamhaus,
	'bl.spamcop.net': {'127.0.0.2': 'SpamCop: reported spam source'},
};

/** The eight 16-bit groups of an IPv6 address as 32 hex digits (`::` and a dotted IPv4 tail expanded). */
function ipv6Nibbles(ip: string): string | undefined {
	let address = ip.replace(/%.*$/, '').toLowerCase();
	const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address);
	if (v4) {
		const octets = v4[2]!.split('.').map(Number);
		address = `${v4[1]}${((octets[0]! << 8) | octets[1]!).toString(16)}:${((octets[2]! << 8) | octets[3]!).toString(16)}`;
	}

	const [head = '', tail, extra] = address.split('::');
	if (extra !== undefined) {
		return undefined;
	}

	const front = head ? head.split(':') : [];
	const back = tail ? tail.split(':') : [];
	const missing = 8 - front.length - back.length;
	if (tail === undefined ? missing !== 0 : missing < 1) {
		return undefined;
	}

	const groups = [...front, ...Array.from({length: tail === undefined ? 0 : missing}, () => '0'), ...back];
	return groups.every(group => /^[\da-f]{1,4}$/.test(group)) ? groups.map(group => group.padStart(4, '0')).join('') : undefined;
}

/** The name a blocklist is asked for an address (RFC 5782 §2.1, §2.4); undefined for a non-address. */
export function dnsblName(ip: string, zone: string): string | undefined {
	const suffix = zone.replace(/^\.|\.$/g, '');
	if (net.isIPv4(ip)) {
		return `${ip.split('.').reverse().join('.')}.${suffix}`;
	}

	const nibbles = net.isIPv6(ip) ? ipv6Nibbles(ip) : undefined;
	return nibbles ? `${[...nibbles].reverse().join('.')}.${suffix}` : undefined;
}

/** A record's data (OPT pseudo-records have none). */
function dataOf(answer: Answer): unknown {
	return 'data' in answer ? answer.data : undefined;
}

function lower(name: string): string {
	return name.toLowerCase().replace(/\.$/, '');
}

/** Follow the CNAME chain from `name` through an answer: the aliases in order and the final name. */
function cnameChain(answers: Answer[], name: string): {chain: string[]; final: string} {
	const chain: string[] = [];
	let final = lower(name);
	for (let hop = 0; hop < maxCnameHops; hop++) {
		const alias = answers.find(answer => answer.type === 'CNAME' && lower(answer.name) === final);
		const next = alias ? dataOf(alias) : undefined;
		if (typeof next !== 'string' || chain.includes(lower(next))) {
			break;
		}

		final = lower(next);
		chain.push(final);
	}

	return {chain, final};
}

/** The records of the question's type at the end of its CNAME chain. */
function finalRecords(raw: RawAnswer, name: string, type: RecordType): {records: Answer[]; chain: string[]} {
	const {chain, final} = cnameChain(raw.answers, name);
	return {records: raw.answers.filter(answer => answer.type === type && lower(answer.name) === final), chain};
}

/** A non-NOERROR rcode as the failure the rest of mxdash knows (node:dns's codes). */
function rcodeFailure(raw: RawAnswer, what: string): DnsFailure {
	const known: Record<string, [DnsFailure['kind'], string]> = {
		NXDOMAIN: ['nxdomain', 'ENOTFOUND'],
		SERVFAIL: ['servfail', 'ESERVFAIL'],
		REFUSED: ['refused', 'EREFUSED'],
	};
	const [kind, code] = known[raw.rcode] ?? ['other', raw.rcode];
	return {kind, code, message: `${what}: ${raw.rcode} from ${raw.server}`};
}

function inWords(failure: DnsFailure): string {
	return `${failureWords[failure.kind]}: ${failure.message}`;
}

type Status = {status: DnssecStatus; raw?: RawAnswer; error?: string};

export type PolicyDnsOptions = {servers?: string[]; limits: {dnsMs: number}};

export class PolicyDns {
	private readonly servers: string[];

	constructor(private readonly options: PolicyDnsOptions) {
		this.servers = options.servers && options.servers.length > 0 ? options.servers : defaultServers();
	}

	private async query(name: string, type: RecordType, flags: {dnssec?: boolean; checkingDisabled?: boolean} = {}): Promise<RawAnswer | DnsFailure> {
		try {
			return await rawQuery(this.servers, name, type, {...flags, timeoutMs: this.options.limits.dnsMs});
		} catch (error) {
			// rawQuery should never throw; if it does, it is still only a failed lookup.
			return {kind: 'other', code: 'EINTERNAL', message: (error as Error).message};
		}
	}

	/** TXT records at `name`: each record's strings joined, at most 64 records and 16 KiB in all. */
	async txt(name: string): Promise<TxtAnswer> {
		const raw = await this.query(name, 'TXT');
		if (isDnsFailure(raw)) {
			return {failure: raw};
		}

		if (raw.rcode !== 'NOERROR') {
			return {failure: rcodeFailure(raw, `TXT ${name}`)};
		}

		const {records, chain} = finalRecords(raw, name, 'TXT');
		if (records.length === 0) {
			return {failure: {kind: 'nodata', code: 'ENODATA', message: `no TXT record at ${chain.at(-1) ?? name}`}};
		}

		const texts: string[] = [];
		let budget = maxTxtBytes;
		for (const record of records.slice(0, maxTxtRecords)) {
			const data = dataOf(record) as string | Buffer | Array<string | Buffer>;
			const bytes = Buffer.concat((Array.isArray(data) ? data : [data]).map(part => (typeof part === 'string' ? Buffer.from(part) : part)));
			// A huge answer is cut, not refused: the checks see what fits and judge that.
			texts.push(bytes.subarray(0, budget).toString('utf8'));
			budget -= Math.min(budget, bytes.length);
			if (budget === 0) {
				break;
			}
		}

		return chain.length > 0 ? {records: texts, cname: chain} : {records: texts};
	}

	/** Whether the resolver validates: the root's DNSKEY asked with DO must come back with AD. */
	async validation(): Promise<ResolverValidation> {
		const raw = await this.query('.', 'DNSKEY', {dnssec: true});
		if (isDnsFailure(raw)) {
			return {resolver: this.servers.join(', '), validates: false, detail: `the root's DNSKEY query failed: ${inWords(raw)}`, failed: true};
		}

		if (raw.rcode !== 'NOERROR') {
			return {resolver: raw.server, validates: false, detail: `the root's DNSKEY query gave ${raw.rcode}`};
		}

		return {resolver: raw.server, validates: raw.ad, detail: raw.ad ? 'AD set on the root\'s DNSKEY' : 'AD not set on the root\'s DNSKEY'};
	}

	/** A query with DO and its DNSSEC status: AD → secure; SERVFAIL that CD clears → bogus. */
	private async status(name: string, type: RecordType): Promise<Status> {
		const raw = await this.query(name, type, {dnssec: true});
		if (isDnsFailure(raw)) {
			return {status: 'unknown', error: `${type} ${name}: ${inWords(raw)}`};
		}

		if (raw.rcode === 'SERVFAIL') {
			// A validating resolver answers SERVFAIL for a bogus answer; with CD it hands the data over.
			const unchecked = await this.query(name, type, {dnssec: true, checkingDisabled: true});
			if (!isDnsFailure(unchecked) && (unchecked.answers.length > 0 || unchecked.rcode === 'NOERROR')) {
				return {status: 'bogus', raw: unchecked};
			}

			return {status: 'unknown', error: `${type} ${name}: SERVFAIL, ${isDnsFailure(unchecked) ? `and with CD set ${inWords(unchecked)}` : `and ${unchecked.rcode} with CD set`}`};
		}

		if (raw.rcode === 'NOERROR' || raw.rcode === 'NXDOMAIN') {
			return {status: raw.ad ? 'secure' : 'insecure', raw};
		}

		return {status: 'unknown', error: `${type} ${name}: ${raw.rcode} from ${raw.server}`};
	}

	/** The MX host's DNSSEC status and its TLSA set (for an alias: the target's, else the original name's). */
	async mxPolicy(host: {exchange: string; cname?: string[]}): Promise<MxPolicy> {
		const exchange = lower(host.exchange);
		const target = host.cname && host.cname.length > 0 ? lower(host.cname.at(-1)!) : undefined;
		const names = [...(target && target !== exchange ? [target] : []), exchange].map(name => `_25._tcp.${name}`);
		const [address, tlsa] = await Promise.all([this.status(exchange, 'A'), this.tlsaSet(names)]);
		const errors = [address.error, tlsa.error].filter(error => error !== undefined);
		return {
			exchange: host.exchange,
			tlsaName: tlsa.name,
			dnssec: address.status,
			tlsaDnssec: tlsa.status,
			tlsa: tlsa.records,
			...(errors.length > 0 ? {error: errors.join('; ')} : {}),
		};
	}

	/** RFC 7672 §2.2.2: the first name with TLSA records wins; a failed lookup stops the search. */
	private async tlsaSet(names: string[]): Promise<{name: string; status: DnssecStatus; records: TlsaRecord[]; error?: string}> {
		let last: {name: string; status: DnssecStatus; records: TlsaRecord[]; error?: string} = {name: names[0]!, status: 'unknown', records: []};
		for (const name of names) {
			const result = await this.status(name, 'TLSA');
			const records = result.raw ? finalRecords(result.raw, name, 'TLSA').records.slice(0, maxTlsaRecords).flatMap(record => tlsaRecord(record)) : [];
			last = {name, status: result.status, records, ...(result.error ? {error: result.error} : {})};
			// Only a clean "none here" (secure or insecure, no records) moves on to the next name.
			if (records.length > 0 || (result.status !== 'secure' && result.status !== 'insecure')) {
				return last;
			}
		}

		return last;
	}

	/** One blocklist's answer for one address (RFC 5782): listed with codes, not listed, or no verdict. */
	async dnsbl(ip: string, zone: string): Promise<DnsblAnswer> {
		return this.dnsblLookup(ip, zone, true);
	}

	private async dnsblLookup(ip: string, zone: string, withText: boolean): Promise<DnsblAnswer> {
		const name = dnsblName(ip, zone);
		if (!name) {
			return {zone, listed: false, codes: [], error: `not an IP address: ${JSON.stringify(ip)}`};
		}

		const raw = await this.query(name, 'A');
		if (isDnsFailure(raw)) {
			return {zone, listed: false, codes: [], error: inWords(raw)};
		}

		if (raw.rcode === 'NXDOMAIN') {
			return {zone, listed: false, codes: []};
		}

		if (raw.rcode !== 'NOERROR') {
			return {zone, listed: false, codes: [], error: `${raw.rcode} from ${raw.server}`};
		}

		const codes = finalRecords(raw, name, 'A').records.map(record => String(dataOf(record))).slice(0, 16);
		if (codes.length === 0) {
			return {zone, listed: false, codes: []};
		}

		if (codes.some(code => !code.startsWith('127.'))) {
			return {zone, listed: false, codes, error: 'answer outside 127.0.0.0/8: list misbehaving'};
		}

		const refusal = codes.find(code => dnsblRefusals[code]);
		if (refusal) {
			return {zone, listed: false, codes, error: dnsblRefusals[refusal]};
		}

		const known = knownDnsblZones[lower(zone)];
		const meanings = known ? codes.flatMap(code => (known[code] ? [known[code]] : [])) : [];
		const answer: DnsblAnswer = {zone, listed: true, codes, ...(meanings.length > 0 ? {meanings} : {})};
		if (withText) {
			const txt = await this.txt(name);
			const text = 'records' in txt ? txt.records[0] : undefined;
			if (text !== undefined) {
				answer.text = text.slice(0, maxDnsblText);
			}
		}

		return answer;
	}

	/** RFC 5782 §5: the test address 127.0.0.2 must be listed and 127.0.0.1 must not. */
	async dnsblHealth(zone: string): Promise<DnsblHealth> {
		const [listed, clean] = await Promise.all([this.dnsblLookup('127.0.0.2', zone, false), this.dnsblLookup('127.0.0.1', zone, false)]);
		const error = listed.error ?? clean.error;
		if (error) {
			return {zone, usable: false, detail: error};
		}

		if (!listed.listed) {
			return {zone, usable: false, detail: 'the test address 127.0.0.2 is not listed (RFC 5782 §5): the list is dead or does not answer'};
		}

		if (clean.listed) {
			return {zone, usable: false, detail: `127.0.0.1 is listed (${clean.codes.join(', ')}), which no list may do (RFC 5782 §5): it may list everything`};
		}

		return {zone, usable: true, detail: '127.0.0.2 listed and 127.0.0.1 not, as RFC 5782 §5 asks'};
	}
}

function tlsaRecord(answer: Answer): TlsaRecord[] {
	if (answer.type !== 'TLSA') {
		return [];
	}

	const {usage, selector, matchingType, certificate} = answer.data;
	return [{usage, selector, matchingType, data: Buffer.from(certificate).toString('hex')}];
}
