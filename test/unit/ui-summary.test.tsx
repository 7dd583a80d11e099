import {render} from 'ink-testing-library';
import {describe, expect, it} from 'vitest';
import {App} from '../../source/ui/app.js';
import {makeTheme} from '../../source/ui/theme.js';
import type {FakeHost} from '../helpers/fake-events.js';
import {idleController, press, storeAfterRound} from '../helpers/ink.js';

const keys = {down: '\u001B[B', enter: '\r', end: '\u001B[F'};

/** The app on a terminal of `columns`×`rows` (ink-testing-library's stdout says 100×24 otherwise). */
function setup(hosts: FakeHost[], columns: number, rows: number) {
	const app = render(<App store={storeAfterRound({'good.test': hosts})} controller={idleController()} theme={makeTheme({noColor: true})}/>);
	Object.defineProperty(app.stdout, 'columns', {value: columns, configurable: true});
	Object.defineProperty(app.stdout, 'rows', {value: rows, configurable: true});
	app.stdout.emit('resize');
	return app;
}

const many = ['PIPELINING', 'SIZE', 'ETRN', 'STARTTLS', 'AUTH', 'ENHANCEDSTATUSCODES', '8BITMIME', 'DSN', 'SMTPUTF8', 'CHUNKING', 'VRFY', 'BINARYMIME'];

describe('the wide Summary pane', () => {
	it('draws the EHLO table whole, with its borders, where it fits', async () => {
		for (const [columns, rows] of [[100, 24], [160, 45]] as const) {
			const app = setup([{exchange: 'mx1.good.test', ip: '192.0.2.1', extensions: ['PIPELINING', 'STARTTLS', 'ENHANCEDSTATUSCODES', 'DSN']}], columns, rows);
			const frame = await press(app, keys.down, keys.enter);
			const lines = frame.split('\n');
			expect(lines.length).toBeLessThan(rows);
			expect(frame).toContain('[1 Summary]');
			expect(frame).toMatch(/┌─+┬─+┬─+┐/);
			expect(frame).toMatch(/└─+┴─+┴─+┘/);
			for (const keyword of ['PIPELINING', 'STARTTLS', 'ENHANCEDSTATUSCODES', 'DSN']) {
				expect(frame).toMatch(new RegExp(`│ ${keyword} +│`));
			}

			// No line of the table's wrapped remains.
			expect(lines.filter(line => /^\s*─\s*$/.test(line.slice(50)))).toEqual([]);
			for (const line of lines) {
				expect([...line].length).toBeLessThanOrEqual(columns);
			}

			app.unmount();
		}
	});

	it('keeps the tabs and scrolls every extension into view when the table does not fit, and says there is more', async () => {
		const app = setup([{exchange: 'mx1.good.test', ip: '192.0.2.1', extensions: many}], 100, 24);
		let frame = await press(app, keys.down, keys.enter);
		expect(frame.split('\n').length).toBeLessThan(24);
		expect(frame).toContain('[1 Summary]');
		expect(frame).toMatch(/\d+–\d+ of \d+/);
		frame = await press(app, keys.end);
		expect(frame).toContain('[1 Summary]');
		expect(frame.split('\n').length).toBeLessThan(24);
		for (const keyword of ['BINARYMIME', 'VRFY', 'CHUNKING', 'SMTPUTF8']) {
			expect(frame).toContain(keyword);
		}

		const shown = new Set<string>();
		// Every extension is on some page of the pane: scroll from the top down, a page at a time.
		frame = await press(app, 'g');
		for (let page = 0; page < 6; page++) {
			for (const keyword of many) {
				if (new RegExp(`^${keyword} `, 'm').test(frame)) {
					shown.add(keyword);
				}
			}

			frame = await press(app, '\u001B[6~');
		}

		expect([...shown].sort()).toEqual([...many].sort());
		app.unmount();
	});
});
