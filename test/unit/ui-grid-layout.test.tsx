import {render} from 'ink-testing-library';
import {describe, expect, it} from 'vitest';
import {App} from '../../source/ui/app.js';
import {layout, shortName} from '../../source/ui/grid-layout.js';
import {makeTheme} from '../../source/ui/theme.js';
import type {FakeHost} from '../helpers/fake-events.js';
import {idleController, storeAfterRound} from '../helpers/ink.js';

const domains: Record<string, FakeHost[]> = {
	'good.test': [{exchange: 'mx1.good.test', ip: '192.0.2.1'}, {exchange: 'mx2.good.test', ip: '2001:db8::25'}, {exchange: 'mx.provider.example', ip: '192.0.2.9'}],
	'halfdone.test': [{exchange: 'mx2.halfdone.test', ip: '198.51.100.200'}],
};

/** The grid on a terminal of `columns`×`rows`, once a frame is `ready` (drawn at that size). */
async function gridAt(columns: number, rows: number, ready: (lines: string[]) => boolean): Promise<{app: ReturnType<typeof render>; lines: string[]}> {
	const app = render(<App store={storeAfterRound(domains)} controller={idleController()} theme={makeTheme({noColor: true})}/>);
	Object.defineProperty(app.stdout, 'columns', {value: columns, configurable: true});
	Object.defineProperty(app.stdout, 'rows', {value: rows, configurable: true});
	app.stdout.emit('resize');
	// Bounded: the frames drawn before the resize was taken are at ink-testing-library's 100 columns.
	for (let waited = 0; !ready((app.lastFrame() ?? '').split('\n')) && waited < 2000; waited += 10) {
		await new Promise(resolve => {
			setTimeout(resolve, 10);
		});
	}

	return {app, lines: (app.lastFrame() ?? '').split('\n')};
}

describe('the grid\'s columns', () => {
	it('names a host by what its domain header leaves unsaid', () => {
		expect(shortName('mx1.good.test', 'good.test')).toBe('mx1');
		expect(shortName('MX1.Good.Test.', 'good.test')).toBe('MX1');
		expect(shortName('mx.provider.example', 'good.test')).toBe('mx.provider.example');
		expect(shortName('good.test', 'good.test')).toBe('good.test');
		expect(shortName('xgood.test', 'good.test')).toBe('xgood.test');
	});

	it('keeps the identity readable at 80×24: short names, the preference, whole addresses', async () => {
		const {app, lines} = await gridAt(80, 24, lines => lines.length > 2 && lines.every(line => [...line].length <= 80));
		expect(lines.length).toBeLessThan(24);
		for (const line of lines) {
			expect([...line].length).toBeLessThanOrEqual(80);
		}

		const frame = lines.join('\n');
		expect(frame).toMatch(/10 mx1 +192\.0\.2\.1 /);
		expect(frame).toMatch(/20 mx2 +2001:db8::25 /);
		// Not under its domain: its whole name (the preference goes first when that is tight).
		expect(frame).toMatch(/ mx\.provider\.example +192\.0\.2\.9 /);
		expect(frame).toMatch(/10 mx2 +198\.51\.100\.200 /);
		expect(frame).not.toContain('…');
		// The stage cells still say what happened.
		expect(frame).toMatch(/192\.0\.2\.1 .*✓1\.3.*closed/);
		app.unmount();
	});

	it('spends spare width on PTR, software, cipher and days left, not on the host column', async () => {
		const {app, lines} = await gridAt(160, 45, lines => lines.some(line => [...line].length > 100));
		expect(lines.length).toBeLessThan(45);
		const header = lines[1] ?? '';
		expect(header).toContain('TLS cipher');
		expect(header).toContain('Days left');
		expect(header.indexOf('Address')).toBeLessThan(30);
		expect(lines.join('\n')).toMatch(/10 mx1\.good\.test .*TLS_AES_128_GCM_SHA256 +\d+d/);
		app.unmount();
	});

	it('gives the stage cells less room before it cuts the host', () => {
		const needs = {host: 19, fullHost: 30, address: 16, extras: {ptr: 0, software: 0, cipher: 0, days: 0}};
		const wide = layout(120, needs);
		const narrow = layout(80, needs);
		// Wide: the whole names; narrow: elided, and the stage cells shrink for them.
		expect(wide).toMatchObject({host: 30, elide: false});
		expect(narrow.elide).toBe(true);
		expect(narrow.host).toBe(19);
		expect(narrow.columns.reduce((sum, column) => sum + column.width, 0)).toBeLessThan(wide.columns.reduce((sum, column) => sum + column.width, 0));
		// An IPv6 address is never cut: the longest there is takes its 39 characters and a space.
		expect(layout(80, {...needs, host: 8, fullHost: 8, address: 40}).address).toBe(40);
	});
});
