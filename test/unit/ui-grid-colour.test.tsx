import {stripVTControlCharacters} from 'node:util';
import {render} from 'ink-testing-library';
import {describe, expect, it} from 'vitest';
import {coloursOn} from '../helpers/colours.js';
import {App} from '../../source/ui/app.js';
import {makeTheme} from '../../source/ui/theme.js';
import type {Theme} from '../../source/ui/theme.js';
import type {FakeHost} from '../helpers/fake-events.js';
import {idleController, press, storeAfterRound} from '../helpers/ink.js';

const keys = {down: '\u001B[B', up: '\u001B[A'};
const esc = '\u001B';
const domains: Record<string, FakeHost[]> = {'a.test': [{exchange: 'mx1.a.test', ip: '127.0.0.1'}, {exchange: 'mx2.a.test', ip: '127.0.0.2', open: true}]};

function mount(theme: Theme, columns = 100) {
	const app = render(<App store={storeAfterRound(domains)} controller={idleController()} theme={theme}/>);
	if (columns !== 100) {
		Object.defineProperty(app.stdout, 'columns', {value: columns, configurable: true});
		app.stdout.emit('resize');
	}

	return app;
}

/** The frame's line for `host`. */
function row(frame: string, host: string): string {
	return frame.split('\n').find(line => line.includes(host)) ?? '';
}

describe('the grid\'s stage cells, in colour', () => {
	coloursOn();

	it('tone each cell by its stage: a passed stage green, an open relay red beside them', async () => {
		const app = mount(makeTheme());
		const frame = await press(app);
		app.unmount();
		expect(row(frame, 'mx1.a.test')).toContain(`${esc}[32m✓`);
		expect(row(frame, 'mx1.a.test')).toContain('closed');
		// Green up to the relay cell, red for it (no colour spills from one cell to the next).
		const open = row(frame, 'mx2.a.test');
		expect(open).toMatch(/✓.*OPEN/);
		const red = open.lastIndexOf(`${esc}[31m`, open.indexOf('OPEN'));
		expect(red).toBeGreaterThan(open.lastIndexOf(`${esc}[32m`, open.indexOf('OPEN')));
	});

	it('move the highlight with the selection: the whole row, its passed stages still green', async () => {
		const app = mount(makeTheme());
		for (const [key, selected, other] of [[keys.down, 'mx1.a.test', 'mx2.a.test'], [keys.down, 'mx2.a.test', 'mx1.a.test'], [keys.up, 'mx1.a.test', 'mx2.a.test']] as const) {
			const frame = await press(app, key);
			expect(row(frame, selected).startsWith(`${esc}[7m› `)).toBe(true);
			expect(row(frame, selected).endsWith(`${esc}[27m`)).toBe(true);
			expect(row(frame, selected)).toContain(`${esc}[32m✓`);
			expect(row(frame, other).startsWith('  ')).toBe(true);
			expect(row(frame, other)).not.toContain(`${esc}[7m`);
			expect(row(frame, other)).toContain(`${esc}[32m✓`);
		}

		app.unmount();
	});

	it('draw the same glyphs and no colour under NO_COLOR', async () => {
		const app = mount(makeTheme({noColor: true}));
		const frame = await press(app, keys.down);
		app.unmount();
		expect(stripVTControlCharacters(row(frame, 'mx1.a.test'))).toMatch(/^› (?:\d+ )?mx1\.a\.test +127\.0\.0\.1 +✓/);
		expect(row(frame, 'mx2.a.test')).toMatch(/✓.*OPEN/);
		// The highlight stays (inverse is not a colour); nothing else is styled.
		expect(frame.split('\n').filter(line => line.includes('.a.test')).join('\n').replaceAll(`${esc}[7m`, '').replaceAll(`${esc}[27m`, '')).not.toContain(esc);
	});

	it('fit 80 columns: the stage cells whole, in colour, no column past the edge', async () => {
		const app = mount(makeTheme(), 80);
		const fits = (frame: string): boolean => frame.split('\n').every(line => stripVTControlCharacters(line).length <= 80);
		// Bounded: the frames drawn before the resize was taken are at ink-testing-library's 100 columns.
		let frame = await press(app);
		for (let waited = 0; waited < 2000 && !fits(frame); waited += 10) {
			frame = await press(app);
		}

		app.unmount();
		// The host column is shorter here: the rows are found by their addresses.
		expect(row(frame, '127.0.0.1')).toContain(`${esc}[32m✓`);
		expect(fits(frame)).toBe(true);
		expect(stripVTControlCharacters(row(frame, '127.0.0.2'))).toMatch(/✓.*OPEN/);
	});
});
