import {render} from 'ink-testing-library';
import {describe, expect, it, vi} from 'vitest';
import {App} from '../../source/ui/app.js';
import type {Controller} from '../../source/ui/app.js';
import {keymap} from '../../source/ui/keymap.js';
import {makeTheme} from '../../source/ui/theme.js';
import {roundEvents} from '../helpers/fake-events.js';
import type {FakeHost} from '../helpers/fake-events.js';
import {press, storeAfterRound} from '../helpers/ink.js';

const keys = {down: '\u001B[B', up: '\u001B[A', enter: '\r', escape: '\u001B', end: '\u001B[F', tab: '\t'};

function setup(domains: Record<string, FakeHost[]>, theme = makeTheme({noColor: true})) {
	const store = storeAfterRound(domains);
	const controller: Controller & Record<string, ReturnType<typeof vi.fn>> = {
		reprobe: vi.fn(),
		reprobeAll: vi.fn(),
		addDomain: vi.fn((input: string) => (input.includes(' ') ? 'not a valid domain name' : undefined)),
		removeDomain: vi.fn(),
		quit: vi.fn(),
	};
	const app = render(<App store={store} controller={controller} theme={theme}/>);
	return {store, controller, app};
}

const two = {
	'a.test': [{exchange: 'mx1.a.test', ip: '127.0.0.1'}, {exchange: 'mx2.a.test', ip: '127.0.0.2', open: true}],
	'b.test': [{exchange: 'mx.b.test', ip: '127.0.0.3'}],
};

