// Section 5 of the hostile suite (test/driver/hostile.test.ts): the user's own input.
import {mkdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {runCli} from '../../helpers/run-cli.js';
import {terminalHazards} from './terminal.js';

// ---------------------------------------------------------------------------------------------
// 5. The user's own input
// ---------------------------------------------------------------------------------------------

describe.concurrent('5. the user\'s own input', () => {
	// Made in beforeAll (not while collecting), so a filtered run leaves nothing behind.
	const inputDir = path.join(tmpdir(), `mxdash-hostile-input-${process.pid}`);
	const caDirectory = path.join(inputDir, 'ca.d');
	const garbageCa = path.join(inputDir, 'garbage.pem');
	beforeAll(() => {
		mkdirSync(caDirectory, {recursive: true});
		writeFileSync(garbageCa, '-----BEGIN CERTIFICATE-----\nthis is not base64 at all !!!\n\u001B[2J\n-----END CERTIFICATE-----\n');
	});
	afterAll(() => {
		rmSync(inputDir, {recursive: true, force: true});
	});

	it.each([
		{name: 'a --ca that is a directory', args: ['--ca', caDirectory, 'example.test'], pattern: /cannot read --ca .*: EISDIR/},
		{name: 'a --ca with garbage between the PEM markers', args: ['--ca', garbageCa, 'example.test'], pattern: /--ca .* cannot be parsed/},
		{name: '--resolver 999.1.1.1', args: ['--resolver', '999.1.1.1', 'example.test'], pattern: /--resolver needs an IP address/},
		{name: 'a domain of 300 characters', args: [`${Array.from({length: 5}, () => 'a'.repeat(59)).join('.')}.test`], pattern: /not a valid domain name/},
		{name: 'a domain with an escape character', args: ['exa\u001B[2Jmple.com'], pattern: /not a valid domain name: "exa\\u001b\[2Jmple\.com"/},
		{name: 'a --rcpt-to with ">"', args: ['--rcpt-to', 'a>@example.net', 'example.test'], pattern: /--rcpt-to needs a plain address/},
		{name: 'a --rcpt-to with a space', args: ['--rcpt-to', 'a b@example.net', 'example.test'], pattern: /--rcpt-to needs a plain address/},
		{name: 'a --mail-from with "<"', args: ['--mail-from', 'x@<evil>', 'example.test'], pattern: /--mail-from needs a plain address/},
	])('$name: one line on stderr, exit 3, no stack trace, nothing sent', async ({args, pattern}) => {
		const cliRun = await runCli(args, {MXDASH_CONFIG_DIR: inputDir});
		expect(cliRun.code).toBe(3);
		expect(cliRun.stdout).toBe('');
		const lines = cliRun.stderr.trimEnd().split('\n');
		expect(lines).toHaveLength(1);
		expect(lines[0]).toMatch(pattern);
		expect(cliRun.stderr).not.toMatch(/\bat .+:\d+:\d+|internal error/);
		expect(terminalHazards(Buffer.from(cliRun.stderr))).toEqual([]);
	});
});
