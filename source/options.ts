import {readFileSync, statSync} from 'node:fs';
import process from 'node:process';
import {X509Certificate} from 'node:crypto';
import os from 'node:os';
import type {SettingKey, Settings} from './config.js';
import {normalizeDomain, parseResolver} from './core/dns/resolver.js';
import {MxdashError} from './core/errors.js';
import {defaultLimits, limitsWithTimeout} from './core/limits.js';
import type {RoundOptions} from './core/run/monitor.js';
import type {RelayMode} from './core/smtp/relay-variants.js';
import type {Severity} from './core/types.js';
import {hasLineBreak} from './core/text.js';

/** The flags that carry settings; undefined means "not given". */
export type SettingFlags = {
	resolver?: string[];
	port?: number;
	ehloName?: string;
	mailFrom?: string;
	rcptTo?: string;
	relay?: string | boolean;
	ca?: string;
	timeout?: number;
	concurrency?: number;
	warnDays?: number;
};

export const defaults = {
	mailFrom: 'mxdash-relay-test@example.org',
	rcptTo: 'relay-test@example.net',
	concurrency: 16,
	warnDays: 21,
	port: 25,
	timeout: 30,
};

/** An EHLO name: a fully qualified domain name or an address literal, never localhost. */
export function checkEhloName(name: string, label = '--ehlo-name'): string {
	const literal = /^\[(?:IPv6:)?[\d.a-f:]+\]$/i.test(name);
	const fqdn = name.includes('.') && /^[a-z\d.-]+$/i.test(name) && !/^localhost\.?/i.test(name) && !name.startsWith('.') && !name.endsWith('.');
	if (hasLineBreak(name) || !(literal || fqdn)) {
		throw new MxdashError('bad-flag', `${label} needs a fully qualified host name (not localhost) or an address literal, not ${JSON.stringify(name)}`);
	}

	return name;
}

export function checkAddress(flag: string, address: string, allowEmpty = false): string {
	const ok = (allowEmpty && address === '') || /^[^\s<>@"]{1,64}@[^\s<>@"]{1,253}$/.test(address);
	if (hasLineBreak(address) || !ok) {
		throw new MxdashError('bad-address', `${flag} needs a plain address like user@example.org, not ${JSON.stringify(address)}`);
	}

	return address;
}

function defaultEhloName(): string {
	const host = os.hostname();
	try {
		return checkEhloName(host);
	} catch {
		return 'mxdash.invalid';
	}
}

function relayMode(value: string | boolean | undefined, name = '--relay'): RelayMode {
	if (value === false) {
		return 'off';
	}

	if (value === undefined || value === true || value === '' || value === 'basic') {
		return 'basic';
	}

	if (value === 'thorough' || value === 'off') {
		return value;
	}

	// The flag has --no-relay for "off"; a stored value spells it out.
	const choices = name.startsWith('--') ? '"basic" or "thorough" (or use --no-relay)' : '"basic", "thorough" or "off"';
	throw new MxdashError('bad-flag', `${name} takes ${choices}, not ${JSON.stringify(value)}`);
}

/**
 * The largest value of each numeric setting; the smallest is always 1, and every one is a
 * whole number: a fraction of a port, a session or a day means nothing, and one rule for all
 * (timeout included) is one rule to document.
 */
export const numberMaxima = {port: 65_535, timeout: 600, concurrency: 1000, warnDays: 3650, interval: 86_400} as const;
export type NumberKey = keyof typeof numberMaxima;

export function checkNumber(key: NumberKey, value: number, name: string): number {
	const max = numberMaxima[key];
	if (!Number.isInteger(value) || value < 1 || value > max) {
		throw new MxdashError('bad-flag', `${name} needs a whole number from 1 to ${max}`);
	}

	return value;
}

const severityNames: readonly Severity[] = ['info', 'warning', 'critical'];

/** The text report's floor: a severity spelled out, nothing else. */
export function checkSeverity(value: string, name = '--min-severity'): Severity {
	const found = severityNames.find(item => item === value);
	if (!found) {
		throw new MxdashError('bad-flag', `${name} takes "info", "warning" or "critical", not ${JSON.stringify(value)}`);
	}

	return found;
}

