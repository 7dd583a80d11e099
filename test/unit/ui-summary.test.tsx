import {render} from 'ink-testing-library';
import {describe, expect, it, vi} from 'vitest';
import {App} from '../../source/ui/app.js';
import type {Controller} from '../../source/ui/app.js';
import {Store} from '../../source/ui/store.js';
import {makeTheme} from '../../source/ui/theme.js';
import {roundEvents} from '../helpers/fake-events.js';
import type {FakeHost} from '../helpers/fake-events.js';

const keys = {down: '\u001B[B', enter: '\r', end: '\u001B[F'};

/** The app on a terminal of `columns`×`rows` (ink-testing-library's stdout says 100×24 otherwise). */
function setup(hosts: FakeHost[], columns: number, rows: number) {
	const store = new Store([{domain: 'good.test', input: 'good.test'}], 0);
	for (const event of roundEvents({'good.test': hosts})) {
		store.apply(event);
	}

	store.flush();
	const controller: Controller = {reprobe: vi.fn(), reprobeAll: vi.fn(), addDomain: vi.fn(() => undefined), removeDomain: vi.fn(), quit: vi.fn()};
	const app = render(<App store={store} controller={controller} theme={makeTheme({noColor: true})}/>);
	Object.defineProperty(app.stdout, 'columns', {value: columns, configurable: true});
	Object.defineProperty(app.stdout, 'rows', {value: rows, configurable: true});
	app.stdout.emit('resize');
	return app;
}

async function tick(): Promise<void> {
	await new Promise(resolve => {
		setTimeout(resolve, 10);
	});
}

/** Type keys, then wait (bounded) for the frame that follows the last one. */
async function press(app: ReturnType<typeof render>, ...sequence: string[]): Promise<string> {
	let before = app.frames.length;
	for (const key of sequence) {
		await tick();
		before = app.frames.length;
		app.stdin.write(key);
	}

	for (let waited = 0; app.frames.length === before && waited < 1000; waited += 10) {
		await tick();
	}

	return app.lastFrame() ?? '';
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
