import {render} from 'ink-testing-library';
import {describe, expect, it, vi} from 'vitest';
import {probeKey} from '../../source/core/run/knowledge.js';
import {App} from '../../source/ui/app.js';
import {policyCell} from '../../source/ui/format.js';
import {layout, policyNarrow, policyWide} from '../../source/ui/grid-layout.js';
import {makeTheme} from '../../source/ui/theme.js';
import {delivery, domainPolicy, policyFinding} from '../helpers/fake-events.js';
import type {FakeHost} from '../helpers/fake-events.js';
import {idleController, press, storeAfterRound} from '../helpers/ink.js';

const keys = {down: '\u001B[B', enter: '\r', end: 'G'};
const wouldFail = policyFinding('mta-sts-would-fail', 'mta-sts', 'TLS 1.0 only');
const domains: Record<string, FakeHost[]> = {
	'good.test': [
		{exchange: 'mx1.good.test', ip: '192.0.2.1', delivery: delivery('deliver', 'deliver', 'none')},
		{exchange: 'mx2.good.test', ip: '2001:db8::25', delivery: delivery('deliver', 'fail', 'fail'), policyFindings: [wouldFail], dnsbl: [{zone: 'zen.example', listed: true, codes: ['127.0.0.2']}]},
		{exchange: 'mx.provider.example', ip: '192.0.2.9'},
	],
	'halfdone.test': [{exchange: 'mx2.halfdone.test', ip: '198.51.100.200'}],
};
const policies = {domains: {'good.test': domainPolicy('good.test', '20260101', 'version: STSv1\nmode: enforce\nmax_age: 86400\nmx: *.good.test\n')}};

/** The App on a terminal of `columns`×`rows`, once a frame is `ready` (drawn at that size). */
async function appAt(columns: number, rows: number, ready: (lines: string[]) => boolean, controller = idleController()) {
	const store = storeAfterRound(domains, policies);
	const app = render(<App store={store} controller={controller} theme={makeTheme({noColor: true})}/>);
	Object.defineProperty(app.stdout, 'columns', {value: columns, configurable: true});
	Object.defineProperty(app.stdout, 'rows', {value: rows, configurable: true});
	app.stdout.emit('resize');
	for (let waited = 0; !ready((app.lastFrame() ?? '').split('\n')) && waited < 2000; waited += 10) {
		await new Promise(resolve => {
			setTimeout(resolve, 10);
		});
	}

	return {app, store, lines: (app.lastFrame() ?? '').split('\n')};
}

describe('the Policy column', () => {
	it('is kept at every width, the stage cells giving way first', () => {
		for (const width of [60, 80, 100, 160]) {
			expect([policyWide, policyNarrow]).toContain(layout(width).policy);
		}

		expect(layout(160).policy).toBe(policyWide);
		// At 80 columns the stage cells shrink, and the Policy column with them.
		expect(layout(80)).toMatchObject({policy: policyNarrow, total: false});
	});

	it('shows at 80×24 what each sender would do, the blocklist mark, and the would-fail in the row', async () => {
		const {app, lines} = await appAt(80, 24, lines => lines.length > 2 && lines.every(line => [...line].length <= 80));
		for (const line of lines) {
			expect([...line].length).toBeLessThanOrEqual(80);
		}

		expect(lines[1]).toMatch(/Relay +OSD/);
		const frame = lines.join('\n');
		expect(frame).toMatch(/10 mx1 +192\.0\.2\.1 .*closed +✓✓· *$/m);
		expect(frame).toMatch(/20 mx2 +2001:db8::25 .*closed +✓✗✗B *$/m);
		// No policy verdict: the cell stays empty.
		expect(frame).toMatch(/mx\.provider\.example +192\.0\.2\.9 .*closed *$/m);
		// The domain's policy finding for the address makes its domain row name it.
		expect(frame).toMatch(/good\.test .*mta-sts-would-fail/);
		app.unmount();
	});

	it.each([
		{name: 'Unicode', theme: makeTheme({noColor: true}), wide: '✓ ✗ ·B', narrow: '✓✗·B'},
		{name: 'ASCII', theme: makeTheme({ascii: true}), wide: '+ x .B', narrow: '+x.B'},
	])('draws the cell in $name, the glyph carrying the meaning', ({theme, wide, narrow}) => {
		const store = storeAfterRound({'a.test': [{exchange: 'mx.a.test', ip: '127.0.0.1', delivery: delivery('deliver', 'fail', 'none'), dnsbl: [{zone: 'z.example', listed: true, codes: ['127.0.0.2']}]}]});
		const snapshot = store.getSnapshot();
		const host = [...snapshot.hosts.values()][0]!;
		expect(policyCell(host, snapshot.domains[0], theme, 0, false)).toEqual({text: wide, tone: 'critical'});
		expect(policyCell(host, snapshot.domains[0], theme, 0, true).text).toBe(narrow);
		// Scanning: the spinner; no verdict for this domain: empty but for the listing.
		expect(policyCell({...host, scanning: true}, snapshot.domains[0], theme, 0, true).tone).toBe('running');
		expect(policyCell(host, {...snapshot.domains[0]!, addresses: {}}, theme, 0, true)).toEqual({text: '   B', tone: 'warning'});
	});

	it('counts a would-fail as a problem of its row: problems only keeps it', async () => {
		const {app} = await appAt(100, 30, lines => lines.length > 2);
		const frame = await press(app, 'p');
		expect(frame).toContain('2001:db8::25');
		expect(frame).not.toContain('192.0.2.1 ');
		app.unmount();
	});

	it('spells the senders out where there is room', async () => {
		const {app, lines} = await appAt(160, 30, lines => lines.some(line => [...line].length > 100));
		expect(lines[1]).toContain('O S D');
		expect(lines.join('\n')).toMatch(/2001:db8::25 .*✓ ✗ ✗B/);
		app.unmount();
	});
});

