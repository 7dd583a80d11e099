import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {defaultLimits} from '../../source/core/limits.js';
import {keymap} from '../../source/ui/keymap.js';
import {runCli} from '../helpers/run-cli.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
	it('states the limits the engine applies', () => {
		const expected: Array<[string, number]> = [
			['reply line length', defaultLimits.maxLineBytes],
			['lines in one reply', defaultLimits.maxReplyLines],
			['bytes from the server per session', defaultLimits.maxSessionBytes],
			['connect deadline', defaultLimits.connectMs],
			['greeting deadline', defaultLimits.bannerMs],
			['greeting counted as slow after', defaultLimits.bannerSlowMs],
			['deadline of each command', defaultLimits.commandMs],
			['TLS handshake deadline', defaultLimits.tlsMs],
			['QUIT deadline', defaultLimits.quitMs],
			['whole session', defaultLimits.sessionMs],
			['one DNS query', defaultLimits.dnsMs],
			['DNS questions in flight at once', defaultLimits.dnsInFlight],
			['CNAME chain depth', defaultLimits.maxCnameDepth],
			['MX hosts probed per domain', defaultLimits.maxMxHosts],
			['addresses probed per host', defaultLimits.maxAddressesPerHost],
			['transcript lines kept per session', defaultLimits.maxTranscriptLines],
			['least time between connections to one IP', defaultLimits.perIpPaceMs],
			['MTA-STS policy fetch, whole', defaultLimits.policyFetchMs],
			['MTA-STS policy body', defaultLimits.maxPolicyBytes],
		];
		for (const [label, value] of expected) {
			const row = readme.split('\n').find(line => line.startsWith(`| ${label}`));
			expect(row, label).toBeDefined();
			expect(row!.split('|')[2]!.trim().split(' ')[0], label).toBe(String(value));
		}
	});

	it('has the key table of the keymap, row for row', () => {
		const table = readme.split('\n').filter(line => line.startsWith('| ') && !line.startsWith('| key ')).map(line => line.trim());
		const rows = keymap.map(binding => `| ${binding.keys} | ${binding.description} |`);
		expect(table.filter(line => rows.includes(line))).toEqual(rows);
	});

	it('shows every line of the flags part of --help', async () => {
		const help = await runCli(['--help']);
		const flagLines = help.stdout.split('\n').filter(line => /^\s+--/.test(line));
		expect(flagLines.length).toBeGreaterThan(10);
		for (const line of flagLines) {
			expect(readme, line).toContain(line);
		}
	});

	it('says how to put mxdash on the PATH', () => {
		expect(readme).toContain('`npm install -g .`');
	});

	it('says what EHLO name is sent on a host without a FQDN', async () => {
		const help = await runCli(['--help']);
		expect(help.stdout).toMatch(/default: this host's name, or\s+mxdash\.invalid when that is not a FQDN\)/);
		expect(readme).toMatch(/otherwise\s+mxdash sends `mxdash\.invalid`/);
	});

	it('shows the two commands', () => {
		expect(readme).toContain('npm install && npm start');
		expect(readme).toContain('npm test');
	});
});
