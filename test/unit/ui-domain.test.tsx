import {render} from 'ink-testing-library';
import {describe, expect, it} from 'vitest';
import {App} from '../../source/ui/app.js';
import {Knowledge} from '../../source/core/run/knowledge.js';
import type {MonitorEvent} from '../../source/core/run/monitor.js';
import type {MxPlan} from '../../source/core/types.js';
import {Store} from '../../source/ui/store.js';
import {makeTheme} from '../../source/ui/theme.js';
import {idleController, press} from '../helpers/ink.js';

/** Domains with no address to probe: only a plan and the domain's verdict, as the engine sends them. */
const plans: MxPlan[] = [
	{domain: 'dangling.test', input: 'dangling.test', query: {answer: 'records', records: 1, nullRecords: 0, hosts: 1}, mx: [{exchange: 'mx.dangling.test', preference: 10, implicit: false, ipLiteral: false, addresses: [], lookupFailures: [{kind: 'nxdomain', code: 'ENOTFOUND', message: ''}]}]},
	{domain: 'nx.test', input: 'nx.test', query: {answer: 'failed', failure: {kind: 'nxdomain', code: 'ENOTFOUND', message: ''}}, mx: []},
	{domain: 'null.test', input: 'null.test', query: {answer: 'records', records: 1, nullRecords: 1, hosts: 0}, mx: []},
];

function setup() {
	const store = new Store(plans.map(plan => ({domain: plan.domain, input: plan.input})), 0);
	const knowledge = new Knowledge({warnDays: 21, bannerSlowMs: 5000, now: () => Date.parse('2026-01-01T00:01:00.000Z')}, () => 25);
	const events: MonitorEvent[] = [{type: 'round-start', domains: plans.map(plan => plan.domain), at: '2026-01-01T00:00:00.000Z'}];
	for (const plan of plans) {
		knowledge.setPlan(plan);
		events.push({type: 'plan', plan}, {type: 'domain', domain: plan.domain, verdict: knowledge.domainVerdict(plan.domain)!});
	}

	events.push({type: 'round-done', at: '2026-01-01T00:01:00.000Z'});
	for (const event of events) {
		store.apply(event);
	}

	store.flush();
	return render(<App store={store} controller={idleController()} theme={makeTheme({noColor: true})}/>);
}

describe('domains with no host to probe', () => {
	it('give their domain row a reason', async () => {
		const app = setup();
		const frame = await press(app);
		const row = frame.split('\n').find(line => line.includes('dangling.test'));
		expect(row).toMatch(/dangling\.test {2}CRITICAL {2}1 MX, 0 addr {2}\S/);
		app.unmount();
	});

	it('open to a domain screen with the plan and the findings', async () => {
		const app = setup();
		let frame = await press(app, '\r');
		expect(frame).toContain('MX plan');
		expect(frame).toContain('  10 mx.dangling.test');
		expect(frame).toContain('no address: nxdomain');
		expect(frame).toMatch(/CRITICAL \S+/);
		frame = await press(app, '\u001B', 'j', '\r');
		expect(frame).toContain('MX lookup failed: nxdomain');
		expect(frame).toContain('Findings');
		frame = await press(app, '\u001B', 'j', '\r');
		expect(frame).toContain('Null MX');
		app.unmount();
	});
});