type StoredValue<K extends SettingKey> = NonNullable<Settings[K]>;

/**
 * One rule per setting, the same for its flag, for `config set` and for a stored value;
 * `name` is what the user typed (`--ehlo-name` or `ehloName`), for the one line that refuses it.
 */
export const settingRules: {[K in SettingKey]: (value: StoredValue<K>, name: string) => StoredValue<K>} = {
	resolvers: (value, name) => value.map(item => parseResolver(item, name)),
	ehloName: (value, name) => checkEhloName(value, name),
	mailFrom: (value, name) => checkAddress(name, value),
	rcptTo: (value, name) => checkAddress(name, value),
	relay: (value, name) => relayMode(value, name),
	timeout: (value, name) => checkNumber('timeout', value, name),
	concurrency: (value, name) => checkNumber('concurrency', value, name),
	warnDays: (value, name) => checkNumber('warnDays', value, name),
	port: (value, name) => checkNumber('port', value, name),
	interval: (value, name) => checkNumber('interval', value, name),
	minSeverity: (value, name) => checkSeverity(value, name),
	domains: value => domainList(value),
};

/** A stored value checked by its rule; a bad one names the config key and the file, never a flag. */
export function checkStored<K extends SettingKey>(key: K, value: StoredValue<K>, file: string): StoredValue<K> {
	try {
		return settingRules[key](value, key);
	} catch (error) {
		if (error instanceof MxdashError) {
			throw new MxdashError('bad-config', `the config file ${file} has a bad value for "${key}": ${error.message}; fix it with: mxdash config set ${key} VALUE, or: mxdash config unset ${key}`);
		}

		throw error;
	}
}

function readCa(file: string): string[] {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		throw new MxdashError('bad-ca', `cannot read --ca ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
	}

	const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
	try {
		for (const pem of pems) {
			void new X509Certificate(pem);
		}
	} catch {
		throw new MxdashError('bad-ca', `--ca ${file} holds a certificate that cannot be parsed`);
	}

	if (pems.length === 0) {
		throw new MxdashError('bad-ca', `--ca ${file} holds no PEM certificate`);
	}

	return pems;
}

/**
 * The value of one setting: the flag when given (checked under its flag's name), else the
 * stored one (checked under its config key and the file), else undefined.
 */
function chosen<K extends SettingKey>(key: K, flag: StoredValue<K> | undefined, settings: Settings, file: string): StoredValue<K> | undefined {
	if (flag !== undefined) {
		return settingRules[key](flag, key === 'resolvers' ? '--resolver' : flagName(key));
	}

	const stored = settings[key] as StoredValue<K> | undefined;
	return stored === undefined ? undefined : checkStored(key, stored, file);
}

/** meow's camelCase key as the user typed it: warnDays → --warn-days. */
export function flagName(key: string): string {
	return `--${key.replace(/[A-Z]/g, letter => `-${letter.toLowerCase()}`)}`;
}

/** Flags over settings over defaults, every value checked before anything is sent. */
export function roundOptions(flags: SettingFlags, settings: Settings, version: string, file = 'the config file'): RoundOptions {
	const timeout = chosen('timeout', flags.timeout, settings, file) ?? defaults.timeout;
	const resolvers = chosen('resolvers', flags.resolver?.length ? flags.resolver : undefined, settings, file) ?? [];
	// A flag's relay may be a boolean (--no-relay), which no stored value is.
	const relay = flags.relay === undefined ? chosen('relay', undefined, settings, file) : relayMode(flags.relay);
	return {
		version,
		...(resolvers.length > 0 ? {resolvers} : {}),
		port: chosen('port', flags.port, settings, file) ?? defaults.port,
		ehloName: chosen('ehloName', flags.ehloName, settings, file) ?? defaultEhloName(),
		relay: relayMode(relay),
		mailFrom: chosen('mailFrom', flags.mailFrom, settings, file) ?? defaults.mailFrom,
		rcptTo: chosen('rcptTo', flags.rcptTo, settings, file) ?? defaults.rcptTo,
		...(flags.ca ? {ca: readCa(flags.ca)} : {}),
		concurrency: chosen('concurrency', flags.concurrency, settings, file) ?? defaults.concurrency,
		warnDays: chosen('warnDays', flags.warnDays, settings, file) ?? defaults.warnDays,
		limits: limitsWithTimeout(defaultLimits, timeout),
	};
}

/**
 * The blocklists queried by default: widely used IP lists whose terms allow free low-volume
 * queries through one's own resolver (see the README's blocklist section for their terms).
 */
export const defaultDnsbl = ['zen.spamhaus.org', 'bl.spamcop.net', 'psbl.surriel.com'];

/** --dnsbl ZONE (repeatable, replaces the default set), --no-dnsbl, --no-policy, --tls-versions. */
export function policyOptions(flags: {dnsbl?: Array<string | boolean> | boolean; policy?: boolean; tlsVersions?: boolean}): Pick<RoundOptions, 'dnsbl' | 'policy' | 'tlsVersions'> {
	// meow reads --no-dnsbl as the value false of the string flag --dnsbl, and no --dnsbl as [].
	const given = [flags.dnsbl ?? []].flat();
	const zones = given.includes(false) ? [] : (given.length > 0 ? given : defaultDnsbl).map(zone => {
		try {
			return normalizeDomain(String(zone));
		} catch {
			throw new MxdashError('bad-flag', `--dnsbl needs a blocklist's DNS zone, like zen.spamhaus.org, not ${JSON.stringify(zone)}`);
		}
	});
	return {dnsbl: [...new Set(zones)], policy: flags.policy !== false, tlsVersions: flags.tlsVersions === true};
}

