import {describe, expect, it} from 'vitest';
import type {MonitorEvent} from '../../source/core/run/monitor.js';
import {isTerminalSafe} from '../../source/core/sanitize.js';
import {Store} from '../../source/ui/store.js';
import {roundEvents} from '../helpers/fake-events.js';

const hosts = {'a.test': [{exchange: 'mx.a.test', ip: '127.0.0.1'}], 'b.test': [{exchange: 'mx.b.test', ip: '127.0.0.2', open: true}]};

function fed(events: MonitorEvent[], store = new Store(Object.keys(hosts).map(domain => ({domain, input: domain})), 0)): Store {
	for (const event of events) {
		store.apply(event);
	}

	store.flush();
	return store;
}

describe('the dashboard store', () => {
	it('counts what the latest verdicts say, and keeps the objects of what did not change', () => {
		const store = fed(roundEvents(hosts));
		const first = store.getSnapshot();
		expect(first.counts.critical).toBe(first.domains.reduce((sum, domain) => sum + domain.counts.critical, 0));
		expect(first.domains.map(domain => domain.status)).toEqual(['ok', 'critical']);
		fed([], store);
		const second = store.getSnapshot();
		expect(second.hosts).toBe(first.hosts);
		expect(second.rows).toBe(first.rows);
	});

	it('appends transcript lines in place, without copying the array per line', () => {
		const store = fed(roundEvents(hosts));
		const key = [...store.getSnapshot().hosts.keys()][0]!;
		const lines = store.getSnapshot().hosts.get(key)!.transcript;
		store.apply({type: 'probe', key, event: {type: 'line', line: {t: 99, dir: 'info', text: 'one more'}}});
		store.flush();
		const host = store.getSnapshot().hosts.get(key)!;
		expect(host.transcript).toBe(lines);
		expect(host.transcript.at(-1)?.text).toBe('one more');
	});

	it('takes a verdict that comes while a host is probed again as the previous session judged again, not as a session', () => {
		const store = fed(roundEvents(hosts));
		const next = roundEvents({'a.test': hosts['a.test']}, '2026-01-01T00:05:00.000Z');
		const queued = next.findIndex(event => event.type === 'queued');
		const verdict = next.find(event => event.type === 'verdict')!;
		// A late PTR answer re-judges the old session after the new one was queued.
		fed([...next.slice(0, queued + 1), verdict, ...next.slice(queued + 1)], store);
		const host = [...store.getSnapshot().hosts.values()].find(item => item.exchange === 'mx.a.test')!;
		expect(host.history.map(entry => entry.at)).toEqual(['2026-01-01T00:01:00.000Z', '2026-01-01T00:05:00.000Z']);
		expect(host.changes).toEqual([]);
		expect(host.judged).toBe(true);
	});

	it('leaves a host unjudged while its new session runs, keeping the previous verdict', () => {
		const store = fed(roundEvents(hosts));
		const key = [...store.getSnapshot().hosts.values()].find(item => item.exchange === 'mx.b.test')!.key;
		store.apply({type: 'queued', key, target: {exchange: 'mx.b.test', ip: '127.0.0.2', port: 25}});
		store.flush();
		const host = store.getSnapshot().hosts.get(key)!;
		expect(host).toMatchObject({phase: 'queued', judged: false, status: 'critical'});
		expect(host.findings.map(item => item.id)).toContain('open-relay');
		expect(store.getSnapshot().domains.find(domain => domain.domain === 'b.test')?.status).toBe('critical');
	});

	it('says what changed from what to what: greeting, certificate and its expiry, TLS version, status, addresses', () => {
		const store = fed(roundEvents(hosts));
		const banner = 'ESMTP \u001B[31mready Postfix (Debian) on mx.a.test';
		fed(roundEvents({
			'a.test': [{exchange: 'mx.a.test', ip: '127.0.0.1', banner, open: true, fingerprint: '99:88:77:66:55:44', validTo: '2027-03-01T00:00:00.000Z', tlsVersion: 'TLSv1.2'}, {exchange: 'mx.a.test', ip: '127.0.0.9'}],
		}, '2026-01-01T00:05:00.000Z'), store);
		const snapshot = store.getSnapshot();
		const host = [...snapshot.hosts.values()].find(item => item.ip === '127.0.0.1')!;
		expect(host.changes).toEqual([
			'status ok → critical',
			'certificate AB:CD… → 99:88:77:66…',
			'certificate expiry 2099-01-01 → 2027-03-01',
			'TLS TLSv1.3 → TLSv1.2',
			expect.stringMatching(/^greeting "mx\.a\.test ESMTP" → "ESMTP .+…"$/),
		]);
		// Server text is sanitized and cut, so that old → new stays readable at 80 columns.
		expect(host.changes.every(change => isTerminalSafe(change) && change.length <= 80)).toBe(true);
		expect(snapshot.domains.find(domain => domain.domain === 'a.test')?.changes).toEqual(['mx.a.test addresses 127.0.0.1 → 127.0.0.1, 127.0.0.9']);
	});

	it('gives the last finished round\'s Nagios code on quitting, over the domains still in view', () => {
		const store = new Store(Object.keys(hosts).map(domain => ({domain, input: domain})), 0);
		// Nothing judged yet: UNKNOWN, not OK.
		expect(store.exitCode).toBe(3);
		fed(roundEvents(hosts), store);
		expect(store.exitCode).toBe(2);
		// A new round under way leaves the last one's code.
		const next = roundEvents({'b.test': hosts['b.test']}, '2026-01-01T00:05:00.000Z');
		fed(next.slice(0, 3), store);
		expect(store.exitCode).toBe(2);
		store.removeDomain('b.test');
		expect(store.exitCode).toBe(0);
		store.removeDomain('a.test');
		expect(store.exitCode).toBe(0);
	});
});
