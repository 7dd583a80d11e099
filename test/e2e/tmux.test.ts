import {existsSync, mkdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {startDnsServer} from '../../source/peers/dns-server.js';
import {cliPath} from '../helpers/run-cli.js';
import {Terminal, has, hasAll, stepMs, tmuxMissing} from '../helpers/tmux.js';
import type {Exit} from '../helpers/tmux.js';

/**
 * The built dashboard in a real terminal: tmux runs `mxdash --demo`, the test sends one key at
 * a time and reads the screen back. Every wait is bounded and polls the screen.
 */

const missing = tmuxMissing;
const title = missing
	? 'dashboard in tmux — skipped: tmux is not on PATH (bash .ci/setup-peers.sh installs it)'
	: 'dashboard in tmux';

// The first round waits for the demo's slow greeter (~6 s) on top of start-up.
const roundMs = 25_000;

let terminal: Terminal;
let workDir = '';
const tmux = (...args: string[]): string => terminal.tmux(...args);
const display = (session: string, format: string): string => terminal.display(session, format);
const press = (session: string, key: string): void => {
	terminal.press(session, key);
};

const stopSession = (session: string): void => {
	terminal.stop(session);
};

const waitForScreen = async (session: string, what: string, check: (lines: string[]) => boolean, timeoutMs = stepMs): Promise<string[]> => terminal.waitForScreen(session, what, check, timeoutMs);
const waitForExit = async (session: string): Promise<Exit> => terminal.waitForExit(session);

/** Columns of a line: every character the dashboard draws is one cell wide. */
function columns(line: string): number {
	return [...line].length;
}

function startDashboard(session: string, width: number, height: number, args = ['--demo'], configDir = workDir): void {
	terminal.start(session, width, height, args, configDir);
	expect(display(session, '#{pane_width}x#{pane_height}')).toBe(`${width}x${height}`);
}

/** The frame fits the terminal: no line wider, its top not scrolled away, shorter than the rows. */
function expectFits(lines: string[], width: number, height: number): void {
	expect(lines.length).toBeLessThanOrEqual(height);
	const wide = lines.filter(line => columns(line) > width);
	expect(wide, `lines wider than ${width} columns`).toEqual([]);
	expect(lines[0]).toMatch(/^ mxdash /);
	const last = lines.findLastIndex(line => line !== '');
	expect(last, 'the frame is shorter than the terminal').toBeLessThanOrEqual(height - 2);
}

/** The hint bar is the frame's last line, one row above the terminal's bottom. */
const laidOutFor = (height: number) => (lines: string[]): boolean => {
	const last = lines.findLastIndex(line => line !== '');
	return last === height - 2 && /Enter open/.test(lines[last] ?? '') && has('MX host')(lines);
};

// The selected host row: the marker, maybe the MX preference, then the name, whole or (when
// narrow) without its domain's suffix, which the domain row above says.
const mx1Selected = /^› (\d+ )?mx1(\.he|\s)/;

describe.skipIf(missing)(title, () => {
	beforeAll(() => {
		if (!existsSync(cliPath)) {
			throw new Error(`${cliPath} is missing: run npm run build first (npm test does)`);
		}

		terminal = new Terminal();
		workDir = terminal.workDir;
	});

	afterAll(() => {
		terminal?.close();
	});

	it('shows the grid, drills into a host and back, shows help, and quits restoring the terminal', async () => {
		const session = 'flow';
		startDashboard(session, 80, 24);
		try {
			let lines = await waitForScreen(session, 'the grid', hasAll('MX host', 'healthy.demo'));
			expect(display(session, '#{alternate_on}')).toBe('1');
			expectFits(lines, 80, 24);

			lines = await waitForScreen(session, 'the first round to finish', current => /last \d/.test(current[0] ?? ''), roundMs);
			expectFits(lines, 80, 24);
			// At 80 columns the host is named under its domain's row ("mx" under relay.demo), its address whole.
			const relay = lines[lines.findIndex(line => /^. relay\.demo\b/.test(line)) + 1];
			expect(relay, 'the row of mx.relay.demo').toMatch(/^. (\d+ )?mx(\.relay\.d|\s)/);
			expect(relay).toContain('OPEN');
			expect(relay).toContain('127.0.53.3 ');

			press(session, 'Down');
			await waitForScreen(session, 'the selection on mx1.healthy.demo', has(mx1Selected));

			press(session, 'Enter');
			lines = await waitForScreen(session, 'the detail screen', has('[1 Summary]'));
			expect(lines[1]).toContain('mx1.healthy.demo');
			expectFits(lines, 80, 24);

			press(session, '2');
			lines = await waitForScreen(session, 'the EHLO exchange in the Transcript pane', hasAll('[2 Transcript]', '→ EHLO', /← 250[ -]/));
			expectFits(lines, 80, 24);

			press(session, '3');
			lines = await waitForScreen(session, 'the Certificates pane', hasAll('[3 Certificates]', 'chain verified', /\[0\] leaf/, 'root'));
			expectFits(lines, 80, 24);
			// The root is below the fold at 24 rows: End scrolls the pane to it.
			press(session, 'End');
			await waitForScreen(session, 'the root certificate after End', has(/\[2\] root/));

			press(session, 'Escape');
			lines = await waitForScreen(session, 'the grid again, the selection kept', hasAll('MX host', mx1Selected));
			expectFits(lines, 80, 24);

			press(session, '?');
			lines = await waitForScreen(session, 'the help', has(/^Keys\b/));
			expectFits(lines, 80, 24);

			press(session, 'x');
			await waitForScreen(session, 'the help to close', current => hasAll('MX host', mx1Selected)(current) && !has(/^Keys\b/)(current));

			press(session, 'q');
			// The demo has an open relay: q exits with the last round's code, CRITICAL.
			expect(await waitForExit(session)).toEqual({status: 2});
			expect(display(session, '#{alternate_on}')).toBe('0');
		} finally {
			stopSession(session);
		}
	}, 60_000);

	it('lays the frame out again when the terminal is resized', async () => {
		const session = 'resize';
		startDashboard(session, 80, 24);
		try {
			// Host rows first, so that Down below lands on mx1.healthy.demo.
			let lines = await waitForScreen(session, 'the grid at 80x24', current => laidOutFor(24)(current) && has(/ mx1(\.he|\s)/)(current));
			expectFits(lines, 80, 24);

			tmux('resize-window', '-t', session, '-x', '100', '-y', '30');
			lines = await waitForScreen(session, 'the frame at 100x30', laidOutFor(30));
			expectFits(lines, 100, 30);

			tmux('resize-window', '-t', session, '-x', '60', '-y', '15');
			lines = await waitForScreen(session, 'the frame at 60x15', laidOutFor(15));
			expectFits(lines, 60, 15);

			press(session, 'Down');
			await waitForScreen(session, 'the selection on mx1.healthy.demo at 60x15', has(mx1Selected));
			press(session, 'Enter');
			lines = await waitForScreen(session, 'the detail screen at 60x15', has('[1 Summary]'));
			expectFits(lines, 60, 15);

			expect(display(session, '#{pane_dead}')).toBe('0');
			press(session, 'q');
			// Quit before the first round finished is UNKNOWN (3); after it, the open relay's CRITICAL (2).
			expect([{status: 2}, {status: 3}]).toContainEqual(await waitForExit(session));
		} finally {
			stopSession(session);
		}
	}, 60_000);

	it('draws nothing but ASCII with --ascii, on every screen (the demo servers send ASCII only)', async () => {
		const session = 'ascii';
		startDashboard(session, 120, 30, ['--demo', '--ascii']);
		const wide = (lines: string[]): string[] => lines.flatMap(line => [...line].filter(char => char.codePointAt(0)! > 0x7E).map(char => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} in ${JSON.stringify(line)}`));
		const seen = async (what: string, check: (lines: string[]) => boolean, timeoutMs = stepMs): Promise<void> => {
			expect(wide(await waitForScreen(session, what, check, timeoutMs)), what).toEqual([]);
		};

		try {
			await seen('the first round to finish', current => /last \d/.test(current[0] ?? ''), roundMs);
			press(session, 'Down');
			await seen('the selection on mx1.healthy.demo', has(/^> (\d+ )?mx1\.he/));
			press(session, 'Enter');
			await seen('the Summary pane and its extensions table', hasAll('[1 Summary]', 'PIPELINING'));
			for (const [key, pane] of [['2', 'Transcript'], ['3', 'Certificates'], ['4', 'Findings']] as const) {
				press(session, key);
				await seen(`the ${pane} pane`, has(`[${key} ${pane}]`));
			}

			press(session, 'Escape');
			press(session, 'Home');
			press(session, 'Enter');
			await seen('the domain screen', has('Domain: its MX plan'));
			press(session, 'Escape');
			press(session, '?');
			await seen('the help', has(/^Keys\b/));
			press(session, 'x');
			press(session, '/');
			for (const key of [...'relay']) {
				press(session, key);
			}

			await seen('the filter prompt, rows filtered', hasAll('Filter: relay', 'mx.relay.demo'));
			press(session, 'Enter');
			await seen('the grid with a filter', has('filter "relay"'));
			press(session, 'q');
			await waitForExit(session);
		} finally {
			stopSession(session);
		}
	}, 90_000);

	const signalCases = [
		{name: 'busy', when: 'in the middle of the first round', ready: hasAll('MX host', 'healthy.demo'), readyMs: stepMs},
		{name: 'idle', when: 'when idle after a round', ready: (lines: string[]) => /last \d/.test(lines[0] ?? ''), readyMs: roundMs},
	];
	for (const {name, when, ready, readyMs} of signalCases) {
		it(`restores the terminal on SIGTERM ${when}`, async () => {
			const session = `sigterm-${name}`;
			startDashboard(session, 80, 24);
			try {
				await waitForScreen(session, `the dashboard ${when}`, ready, readyMs);
				expect(display(session, '#{alternate_on}')).toBe('1');
				const pid = Number(display(session, '#{pane_pid}'));
				expect(pid).toBeGreaterThan(0);

				process.kill(pid, 'SIGTERM');
				// An exit status or death by the same signal (re-raised after clean-up) are both fine.
				const exit = await waitForExit(session);
				expect(exit.status ?? exit.signal).toBeDefined();
				expect(display(session, '#{pane_dead}')).toBe('1');
				expect(display(session, '#{alternate_on}'), `the terminal is left in the alternate screen (exit ${JSON.stringify(exit)})`).toBe('0');
			} finally {
				stopSession(session);
			}
		}, 60_000);
	}

	it('starts empty, saves a domain added with a, and reopens the saved list with no arguments', async () => {
		// Our own DNS server, so nothing is asked of any other address; NXDOMAIN is all it says.
		const dns = await startDnsServer({});
		const configDir = path.join(workDir, 'saved');
		mkdirSync(configDir);
		const args = ['--resolver', dns.address];
		try {
			startDashboard('first', 80, 24, args, configDir);
			await waitForScreen('first', 'the empty state', has('No domains yet'));
			press('first', 'a');
			await waitForScreen('first', 'the prompt', has('Add domain:'));
			for (const key of [...'bad domain']) {
				press('first', key === ' ' ? 'Space' : key);
			}

			press('first', 'Enter');
			await waitForScreen('first', 'the refusal', has('not a valid domain name'));
			press('first', 'Escape');
			// ESC and `a` read together are Alt-a: the next key waits for the prompt to close.
			await waitForScreen('first', 'the prompt closed', lines => !has('Add domain:')(lines));
			press('first', 'a');
			await waitForScreen('first', 'the prompt', has(/Add domain: _/));
			for (const key of [...'saved.test']) {
				press('first', key);
			}

			press('first', 'Enter');
			await waitForScreen('first', 'the new domain', has(/saved\.test {2}CRITICAL/), roundMs);
			expect(JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8'))).toMatchObject({domains: ['saved.test']});
			press('first', 'q');
			// saved.test has no MX (NXDOMAIN): CRITICAL, as --json would exit.
			expect(await waitForExit('first')).toEqual({status: 2});

			startDashboard('again', 80, 24, args, configDir);
			await waitForScreen('again', 'the saved list', has(/saved\.test {2}CRITICAL/), roundMs);
			press('again', 'd');
			await waitForScreen('again', 'the question', has('Remove saved.test'));
			press('again', 'y');
			await waitForScreen('again', 'the empty state', has('No domains yet'));
			expect(JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8'))).toMatchObject({domains: []});
			press('again', 'q');
			expect(await waitForExit('again')).toEqual({status: 0});
		} finally {
			stopSession('first');
			stopSession('again');
			await dns.close();
		}
	}, 90_000);
});