/** The most a domain list (--file, standard input) may hold, in bytes. */
export const maxListBytes = 16 * 1024 * 1024;

/**
 * A list of domains, one a line: `#` starts a comment, blank lines are skipped, a line that is
 * not a domain is a problem named by its line number, and the rest is still read.
 */
export function parseDomainList(text: string, source: string): {domains: string[]; problems: string[]} {
	const domains: string[] = [];
	const problems: string[] = [];
	for (const [index, raw] of text.split(/\r?\n/).entries()) {
		const line = raw.replace(/#.*/, '').trim();
		if (line === '') {
			continue;
		}

		try {
			normalizeDomain(line);
			domains.push(line);
		} catch (error) {
			problems.push(`${source}:${index + 1}: ${(error as Error).message}`);
		}
	}

	return {domains, problems};
}

/** Read a domain list from a file, or from standard input for `-`; a file that cannot be read is a usage error. */
export async function readDomainList(file: string): Promise<{domains: string[]; problems: string[]}> {
	const source = file === '-' ? 'standard input' : file;
	let text: string;
	try {
		if (file === '-') {
			const chunks: Buffer[] = [];
			let size = 0;
			for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
				size += chunk.length;
				if (size > maxListBytes) {
					throw new MxdashError('bad-flag', `the domain list on standard input is over ${maxListBytes} bytes`);
				}

				chunks.push(chunk);
			}

			text = Buffer.concat(chunks).toString('utf8');
		} else {
			const stat = statSync(file);
			if (!stat.isFile() || stat.size > maxListBytes) {
				throw new MxdashError('bad-flag', `--file ${file} is ${stat.isFile() ? `over ${maxListBytes} bytes` : 'not a file'}`);
			}

			text = readFileSync(file, 'utf8');
		}
	} catch (error) {
		if (error instanceof MxdashError) {
			throw error;
		}

		throw new MxdashError('bad-flag', `cannot read the domain list ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
	}

	return parseDomainList(text, source);
}

/** The domains as typed, each checked (a bad one is a usage error), without repeats of the same domain. */
export function domainList(inputs: string[]): string[] {
	const seen = new Map<string, string>();
	for (const input of inputs) {
		const domain = normalizeDomain(input);
		if (!seen.has(domain)) {
			seen.set(domain, input);
		}
	}

	return [...seen.values()];
}