describe('the dashboard', () => {
	it('w, y and W go to the controller, and the hint bar says what happened', async () => {
		const {app, controller} = setup(two);
		const takeAway = {saveTranscript: vi.fn(() => 'saved to /tmp/t.txt'), copy: vi.fn(() => 'copied the leaf certificate\'s SHA-256 fingerprint (OSC 52)'), saveReport: vi.fn(async () => 'saved to /tmp/r.json')};
		// The store reads the controller at each effect: added after render, it is there for the keys.
		Object.assign(controller, {takeAway});
		let frame = await press(app, keys.down, keys.enter, 'w');
		expect(takeAway.saveTranscript).toHaveBeenCalledWith(expect.stringContaining('127.0.0.1'));
		expect(frame).toContain('saved to /tmp/t.txt');
		frame = await press(app, '3', 'y');
		expect(takeAway.copy).toHaveBeenCalledWith(expect.stringContaining('127.0.0.1'), 'fingerprint');
		expect(frame).toContain('copied the leaf certificate\'s SHA-256 fingerprint (OSC 52)');
		frame = await press(app, keys.escape, 'W');
		expect(takeAway.saveReport).toHaveBeenCalledTimes(1);
		expect(frame).toContain('saved to /tmp/r.json');
		app.unmount();
	});

	it('shows domain rows, host rows and stage cells', async () => {
		const {app} = setup(two);
		const frame = await press(app);
		expect(frame).toContain('MX host');
		expect(frame).toMatch(/a\.test {2}CRITICAL/);
		expect(frame).toMatch(/mx2\.a\.test\s+127\.0\.0\.2 .*OPEN/);
		expect(frame).toMatch(/mx1\.a\.test\s+127\.0\.0\.1 .*closed/);
		expect(frame).toContain('5 rows');
		app.unmount();
	});

	it('opens a host with Enter, switches panes, and Esc returns with the selection kept', async () => {
		const {app} = setup(two);
		let frame = await press(app, keys.down, keys.down, keys.enter);
		expect(frame).toContain('[1 Summary]');
		expect(frame).toContain('mx2.a.test [127.0.0.2]');
		frame = await press(app, '2');
		expect(frame).toContain('→ EHLO probe.mxdash.test');
		expect(frame).toContain('← 250 STARTTLS');
		expect(frame).toMatch(/─+ TLS TLSv1\.3/);
		frame = await press(app, '3');
		expect(frame).toContain('[0] leaf: CN=mx.test');
		expect(frame).toContain('[1] root: CN=Test CA');
		frame = await press(app, keys.tab);
		expect(frame).toContain('[4 Findings]');
		expect(frame).toContain('CRITICAL open-relay');
		expect(frame).toContain('→ Close the relay now:');
		frame = await press(app, keys.escape);
		expect(frame).toMatch(/› (?:\d+ )?mx2\.a\.test/);
		// Enter on the b.test domain row opens the domain; Esc, Down and Enter its host.
		frame = await press(app, keys.down, keys.enter);
		expect(frame).toContain('MX plan');
		frame = await press(app, keys.escape, keys.down, keys.enter);
		expect(frame).toContain('mx.b.test [127.0.0.3]');
		app.unmount();
	});

	it('keeps the selection on the same host when rows are added above it', async () => {
		const {app, store} = setup(two);
		let frame = await press(app, keys.down, keys.down, keys.down, keys.down);
		expect(frame).toMatch(/› (?:\d+ )?mx\.b\.test/);
		const before = frame.split('\n').findIndex(line => line.includes('›'));
		// The next round finds two more hosts for a.test, above the selected row.
		const more = [{exchange: 'mx0.a.test', ip: '127.0.0.7'}, ...two['a.test'], {exchange: 'mx3.a.test', ip: '127.0.0.8'}];
		for (const event of roundEvents({'a.test': more}, '2026-01-01T00:02:00.000Z')) {
			store.apply(event);
		}

		store.flush();
		frame = await press(app);
		expect(frame).toMatch(/› (?:\d+ )?mx\.b\.test/);
		expect(frame.split('\n').findIndex(line => line.includes('›'))).toBe(before + 2);
		app.unmount();
	});

	it('renders only the rows that fit, with a position indicator', async () => {
		const hosts = Array.from({length: 60}, (_, index) => ({exchange: `mx${index}.big.test`, ip: `127.0.1.${index}`}));
		const {app} = setup({'big.test': hosts});
		let frame = await press(app);
		expect(frame.split('\n').length).toBeLessThanOrEqual(23);
		expect(frame).toContain('1–20 of 61');
		expect(frame).not.toContain('mx59.big.test');
		frame = await press(app, keys.end);
		expect(frame).toContain('mx59.big.test');
		expect(frame).toContain('42–61 of 61');
		app.unmount();
	});

	it('adds, removes and re-probes through the controller', async () => {
		const {app, controller} = setup(two);
		let frame = await press(app, 'a', ...'bad domain', keys.enter);
		expect(frame).toContain('not a valid domain name');
		frame = await press(app, keys.escape, 'a', ...'c.test', keys.enter);
		expect(controller.addDomain).toHaveBeenLastCalledWith('c.test');
		expect(frame).not.toContain('Add domain');
		await press(app, 'd', 'y');
		expect(controller.removeDomain).toHaveBeenCalledWith('a.test');
		await press(app, 'R');
		expect(controller.reprobeAll).toHaveBeenCalled();
		await press(app, keys.down, keys.enter, 'r');
		expect(controller.reprobe).toHaveBeenCalledWith(['mx1.a.test|127.0.0.1|25']);
		app.unmount();
	});

	it('takes keys typed faster than they are read, one by one', async () => {
		const {app} = setup(two);
		let frame = await press(app, 'jjj');
		expect(frame).toMatch(/› b\.test/);
		frame = await press(app, 'k\r');
		expect(frame).toContain('mx2.a.test [127.0.0.2]');
		app.unmount();
	});

	it('filters rows with /', async () => {
		const {app} = setup(two);
		const frame = await press(app, '/', ...'b.test', keys.enter);
		expect(frame).toContain('mx.b.test');
		expect(frame).not.toContain('mx1.a.test');
		expect(frame).toContain('filter "b.test"');
		app.unmount();
	});

	it('sorts with s, says by what in the hint bar, and keeps the selection on its host', async () => {
		const {app} = setup(two);
		const order = (frame: string): string[] => frame.split('\n').flatMap(line => /(?:›| ) (?:\d+ )?(mx\S*|[ab]\.test)/.exec(line)?.[1] ?? []);
		let frame = await press(app, keys.down);
		expect(order(frame)).toEqual(['a.test', 'mx1.a.test', 'mx2.a.test', 'b.test', 'mx.b.test']);
		frame = await press(app, 's');
		expect(frame).toContain('sort: status');
		// The open relay (critical) first; the selection is still on mx1.a.test, now a row lower.
		expect(order(frame)).toEqual(['a.test', 'mx2.a.test', 'mx1.a.test', 'b.test', 'mx.b.test']);
		expect(frame).toMatch(/› (?:\d+ )?mx1\.a\.test/);
		frame = await press(app, 's', 's', 's');
		expect(frame).toContain('sort: host name');
		frame = await press(app, 's');
		expect(frame).not.toContain('sort:');
		expect(frame).toMatch(/› (?:\d+ )?mx1\.a\.test/);
		app.unmount();
	});

	it('shows problems only with p, says how many ok hosts are hidden, and combines with / and s', async () => {
		const {app} = setup({...two, 'c.test': [{exchange: 'mx.c.test', ip: '127.0.0.4'}, {exchange: 'mx2.c.test', ip: '127.0.0.6', open: true}]});
		let frame = await press(app, 'p');
		expect(frame).toContain('3 ok hidden');
		expect(frame).toMatch(/mx2\.a\.test\s+127\.0\.0\.2/);
		expect(frame).toMatch(/mx2\.c\.test\s+127\.0\.0\.6/);
		// b.test is ok with its only host: nothing of it is left.
		for (const gone of ['mx1.a.test', 'b.test', 'mx.c.test']) {
			expect(frame).not.toContain(gone);
		}

		frame = await press(app, 's');
		expect(frame).toContain('sort: status  3 ok hidden');
		frame = await press(app, '/', ...'c.test', keys.enter);
		expect(frame).toContain('1 ok hidden');
		expect(frame).not.toContain('a.test');
		frame = await press(app, keys.escape, 'p');
		expect(frame).not.toContain('ok hidden');
		expect(frame).toContain('mx1.a.test');
		app.unmount();
	});

	it('keeps a host open on the detail screen under problems only when it turns ok', async () => {
		const {app, store} = setup(two);
		let frame = await press(app, 'p', keys.down, keys.enter);
		expect(frame).toContain('mx2.a.test [127.0.0.2]');
		for (const event of roundEvents({...two, 'a.test': two['a.test'].map(host => ({...host, open: false}))}, '2026-01-01T00:05:00.000Z')) {
			store.apply(event);
		}

		store.flush();
		frame = await press(app, '4');
		expect(frame).toContain('mx2.a.test [127.0.0.2]');
		frame = await press(app, keys.escape);
		expect(frame).toContain('3 ok hidden');
		expect(frame).not.toContain('mx2.a.test');
		app.unmount();
	});

	it('filters rows while the filter is typed, and Esc restores the rows', async () => {
		const {app} = setup(two);
		let frame = await press(app, '/', ...'mx.b');
		expect(frame).toContain('Filter: mx.b');
		expect(frame).toContain('mx.b.test');
		expect(frame).not.toContain('mx1.a.test');
		frame = await press(app, keys.escape);
		expect(frame).toContain('mx1.a.test');
		expect(frame).not.toContain('filter "');
		app.unmount();
	});

	it('searches the open pane with /, marks the matches, steps with n and N, and Esc ends it', async () => {
		const {app} = setup(two);
		let frame = await press(app, keys.down, keys.enter, '2', '/', ...'ehlo');
		expect(frame).toContain('Search: ehlo_  (match 1 of 2)');
		frame = await press(app, keys.enter);
		expect(frame).toContain('match 1 of 2');
		// The matches are marked in a gutter (readable without colour), the other lines not.
		expect(frame).toMatch(/› +\+0\.003s → EHLO probe\.mxdash\.test/);
		expect(frame).toMatch(/^ {2} +\+0\.002s ← 220/m);
		frame = await press(app, 'n');
		expect(frame).toContain('match 2 of 2');
		frame = await press(app, 'n');
		expect(frame).toContain('match 1 of 2');
		frame = await press(app, 'N');
		expect(frame).toContain('match 2 of 2');
		frame = await press(app, '/', ...'nothing here', keys.enter);
		expect(frame).toContain('no match');
		// Esc ends the search and stays on the pane; a second Esc goes back.
		frame = await press(app, keys.escape);
		expect(frame).toContain('[2 Transcript]');
		expect(frame).not.toMatch(/no match|›/);
		frame = await press(app, '/', ...'STARTTLS', keys.enter, '3');
		expect(frame).toContain('[3 Certificates]');
		expect(frame).not.toMatch(/match \d+ of|no match/);
		frame = await press(app, keys.escape);
		expect(frame).toContain('MX host');
		app.unmount();
	});

	it('names an IDN domain in Unicode and in its ASCII form on its row and its screen', async () => {
		const {app} = setup({'xn--bcher-kva.test': [{exchange: 'mx.xn--bcher-kva.test', ip: '127.0.0.1'}]});
		let frame = app.lastFrame() ?? '';
		expect(frame).toContain('bücher.test (xn--bcher-kva.test)  OK');
		frame = await press(app, keys.enter);
		expect(frame.split('\n')[1]).toContain(' bücher.test (xn--bcher-kva.test)  OK');
		app.unmount();
	});

	it('lists every key of the keymap in the help', async () => {
		const {app} = setup(two);
		const frame = await press(app, '?');
		for (const binding of keymap.slice(0, 18)) {
			expect(frame).toContain(binding.description);
		}

		app.unmount();
	});

	it('explains the glyphs, the counts and the columns below the keys, in ASCII under --ascii', async () => {
		for (const theme of [makeTheme({noColor: true}), makeTheme({ascii: true})]) {
			const {app} = setup(two, theme);
			let frame = await press(app, '?');
			expect(frame).not.toContain('Columns');
			for (let scrolled = 0; scrolled < 60 && !frame.includes('Total '); scrolled++) {
				frame = await press(app, keys.down);
			}

			expect(frame).toMatch(/Relay +closed: relaying refused; OPEN/);
			expect(frame).toMatch(/Cert +certificate days left/);
			expect(frame).toMatch(/Total +the whole session/);
			for (let scrolled = 0; scrolled < 30 && !frame.includes('Glyphs'); scrolled++) {
				frame = await press(app, keys.up);
			}

			expect(frame).toContain(`  ${theme.glyph.ok}`.padEnd(15) + 'passed: no finding judges the stage');
			expect(frame).toContain(`${theme.glyph.critical}N ${theme.glyph.warning}N ${theme.glyph.info}N`);
			expect(frame).toContain(theme.spinner.slice(0, 4).join(''));
			if (theme.ascii) {
				// The legend's lines, less the footer (its position, `23–43 of 54`, is not a glyph).
				expect(frame.split('\n').slice(0, -1).join('\n')).not.toMatch(/[✓✗–·◆›⠋]/);
			}

			app.unmount();
		}
	});

	it('never lets server text reach the terminal raw, and draws without colour under NO_COLOR', async () => {
		const hostile = '\u001B]0;pwned\u0007\u001B[2J\u009B31m\r\u202Eevil';
		const {app} = setup({'evil.test': [{exchange: 'mx.evil.test\u001B[31m', ip: '127.0.0.5', banner: hostile}]});
		let frame = await press(app, keys.down, keys.enter);
		expect(frame).toContain('\\x1b]0;pwned\\x07\\x1b[2J\\u009b31m\\r\\u202eevil');
		frame = await press(app, '2');
		for (const screen of [frame, app.lastFrame() ?? '']) {
			expect([...screen].filter(char => ['\u001B', '\u009B', '\u202E', '\r'].includes(char))).toEqual([]);
		}

		app.unmount();
	});

	it('uses ASCII glyphs with --ascii', async () => {
		const {app} = setup(two, makeTheme({ascii: true}));
		const frame = await press(app);
		expect(frame).not.toMatch(/[✓✗›–]/);
		expect(frame).toMatch(/> a\.test/);
		expect(frame).toContain('+closed');
		app.unmount();
	});

	it('marks a host whose certificate changed since the previous round, and lists the change', async () => {
		const {app, store} = setup({'a.test': [{exchange: 'mx1.a.test', ip: '127.0.0.1'}]});
		for (const event of roundEvents({'a.test': [{exchange: 'mx1.a.test', ip: '127.0.0.1', open: true, fingerprint: '99:88:77:66:55:44'}]}, '2026-01-01T00:05:00.000Z')) {
			store.apply(event);
		}

		store.flush();
		let frame = await press(app);
		expect(frame).toMatch(/◆ (?:\d+ )?mx1\.a\.test/);
		frame = await press(app, keys.down, keys.enter);
		expect(frame).toContain('certificate AB:CD… → 99:88:77:66…');
		expect(frame).toContain('status ok → critical');
		expect(frame).toMatch(/History \(oldest first\): ✓ ✗/);
		app.unmount();
	});
});
