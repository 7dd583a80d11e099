import {mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {afterAll, describe, expect, it} from 'vitest';
import {cliPath, runCli} from '../helpers/run-cli.js';

const made: string[] = [];
const configDir = (): string => {
	const dir = mkdtempSync(path.join(tmpdir(), 'mxdash-config-'));
	made.push(dir);
	return dir;
};

afterAll(() => {
	for (const dir of made) {
		rmSync(dir, {recursive: true, force: true});
	}
});

function expectOneLine(stderr: string, pattern: RegExp): void {
	const lines = stderr.trim().split('\n');
	expect(lines).toHaveLength(1);
	expect(lines[0]).toMatch(pattern);
	expect(stderr).not.toMatch(/\bat .+:\d+:\d+/);
}

describe('the CLI on user mistakes', () => {
	it('stops quietly, with the report\'s exit code, when its reader closes the pipe early (| head)', async () => {
				const child = spawn(process.execPath, [cliPath, '--demo', '--json'], {env: {...process.env, MXDASH_CONFIG_DIR: configDir()}, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000});
		let stderr = '';
		child.stderr.on('data', (chunk: Buffer) => {
			stderr += chunk.toString();
		});
		// Closed before the report is written: the write is bound to meet EPIPE.
		child.stdout.destroy();
		const [code] = await once(child, 'exit') as [number | null];
		expect(stderr).toBe('');
		// The demo has critical findings: 2, as if the whole report had been read.
		expect(code).toBe(2);
	});

	it('shows help with every flag and the version', async () => {
		const help = await runCli(['--help']);
		expect(help.code).toBe(0);
		for (const flag of ['--json', '--resolver', '--port', '--ehlo-name', '--relay', '--no-relay', '--mail-from', '--rcpt-to', '--ca', '--timeout', '--concurrency', '--warn-days']) {
			expect(help.stdout).toContain(flag);
		}

		const version = await runCli(['--version']);
		expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
	});

	it.each([
		[['good.test', '--help']],
		[['--help', 'good.test']],
		[['-h']],
		[['--resolver', '127.0.0.1:9', '--json', 'good.test', '-h']],
		[['--ehlo-name', 'localhost', '--help']],
	])('%j shows the help, probes nothing and exits 0', async args => {
		const run = await runCli(args, {MXDASH_CONFIG_DIR: configDir()});
		expect(run.code).toBe(0);
		expect(run.stderr).toBe('');
		expect(run.stdout).toContain('Usage');
		expect(run.stdout).not.toContain('good.test');
	});

	it.each([
		[['--min-severity', 'loud', 'good.test']],
		[['--min-severity', 'Warning', 'good.test']],
		[['--min-severity=', 'good.test']],
	])('%j is refused in one line before anything is probed', async args => {
		const run = await runCli(args, {MXDASH_CONFIG_DIR: configDir()});
		expect(run.code).toBe(3);
		expect(run.stdout).toBe('');
		expectOneLine(run.stderr, /^mxdash: --min-severity takes "info", "warning" or "critical", not "/);
	});

	it('reads domain lists from --file and from standard input: comments and blank lines skipped, a bad line named by its number, the rest probed', async () => {
		const dir = configDir();
		const file = path.join(dir, 'domains.txt');
		writeFileSync(file, '# my domains\na.list.test\n\nbad domain!\nb.list.test  # trailing comment\r\n');
		const run = await runCli(['--json', '--no-policy', '--no-dnsbl', '--resolver', '127.0.0.1:9', '--file', file, '-', 'c.list.test'], {MXDASH_CONFIG_DIR: dir}, 60_000, 'd.list.test\nx..y\n');
		expect(run.stderr.split('\n').filter(Boolean)).toEqual([
			`mxdash: ${file}:4: not a valid domain name: "bad domain!" (skipped)`,
			'mxdash: standard input:2: not a valid domain name: "x..y" (skipped)',
		]);
		const report = JSON.parse(run.stdout) as {domains: Array<{domain: string}>};
		expect(report.domains.map(domain => domain.domain)).toEqual(['c.list.test', 'a.list.test', 'b.list.test', 'd.list.test']);
	});

	it('refuses a domain list that cannot be read, in one line', async () => {
		const run = await runCli(['--json', '--file', '/nonexistent/domains.txt'], {MXDASH_CONFIG_DIR: configDir()});
		expect(run.code).toBe(3);
		expectOneLine(run.stderr, /^mxdash: cannot read the domain list \/nonexistent\/domains\.txt: ENOENT$/);
	});

	it.each([
		[['good.test', '--version']],
		[['--version', '--resolver', '127.0.0.1:9', 'good.test']],
	])('%j shows the version, probes nothing and exits 0', async args => {
		const run = await runCli(args, {MXDASH_CONFIG_DIR: configDir()});
		expect(run.code).toBe(0);
		expect(run.stderr).toBe('');
		expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
	});

	it.each([
		[['--bogus', 'example.test'], /unknown flag --bogus/],
		[['bad domain'], /not a valid domain name/],
		[[`${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.test`], /^mxdash: not a valid domain name: "a{24}…" is too long \(309 characters, at most 253\)$/],
		[['-x'], /unknown flag -x \(/],
		[['-x.test'], /unknown flag -x\.test \(/],
		[['--timeout', '-1', '-q', 'example.test'], /unknown flag -q \(/],
		[['--no-bogus', 'example.test'], /unknown flag --no-bogus \(/],
		[['--resolver', 'dns.example', 'example.test'], /--resolver needs an IP address/],
		[['--ehlo-name', 'localhost', 'example.test'], /--ehlo-name needs a fully qualified/],
		[['--mail-from', 'a@b\r\nDATA', 'example.test'], /--mail-from needs a plain address/],
		[['--ca', '/nonexistent/ca.pem', 'example.test'], /cannot read --ca \/nonexistent\/ca.pem: ENOENT/],
		[['--port', 'abc', 'example.test'], /--port needs a whole number from 1 to 65535$/],
		[['--relay', 'sometimes', 'example.test'], /--relay takes/],
		[['--timeout', '0', 'example.test'], /--timeout needs a whole number from 1 to 600$/],
		[['--timeout', '0.5', 'example.test'], /--timeout needs a whole number from 1 to 600$/],
		[['--timeout', '1e9', 'example.test'], /--timeout needs a whole number from 1 to 600$/],
		[['--concurrency', '2.5', 'example.test'], /--concurrency needs a whole number from 1 to 1000$/],
		[['--interval', '0.5', 'example.test'], /--interval needs a whole number from 1 to 86400$/],
		[[], /no domain given/],
		[['--demo', 'good.test'], /^mxdash: --demo probes only its own demo domains; drop good\.test or drop --demo$/],
	])('%j ends with one clear line and exit 3', async (args, pattern) => {
		const run = await runCli(args as string[], {MXDASH_CONFIG_DIR: configDir()});
		expect(run.code).toBe(3);
		expect(run.stdout).toBe('');
		expectOneLine(run.stderr, pattern);
	});

	it('reports a corrupt config file by its path and leaves it alone', async () => {
		const dir = configDir();
		const file = path.join(dir, 'config.json');
		writeFileSync(file, '{"concurrency": ');
		const run = await runCli(['example.test'], {MXDASH_CONFIG_DIR: dir});
		expect(run.code).toBe(3);
		expectOneLine(run.stderr, new RegExp(`cannot read the config file \\(${file.replaceAll('/', '\\/')}\\)`));
		expect(readFileSync(file, 'utf8')).toBe('{"concurrency": ');
		writeFileSync(file, '{"concurrency": "lots"}');
		const typed = await runCli(['example.test'], {MXDASH_CONFIG_DIR: dir});
		expectOneLine(typed.stderr, /bad value for "concurrency"/);
	});

	describe('with a corrupt config file', () => {
		const corrupt = '{"concurrency": 4, "ehloName": "probe.exa';
		const corruptDir = (): {dir: string; file: string} => {
			const dir = configDir();
			const file = path.join(dir, 'config.json');
			writeFileSync(file, corrupt);
			return {dir, file};
		};

		const saysCorrupt = (file: string): RegExp => new RegExp(`^mxdash: cannot read the config file \\(${file.replaceAll('/', '\\/')}\\), it is corrupt: `);

		it('--help and --version still answer, and the file is left alone', async () => {
			const {dir, file} = corruptDir();
			const help = await runCli(['example.test', '--help'], {MXDASH_CONFIG_DIR: dir});
			expect(help.code).toBe(0);
			expect(help.stdout).toContain('Usage');
			const version = await runCli(['--version'], {MXDASH_CONFIG_DIR: dir});
			expect(version.code).toBe(0);
			expect(readFileSync(file, 'utf8')).toBe(corrupt);
		});

		it('--demo runs on the defaults and says so in one line', async () => {
			const {dir, file} = corruptDir();
			const run = await runCli(['--demo', '--json'], {MXDASH_CONFIG_DIR: dir});
			expect(run.code).toBe(2);
			expect((JSON.parse(run.stdout) as {summary: {domains: number}}).summary.domains).toBeGreaterThan(0);
			expectOneLine(run.stderr, saysCorrupt(file));
			expect(run.stderr).toContain('--demo runs without it');
			expect(readFileSync(file, 'utf8')).toBe(corrupt);
		});

		it('config show prints the path and the text as it is, and says it is corrupt', async () => {
			const {dir, file} = corruptDir();
			const run = await runCli(['config', 'show'], {MXDASH_CONFIG_DIR: dir});
			expect(run.code).toBe(0);
			expect(run.stdout).toBe(`${file}\n${corrupt}\n`);
			expectOneLine(run.stderr, saysCorrupt(file));
			expect(readFileSync(file, 'utf8')).toBe(corrupt);
		});

		it('config unset moves the file aside, every byte kept, and says where', async () => {
			const {dir} = corruptDir();
			const run = await runCli(['config', 'unset', 'concurrency'], {MXDASH_CONFIG_DIR: dir});
			expect(run.code).toBe(0);
			expectOneLine(run.stderr, /was corrupt: moved it to .+config\.json\.corrupt-.+, so concurrency and every other setting are unset$/);
			const aside = readdirSync(dir).filter(name => name.startsWith('config.json.corrupt-'));
			expect(aside).toHaveLength(1);
			expect(run.stderr).toContain(path.join(dir, aside[0]!));
			expect(readFileSync(path.join(dir, aside[0]!), 'utf8')).toBe(corrupt);
			const show = await runCli(['config', 'show'], {MXDASH_CONFIG_DIR: dir});
			expect(show.stderr).toBe('');
			expect(show.code).toBe(0);
		});

		it('config set refuses in one line and changes nothing', async () => {
			const {dir, file} = corruptDir();
			const run = await runCli(['config', 'set', 'timeout', '5'], {MXDASH_CONFIG_DIR: dir});
			expect(run.code).toBe(3);
			expectOneLine(run.stderr, saysCorrupt(file));
			expect(readFileSync(file, 'utf8')).toBe(corrupt);
		});
	});

	it('config unset works on a file with a value of the wrong type', async () => {
		const dir = configDir();
		const file = path.join(dir, 'config.json');
		writeFileSync(file, '{"concurrency": "lots", "port": 2525}');
		const show = await runCli(['config', 'show'], {MXDASH_CONFIG_DIR: dir});
		expect(show.code).toBe(0);
		expectOneLine(show.stderr, /bad value for "concurrency"/);
		const unset = await runCli(['config', 'unset', 'concurrency'], {MXDASH_CONFIG_DIR: dir});
		expect(unset.code).toBe(0);
		expect(unset.stderr).toBe('');
		expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({port: 2525});
	});

	it('reports an unwritable config directory in one line', async () => {
		const dir = configDir();
		// Root ignores file modes, so block the write with a directory where the file must go.
		mkdirSync(path.join(dir, 'blocked'));
		mkdirSync(path.join(dir, 'blocked', 'config.json'));
		const run = await runCli(['config', 'set', 'concurrency', '4'], {MXDASH_CONFIG_DIR: path.join(dir, 'blocked')});
		expect(run.code).toBe(3);
		expectOneLine(run.stderr, /cannot (read|write) the config file/);
	});

	it('keeps settings with config set, and flags override them', async () => {
		const dir = configDir();
		const set = await runCli(['config', 'set', 'ehloName', 'probe.example.net'], {MXDASH_CONFIG_DIR: dir});
		expect(set.code).toBe(0);
		expect(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'))).toMatchObject({ehloName: 'probe.example.net'});
		const bad = await runCli(['config', 'set', 'timeout', 'soon'], {MXDASH_CONFIG_DIR: dir});
		expectOneLine(bad.stderr, /timeout needs a whole number from 1 to 600$/);
		const badKey = await runCli(['config', 'set', 'colour', 'red'], {MXDASH_CONFIG_DIR: dir});
		expectOneLine(badKey.stderr, /config keys are/);
	});

	it.each([
		[['ehloName', 'bad', 'name'], /^mxdash: not saved: ehloName needs a fully qualified host name/],
		[['resolvers', 'nonsense'], /^mxdash: not saved: resolvers needs an IP address/],
		[['timeout', '-1'], /^mxdash: not saved: timeout needs a whole number from 1 to 600$/],
		[['timeout', '0.5'], /^mxdash: not saved: timeout needs a whole number from 1 to 600$/],
		[['port', '70000'], /^mxdash: not saved: port needs a whole number from 1 to 65535$/],
		[['relay', 'sometimes'], /^mxdash: not saved: relay takes "basic", "thorough" or "off", not "sometimes"$/],
		[['domains', 'a b,example.test'], /^mxdash: not saved: not a valid domain name: "a b"/],
		[['minSeverity', 'loud'], /^mxdash: not saved: minSeverity takes "info", "warning" or "critical", not "loud"$/],
	])('config set %j is refused by the rule of its flag, and nothing is stored', async (args, pattern) => {
		const dir = configDir();
		const file = path.join(dir, 'config.json');
		writeFileSync(file, '{"concurrency": 4}');
		const run = await runCli(['config', 'set', ...args], {MXDASH_CONFIG_DIR: dir});
		expect(run.code).toBe(3);
		expect(run.stdout).toBe('');
		expectOneLine(run.stderr, pattern);
		expect(run.stderr).not.toMatch(/cannot write|--/);
		expect(readFileSync(file, 'utf8')).toBe('{"concurrency": 4}');
	});

	it.each([
		['ehloName', '"bad name"'],
		['resolvers', '["nonsense"]'],
		['timeout', '-1'],
		['relay', '"sometimes"'],
		['domains', '["a b"]'],
		['interval', '0'],
		['minSeverity', '"loud"'],
	])('a bad stored %s is reported by its config key and the file, not by a flag', async (key, json) => {
		const dir = configDir();
		const file = path.join(dir, 'config.json');
		writeFileSync(file, `{"${key}": ${json}}`);
		const run = await runCli(key === 'domains' ? [] : ['--watch', 'example.test'], {MXDASH_CONFIG_DIR: dir});
		expect(run.code).toBe(3);
		expect(run.stdout).toBe('');
		expectOneLine(run.stderr, new RegExp(`the config file ${file.replaceAll('/', '\\/')} has a bad value for "${key}".*mxdash config unset ${key}$`));
		expect(run.stderr).not.toMatch(/ --[a-z]/);
		expect(readFileSync(file, 'utf8')).toBe(`{"${key}": ${json}}`);
	});

	it.each([
		[['--watch', '--json'], /^mxdash: --watch re-probes only in the dashboard; with --json this is one round$/],
		[['--watch'], /^mxdash: --watch re-probes only in the dashboard; stdout is not a terminal, so this is one round$/],
		[['--interval', '60', '--json'], /^mxdash: --interval re-probes only in the dashboard; with --json this is one round$/],
	])('%j without the dashboard says on stderr that it probes once', async (args, pattern) => {
		const run = await runCli([...args, '--resolver', '127.0.0.1:9', '--timeout', '2', 'example.test'], {MXDASH_CONFIG_DIR: configDir()});
		expect(run.code).toBe(3);
		expect(run.stdout).toContain('example.test');
		expectOneLine(run.stderr, pattern);
	});

	it('says UNKNOWN (exit 3) when no resolver answers, quickly', async () => {
		const run = await runCli(['--json', '--resolver', '127.0.0.1:9', '--timeout', '2', 'example.test'], {MXDASH_CONFIG_DIR: configDir()});
		expect(run.code).toBe(3);
		const report = JSON.parse(run.stdout) as {summary: {status: string}; domains: Array<{findings: Array<{id: string}>}>};
		expect(report.summary.status).toBe('unknown');
		expect(report.domains[0]?.findings.map(item => item.id)).toEqual(['dns-error']);
		expect(run.ms).toBeLessThan(15_000);
	});
});