describe('the Policy pane and the t key', () => {
	it('opens with 5, and t scans the selected host, which says so until the scan ends', async () => {
		const scanTls = vi.fn();
		const {app, store} = await appAt(100, 40, lines => lines.length > 2, {...idleController(), scanTls});
		const key = probeKey('mx2.good.test', '2001:db8::25', 25);
		scanTls.mockImplementation((scanned: string) => {
			store.setScanning(scanned, true);
		});
		let frame = await press(app, keys.down, keys.down, keys.enter, '5');
		expect(frame).toContain('[5 Policy]');
		expect(frame).toContain('✓ opportunistic deliver: opportunistic delivers');
		expect(frame).toContain('✗ MTA-STS       fail: MTA-STS says fail');
		expect(frame).toContain('_mta-sts.good.test: "v=STSv1; id=20260101"');
		expect(frame).toContain('✓ mx2.good.test: matches *.good.test');
		expect(frame).toContain('✗ zen.example: LISTED 127.0.0.2');
		frame = await press(app, 't');
		expect(scanTls).toHaveBeenCalledWith(key);
		expect(frame).toContain('scanning TLS versions');
		expect(frame).toContain('scanning…');
		store.apply({type: 'tls-versions', key, scan: {accepted: {TLSv1: true, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true}, detail: {}, untried: []}});
		store.flush();
		frame = await press(app, keys.end);
		expect(frame).not.toContain('scanning');
		expect(frame).toContain('! TLSv1   accepted');
		expect(frame).toContain('– TLSv1.1 refused');
		app.unmount();
	});

	it('shows the domain\'s own MTA-STS and TLS-RPT on the domain screen', async () => {
		const {app} = await appAt(100, 60, lines => lines.length > 2);
		const frame = await press(app, keys.enter, keys.end);
		expect(frame).toContain('_mta-sts.good.test: "v=STSv1; id=20260101"');
		expect(frame).toContain('  ✓ mx1.good.test: matches *.good.test');
		expect(frame).toContain('  ✗ mx.provider.example: no pattern matches');
		expect(frame).toContain('  rua: mailto:tls@good.test');
		app.unmount();
	});

	it('t on a domain row asks for a host instead', async () => {
		const scanTls = vi.fn();
		const {app} = await appAt(100, 40, lines => lines.length > 2, {...idleController(), scanTls});
		const frame = await press(app, 't');
		expect(scanTls).not.toHaveBeenCalled();
		expect(frame).toContain('t scans one host\'s TLS versions: select a host');
		app.unmount();
	});
});
