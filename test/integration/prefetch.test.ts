// The entry point's early DNS (source/prefetch.ts): the run takes the plan it asked for instead of
// asking again, only when its servers and limits are the same, and a command the run would refuse
// sends nothing. Our own DNS server on loopback counts the questions.
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {Dns, cancelPrefetch, prefetching} from '../../source/core/dns/resolver.js';
import {roundOptions} from '../../source/options.js';
import {prefetch} from '../../source/prefetch.js';
import {startDnsServer} from '../../source/peers/dns-server.js';
import type {DnsServer} from '../../source/peers/dns-server.js';

describe('the early DNS of a one-shot run', () => {
	const asked: string[] = [];
	const waiting = new Map<string, () => void>();
	/** Resolves once the server has been asked `question`. */
	const seen = async (question: string): Promise<void> => new Promise(resolve => {
		if (asked.includes(question)) resolve();
		else waiting.set(question, resolve);
	});
	let dns: DnsServer | undefined;
	let configDir: string;
	beforeAll(async () => {
		configDir = mkdtempSync(path.join(tmpdir(), 'mxdash-prefetch-'));
		process.env.MXDASH_CONFIG_DIR = configDir;
		const zone = Object.fromEntries(['one', 'two', 'three'].flatMap(name => [
			[`${name}.test`, {MX: [[10, `mx.${name}.test`]] as Array<[number, string]>}],
			[`mx.${name}.test`, {A: ['192.0.2.25']}],
		]));
		dns = await startDnsServer(zone, '127.0.0.1', 0, {onQuery(name, type) {
			asked.push(`${type} ${name}`);
			waiting.get(`${type} ${name}`)?.();
		}});
	});
	afterAll(async () => {
		cancelPrefetch();
		await dns?.close();
		delete process.env.MXDASH_CONFIG_DIR;
		rmSync(configDir, {recursive: true, force: true});
	});

	const dnsAs = (flags: {timeout?: number}) => {
		const options = roundOptions({resolver: [dns!.address], ...flags}, {}, '');
		return new Dns({servers: options.resolvers ?? [], limits: options.limits});
	};

	it('asks once: the run takes the plan the entry point started', async () => {
		expect(prefetching()).toBe(false);
		expect(prefetch(['--json', '--resolver', dns!.address, 'one.test'])).toBe(true);
		// The round sees plans under way (it leaves its warm-up until after the first SYN then).
		expect(prefetching()).toBe(true);
		await seen('MX one.test');
		const plan = await dnsAs({}).plan('one.test');
		expect(plan.mx.map(host => [host.exchange, host.addresses])).toEqual([['mx.one.test', ['192.0.2.25']]]);
		expect(asked.filter(question => question === 'MX one.test')).toHaveLength(1);
		expect(prefetching()).toBe(false);
	});

	it('asks again when the run\'s limits differ from what was read early', async () => {
		expect(prefetch(['--json', `--resolver=${dns!.address}`, 'two.test'])).toBe(true);
		await seen('MX two.test');
		const plan = await dnsAs({timeout: 7}).plan('two.test');
		expect(plan.mx).toHaveLength(1);
		expect(asked.filter(question => question === 'MX two.test')).toHaveLength(2);
	});

	it.each([
		['a flag the run refuses', ['--rcpt-to', 'a>@example.net']],
		['a domain the run refuses', ['bad domain!']],
		['a flag not read early', ['--min-severity', 'warning']],
		['a short flag', ['-j']],
		['--demo', ['--demo']],
		['a --server', ['--server', '127.0.0.1:2525']],
		['standard input', ['-']],
	])('sends nothing for %s', (_name, args) => {
		expect(prefetch(['--json', '--resolver', dns!.address, ...args, 'three.test'])).toBe(false);
	});

	it('sends nothing for the config command', () => {
		expect(prefetch(['config', 'show'])).toBe(false);
	});
});
