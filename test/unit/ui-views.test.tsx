import {render} from 'ink-testing-library';
import {describe, expect, it} from 'vitest';
import {stageNames} from '../../source/core/types.js';
import type {MxPlan, Stage, StageName} from '../../source/core/types.js';
import type {DomainState, HostState} from '../../source/ui/store.js';
import {makeTheme} from '../../source/ui/theme.js';
import {DetailScreen} from '../../source/ui/views/detail-screen.js';
import {HintBar} from '../../source/ui/views/hint-bar.js';
import type {DetailScreenProps} from '../../source/ui/views/detail-screen.js';
import {StatusBar} from '../../source/ui/views/status-bar.js';
import type {StatusBarProps} from '../../source/ui/views/status-bar.js';

/** The views on their own, from props: here the single-instance spinners of ink-spinner. */

const dots = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
const line = /[-\\|/]/;

function host(phase: HostState['phase']): HostState {
	const stages = Object.fromEntries(stageNames.map(name => [name, {state: 'pending'}])) as Record<StageName, Stage>;
	return {key: 'mx.a.test|127.0.0.1|25', exchange: 'mx.a.test', ip: '127.0.0.1', port: 25, phase, stages, transcript: [], findings: [], judged: phase === 'done', history: [], changes: [], ...(phase === 'done' ? {status: 'ok'} : {})};
}

function statusBar(running: boolean, ascii = false): StatusBarProps {
	const hosts = new Map([['a', host('done')], ['b', host('probing')]]);
	return {
		snapshot: {domains: [], hosts, round: {running, count: 0}, counts: {info: 1, warning: 2, critical: 3}},
		width: 80,
		theme: makeTheme({noColor: true, ascii}),
		now: 0,
	};
}

function domainWith(domain: string, addresses: string[]): DomainState {
	const plan: MxPlan = {domain, input: domain, query: {answer: 'records', records: 1, nullRecords: 0, hosts: 1}, mx: [{exchange: 'mx.shared.test', preference: 10, implicit: false, ipLiteral: false, addresses}]};
	return {domain, input: domain, plan, findings: [], mxFindings: [], counts: {info: 0, warning: 0, critical: 0}, changes: [], addresses: {}};
}

function detail(phase: HostState['phase'], ascii = false): DetailScreenProps {
	return {
		row: {kind: 'host', id: 'a.test|mx', domain: 'a.test', key: 'mx.a.test|127.0.0.1|25', exchange: 'mx.a.test', preference: 10, implicit: false},
		host: host(phase), pane: 0, lines: [{text: 'Greeting'}], paneTop: 0, extensions: [], sideBySide: false, paneWidth: 80, tableWidth: 44,
		bodyHeight: 10, width: 80, theme: makeTheme({noColor: true, ascii}),
	};
}

const firstLine = (frame: string | undefined): string => frame?.split('\n')[0] ?? '';

