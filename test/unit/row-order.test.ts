import {describe, expect, it} from 'vitest';
import type {Status} from '../../source/core/run/knowledge.js';
import type {HostFacts, OrderFacts, SortOrder} from '../../source/ui/row-order.js';
import {nextSort, problemRows, sortOrders, sortRows} from '../../source/ui/row-order.js';
import type {GridRow} from '../../source/ui/store.js';

/** The grid's orders as data: rows, the facts of their hosts, and the order they come out in. */

const domain = (name: string): GridRow => ({kind: 'domain', id: `domain:${name}`, domain: name});
const host = (name: string, key: string, exchange: string): GridRow => ({kind: 'host', id: `${name}|${key}`, domain: name, key, exchange, preference: 10, implicit: false});

const rows: GridRow[] = [
	domain('a.test'),
	host('a.test', 'k1', 'mx1.a.test'),
	host('a.test', 'k2', 'Beta.a.test'),
	host('a.test', 'k3', 'alpha.a.test'),
	domain('b.test'),
	host('b.test', 'k4', 'mx.b.test'),
	domain('c.test'),
	domain('d.test'),
	host('d.test', 'k5', 'mx1.d.test'),
	host('d.test', 'k6', 'mx2.d.test'),
];

const hostFacts: Record<string, HostFacts> = {
	k1: {status: 'ok', daysLeft: 300, ms: 80},
	k2: {status: 'critical', daysLeft: -3, ms: 2000},
	// Not judged yet, no certificate, no time: last in every order.
	k3: {},
	k4: {status: 'warning', daysLeft: 10, ms: 50},
	k5: {status: 'ok', daysLeft: 5, ms: 6000},
	k6: {status: 'unknown', ms: 120},
};
const domainStatus: Record<string, Status | undefined> = {'a.test': 'critical', 'b.test': 'warning', 'c.test': 'critical', 'd.test': 'ok'};
const facts: OrderFacts = {host: key => hostFacts[key], domainStatus: name => domainStatus[name]};

const ids = (list: GridRow[]): string[] => list.map(row => (row.kind === 'domain' ? row.domain : row.key));

const cases: Array<{order: SortOrder; expected: string[]; why: string}> = [
	{order: 'configured', why: 'the rows as they came', expected: ['a.test', 'k1', 'k2', 'k3', 'b.test', 'k4', 'c.test', 'd.test', 'k5', 'k6']},
	{order: 'status', why: 'worst first; domains by their worst status, a domain with no host by its own; the unjudged last', expected: ['a.test', 'k2', 'k1', 'k3', 'c.test', 'b.test', 'k4', 'd.test', 'k6', 'k5']},
	{order: 'cert', why: 'fewest days first (expired before all), no certificate last; domains stay', expected: ['a.test', 'k2', 'k1', 'k3', 'b.test', 'k4', 'c.test', 'd.test', 'k5', 'k6']},
	{order: 'time', why: 'slowest first, no time last; domains stay', expected: ['a.test', 'k2', 'k1', 'k3', 'b.test', 'k4', 'c.test', 'd.test', 'k5', 'k6']},
	{order: 'name', why: 'by host name, whatever its case', expected: ['a.test', 'k3', 'k2', 'k1', 'b.test', 'k4', 'c.test', 'd.test', 'k5', 'k6']},
];

describe('the grid orders', () => {
	it.each(cases)('$order: $why', ({order, expected}) => {
		expect(ids(sortRows(rows, order, facts))).toEqual(expected);
	});

	it('keeps ties in the configured order', () => {
		const same: OrderFacts = {host: () => ({status: 'ok', daysLeft: 30, ms: 100}), domainStatus: () => 'ok'};
		for (const order of sortOrders) {
			expect(ids(sortRows(rows, order, same)), order).toEqual(order === 'name' ? ids(sortRows(rows, 'name', facts)) : ids(rows));
		}
	});

	it('sorts the hosts of a filtered grid, whose domain rows are still there', () => {
		const filtered = rows.filter(row => row.domain === 'd.test');
		expect(ids(sortRows(filtered, 'time', facts))).toEqual(['d.test', 'k5', 'k6']);
		expect(ids(sortRows(filtered, 'status', facts))).toEqual(['d.test', 'k6', 'k5']);
	});

	it('leaves the rows as they were given, and gives them back as configured', () => {
		const copy = [...rows];
		sortRows(rows, 'status', facts);
		expect(rows).toEqual(copy);
		expect(sortRows(rows, 'configured', facts)).toBe(rows);
	});

	it('cycles configured → status → cert → time → name → configured', () => {
		const seen: SortOrder[] = ['configured'];
		for (let index = 0; index < 5; index++) {
			seen.push(nextSort(seen.at(-1)!));
		}

		expect(seen).toEqual(['configured', 'status', 'cert', 'time', 'name', 'configured']);
	});
});

describe('problems only', () => {
	const keys = (list: GridRow[]): string[] => list.map(row => (row.kind === 'domain' ? row.domain : row.key));

	it('hides the ok hosts, and the ok domains left with none, and counts the hosts hidden', () => {
		// k1 and k5 are ok; d.test is ok but keeps k6 (unknown); c.test has no host but is critical.
		const result = problemRows(rows, facts);
		expect(keys(result.rows)).toEqual(['a.test', 'k2', 'k3', 'b.test', 'k4', 'c.test', 'd.test', 'k6']);
		expect(result.hidden).toBe(2);
	});

	it('hides an ok domain with every host ok, but keeps a domain with a problem of its own', () => {
		const allOk: OrderFacts = {host: () => ({status: 'ok'}), domainStatus: name => (name === 'b.test' ? 'warning' : 'ok')};
		const result = problemRows(rows, allOk);
		expect(keys(result.rows)).toEqual(['b.test']);
		expect(result.hidden).toBe(6);
	});

	it('keeps the row open on the detail screen, though it is ok, and its domain row', () => {
		const result = problemRows(rows, facts, 'd.test|k5');
		expect(keys(result.rows)).toEqual(['a.test', 'k2', 'k3', 'b.test', 'k4', 'c.test', 'd.test', 'k5', 'k6']);
		expect(result.hidden).toBe(1);
		const allOk: OrderFacts = {host: () => ({status: 'ok'}), domainStatus: () => 'ok'};
		expect(keys(problemRows(rows, allOk, 'domain:c.test').rows)).toEqual(['c.test']);
		expect(keys(problemRows(rows, allOk, 'b.test|k4').rows)).toEqual(['b.test', 'k4']);
	});

	it('keeps the hosts not judged yet, and combines with a filter and a sort', () => {
		const filtered = rows.filter(row => row.domain === 'a.test' || row.domain === 'd.test');
		const {rows: shown, hidden} = problemRows(filtered, facts);
		expect(keys(sortRows(shown, 'status', facts))).toEqual(['a.test', 'k2', 'k3', 'd.test', 'k6']);
		expect(hidden).toBe(2);
	});
});
