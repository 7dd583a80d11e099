import {readFileSync} from 'node:fs';
import {X509Certificate} from 'node:crypto';
import os from 'node:os';
import type {Settings} from './config.js';
import {normalizeDomain, parseResolver} from './core/dns/resolver.js';
import {MxdashError} from './core/errors.js';
import {defaultLimits, limitsWithTimeout} from './core/limits.js';
import type {RoundOptions} from './core/run/monitor.js';
import type {RelayMode} from './core/smtp/relay-variants.js';
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
export function checkEhloName(name: string): string {
	const literal = /^\[(?:IPv6:)?[\d.a-f:]+\]$/i.test(name);
	const fqdn = name.includes('.') && /^[a-z\d.-]+$/i.test(name) && !/^localhost\.?/i.test(name) && !name.startsWith('.') && !name.endsWith('.');
	if (hasLineBreak(name) || !(literal || fqdn)) {
		throw new MxdashError('bad-flag', `--ehlo-name needs a fully qualified host name (not localhost) or an address literal, not ${JSON.stringify(name)}`);
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

function relayMode(value: string | boolean | undefined): RelayMode {
	if (value === false) {
		return 'off';
	}

	if (value === undefined || value === true || value === '' || value === 'basic') {
		return 'basic';
	}

	if (value === 'thorough' || value === 'off') {
		return value;
	}

	throw new MxdashError('bad-flag', `--relay takes "basic" or "thorough" (or use --no-relay), not ${JSON.stringify(value)}`);
}

function positive(flag: string, value: number | undefined, fallback: number, max: number): number {
	if (value === undefined) {
		return fallback;
	}

	if (!Number.isFinite(value) || value <= 0 || value > max) {
		throw new MxdashError('bad-flag', `--${flag} needs a number from 1 to ${max}`);
	}

	return value;
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

/** Flags over settings over defaults, every value checked before anything is sent. */
export function roundOptions(flags: SettingFlags, settings: Settings, version: string): RoundOptions {
	const timeout = positive('timeout', flags.timeout ?? settings.timeout, defaults.timeout, 600);
	const resolvers = (flags.resolver?.length ? flags.resolver : settings.resolvers) ?? [];
	return {
		version,
		...(resolvers.length > 0 ? {resolvers: resolvers.map(value => parseResolver(value))} : {}),
		port: positive('port', flags.port ?? settings.port, defaults.port, 65_535),
		ehloName: checkEhloName(flags.ehloName ?? settings.ehloName ?? defaultEhloName()),
		relay: relayMode(flags.relay ?? settings.relay),
		mailFrom: checkAddress('--mail-from', flags.mailFrom ?? settings.mailFrom ?? defaults.mailFrom),
		rcptTo: checkAddress('--rcpt-to', flags.rcptTo ?? settings.rcptTo ?? defaults.rcptTo),
		...(flags.ca ? {ca: readCa(flags.ca)} : {}),
		concurrency: Math.floor(positive('concurrency', flags.concurrency ?? settings.concurrency, defaults.concurrency, 256)),
		warnDays: positive('warn-days', flags.warnDays ?? settings.warnDays, defaults.warnDays, 3650),
		limits: limitsWithTimeout(defaultLimits, timeout),
	};
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