describe('the spinners', () => {
	it('spins in the status bar while a round runs', () => {
		const app = render(<StatusBar {...statusBar(true)}/>);
		expect(firstLine(app.lastFrame())).toMatch(new RegExp(`^ mxdash {2}0 domains {2}${dots.source} probing 1/2 {2}✗3 !2 i1 {2}first round`));
		app.unmount();
	});

	it('draws ASCII frames with --ascii', () => {
		const app = render(<StatusBar {...statusBar(true, true)}/>);
		expect(firstLine(app.lastFrame())).toMatch(new RegExp(`^ mxdash {2}0 domains {2}${line.source} probing 1/2 {2}X3`));
		app.unmount();
	});

	it('has no spinner when idle', () => {
		const app = render(<StatusBar {...statusBar(false)}/>);
		// Addresses are counted from the domains' plans, as the report counts them: none here.
		expect(firstLine(app.lastFrame())).toMatch(/^ mxdash {2}0 domains {2}0 addresses {2}✗3 !2 i1 {2}first round/);
		app.unmount();
	});

	it('says "1 domain" and "1 address", with the noun in the singular', () => {
		const props = statusBar(false);
		const app = render(<StatusBar {...props} snapshot={{...props.snapshot, domains: [domainWith('a.test', ['127.0.0.1'])], hosts: new Map([['a', host('done')]])}}/>);
		expect(firstLine(app.lastFrame())).toMatch(/^ mxdash {2}1 domain {2}1 address {2}/);
		app.unmount();
	});

	it('counts an address once per domain that has it, as the report does, not once per session', () => {
		const props = statusBar(false);
		// Two domains with the same MX host: one session, two addresses in the report.
		const domains = [domainWith('a.test', ['127.0.0.1', '::1']), domainWith('b.test', ['127.0.0.1', '::1'])];
		const app = render(<StatusBar {...props} snapshot={{...props.snapshot, domains, hosts: new Map([['a', host('done')], ['b', host('done')]])}}/>);
		expect(firstLine(app.lastFrame())).toMatch(/^ mxdash {2}2 domains {2}4 addresses {2}/);
		app.unmount();
	});

	it.each(['queued', 'probing'] as const)('spins after the detail title while the host is %s', phase => {
		const app = render(<DetailScreen {...detail(phase)}/>);
		expect(firstLine(app.lastFrame())).toMatch(new RegExp(`^ mx\\.a\\.test \\[127\\.0\\.0\\.1\\] {2}a\\.test {2}${phase} ${dots.source}$`));
		app.unmount();
	});

	it('spins in ASCII after the detail title with --ascii', () => {
		const app = render(<DetailScreen {...detail('probing', true)}/>);
		expect(firstLine(app.lastFrame())).toMatch(new RegExp(`probing ${line.source}$`));
		app.unmount();
	});

	it('has no spinner once the host is done', () => {
		const app = render(<DetailScreen {...detail('done')}/>);
		expect(firstLine(app.lastFrame()).trimEnd()).toBe(' mx.a.test [127.0.0.1]  a.test  OK');
		app.unmount();
	});

	it('brackets an IPv6 address before its port in the title', () => {
		const props = detail('done');
		const app = render(<DetailScreen {...props} host={{...props.host!, ip: '::1', port: 2526}}/>);
		expect(firstLine(app.lastFrame()).trimEnd()).toBe(' mx.a.test [::1]:2526  a.test  OK');
		app.unmount();
	});

	it.each([[false, ' mx.a.test [127.0.0.1]  bücher.test (xn--bcher-kva.test)  OK'], [true, ' mx.a.test [127.0.0.1]  xn--bcher-kva.test  OK']])('names an IDN domain in Unicode and ASCII in the title, ASCII alone with --ascii (%s)', (ascii, title) => {
		const props = detail('done', ascii);
		const app = render(<DetailScreen {...props} row={{...props.row, domain: 'xn--bcher-kva.test'}}/>);
		expect(firstLine(app.lastFrame()).trimEnd()).toBe(title);
		app.unmount();
	});

	it('cuts a long title to leave the spinner room', () => {
		const props = detail('probing');
		const app = render(<DetailScreen {...props} row={{...props.row, exchange: `mx${'x'.repeat(100)}.a.test`}}/>);
		const text = firstLine(app.lastFrame());
		expect(text).toMatch(new RegExp(`… ${dots.source}$`));
		expect([...text]).toHaveLength(80);
		app.unmount();
	});
});

describe('the hint bar', () => {
	const hintsOf = (width: number, extra: string): string => {
		const app = render(<HintBar screen="grid" width={width} extra={extra} theme={makeTheme({noColor: true})}/>);
		const text = firstLine(app.lastFrame());
		app.unmount();
		return text;
	};

	it.each([
		// What the grid's bar says with a filter, and with one while the rows scroll.
		[80, 'filter "b.test"  2 rows'],
		[80, 'filter "b.test"  1–20 of 40'],
		[60, 'filter "b.test"  1–20 of 40'],
		[40, 'filter "mx"  5 rows'],
	])('at %i columns with %j drops whole hints, never cutting one', (width, extra) => {
		const text = hintsOf(width, extra);
		expect(text).not.toContain('…');
		expect(text.trimEnd().endsWith(extra)).toBe(true);
		const words = text.slice(0, text.indexOf(extra)).trim();
		expect(`${words} `).toMatch(/^((↑↓|Enter open|r\/R probe|a add|d del|\/ filter|\? help|q quit) )*$/);
		expect(words).toMatch(/q quit$/);
	});

	it('shows every hint when there is room', () => {
		expect(hintsOf(100, '5 rows')).toMatch(/^ ↑↓ Enter open r\/R probe a add d del \/ filter s sort p problems W report \? help q quit +5 rows *$/);
	});
});
