import {sanitize} from '../core/sanitize.js';
import type {GridRow, HostState} from './store.js';
import type {ColumnId} from './format.js';
import {stageColumns, totalWidth} from './format.js';

type HostRow = Extract<GridRow, {kind: 'host'}>;

export type StageColumn = (typeof stageColumns)[number];

/** A column shown only where the terminal has room to spare for it. */
export type ExtraId = 'ptr' | 'software' | 'cipher' | 'days';

export type ExtraColumn = {id: ExtraId; title: string; width: number};

/**
 * `elide`: host names without their domain's suffix (the rows' whole names do not fit).
 * `policy`: the Policy column's width, never dropped (the headline): `policyWide` or, narrow, `policyNarrow`.
 */
export type Layout = {host: number; address: number; columns: StageColumn[]; total: boolean; extras: ExtraColumn[]; elide: boolean; policy: number};

/** The Policy column: `O S D` and a blocklist mark, or squeezed to `OSD` and the mark. */
export const policyWide = 8;
export const policyNarrow = 5;

/** How wide the rows' identity is: the longest host name, whole and elided, and the longest address. */
export type Needs = {host: number; fullHost: number; address: number; extras: Record<ExtraId, number>};

/** Without rows to measure: room for a 20-character name and an IPv4 address. */
export const defaultNeeds: Needs = {host: 21, fullHost: 21, address: 16, extras: {ptr: 0, software: 0, cipher: 0, days: 0}};

/**
 * The host as the grid names it: under its domain's header the domain suffix is implied
 * (`mx1.good.test` under `good.test` is `mx1`); a host elsewhere keeps its whole name.
 */
export function shortName(exchange: string, domain: string): string {
	const name = sanitize(exchange).replace(/\.$/, '');
	const suffix = `.${domain.toLowerCase().replace(/\.$/, '')}`;
	return name.toLowerCase().endsWith(suffix) && name.length > suffix.length ? name.slice(0, -suffix.length) : name;
}

/** The host cell's text: the preference too when `width` leaves room for it. */
export function hostName(row: HostRow, width: number, elide: boolean): string {
	const name = elide ? shortName(row.exchange, row.domain) : sanitize(row.exchange);
	const withPreference = row.implicit ? name : `${row.preference} ${name}`;
	return [...withPreference].length <= width - 1 ? withPreference : name;
}

export function extraValue(host: HostState, id: ExtraId): string {
	switch (id) {
		case 'ptr': {
			const ptr = host.ptr;
			return ptr ? sanitize(ptr.ptr ?? (ptr.error ? 'lookup failed' : 'none')) : '';
		}

		case 'software': {
			const software = host.result?.software;
			return software ? sanitize(`${software}${host.result?.softwareVersion ? ` ${host.result.softwareVersion}` : ''}`) : '';
		}

		case 'cipher': {
			return sanitize(host.tls?.cipher ?? '');
		}

		case 'days': {
			const days = host.tls?.chain[0]?.daysLeft;
			return days === undefined ? '' : `${days}d`;
		}
	}
}

const extraTitles: Record<ExtraId, string> = {ptr: 'PTR', software: 'Software', cipher: 'TLS cipher', days: 'Days left'};

/** Most room an extra column takes; a longer value is cut with a marker. */
const extraCaps: Record<ExtraId, number> = {ptr: 32, software: 24, cipher: 32, days: 10};

const extraIds = Object.keys(extraTitles) as ExtraId[];

/** One host row's needs, kept while its host is the same object (most rows, in most snapshots). */
const rowNeeds = new WeakMap<HostRow, {host: HostState; needs: Needs}>();

function needsOfRow(row: HostRow, host: HostState): Needs {
	const cached = rowNeeds.get(row);
	if (cached?.host === host) {
		return cached.needs;
	}

	const needs: Needs = {
		host: [...hostName(row, Number.POSITIVE_INFINITY, true)].length + 1,
		fullHost: [...hostName(row, Number.POSITIVE_INFINITY, false)].length + 1,
		address: host.ip.length + 1,
		extras: {ptr: 0, software: 0, cipher: 0, days: 0},
	};
	for (const id of extraIds) {
		const value = extraValue(host, id);
		if (value) {
			needs.extras[id] = Math.max(extraTitles[id].length + 1, Math.min(extraCaps[id], [...value].length + 1));
		}
	}

	rowNeeds.set(row, {host, needs});
	return needs;
}

/** The needs needsOf gave last, whatever the rows. */
let latest: Needs | undefined;

/** The last needs of a list of rows, and the hosts they were measured with. */
const listNeeds = new WeakMap<readonly GridRow[], {hosts: ReadonlyMap<string, HostState>; needs: Needs}>();

/**
 * The widths the grid's rows need (each cell leaves one column of space). The same object for
 * the same rows and hosts (a key press draws the same snapshot again); else a maximum over the
 * rows' own needs, each measured again only when its host changed.
 */
export function needsOf(rows: readonly GridRow[], hosts: ReadonlyMap<string, HostState>): Needs {
	const last = listNeeds.get(rows);
	if (last?.hosts === hosts) {
		return last.needs;
	}

	const needs: Needs = {host: 8, fullHost: 8, address: 8, extras: {ptr: 0, software: 0, cipher: 0, days: 0}};
	for (const row of rows) {
		const host = row.kind === 'host' ? hosts.get(row.key) : undefined;
		if (row.kind !== 'host' || !host) {
			continue;
		}

		const own = needsOfRow(row, host);
		needs.host = Math.max(needs.host, own.host);
		needs.fullHost = Math.max(needs.fullHost, own.fullHost);
		needs.address = Math.max(needs.address, own.address);
		for (const id of extraIds) {
			needs.extras[id] = Math.max(needs.extras[id], own.extras[id]);
		}
	}

	needs.host = Math.min(needs.host, 41);
	needs.fullHost = Math.min(needs.fullHost, 41);
	// Equal to the last: the last object, so that the layout (and the memoised rows) stay the same.
	const previous = last?.needs ?? latest;
	const same = previous && sameNeeds(previous, needs) ? previous : needs;
	listNeeds.set(rows, {hosts, needs: same});
	latest = same;
	return same;
}

function sameNeeds(a: Needs, b: Needs): boolean {
	return a.host === b.host && a.fullHost === b.fullHost && a.address === b.address && extraIds.every(id => a.extras[id] === b.extras[id]);
}

/** Narrow: the stage cells shrink first (their longest values cut), then whole columns go. */
const compact: Partial<Record<ColumnId, {width: number; title: string}>> = {connect: {width: 7, title: 'Conn.'}, banner: {width: 6, title: 'Bann.'}, ehlo: {width: 5, title: 'EHLO'}, cert: {width: 6, title: 'Cert'}};
const dropOrder: Array<ColumnId | 'total'> = ['total', 'ehlo', 'banner', 'connect'];
const minHost = 8;
/** The narrowest a cut PTR or cipher column gets. */
const minCut = 14;

/**
 * The columns for `width`: the rows' identity (host and whole address) first, the stage cells
 * with what is left, shrunk and then dropped when that is not enough; spare room goes to the
 * extra columns (PTR, software, TLS cipher, days left), never to a wider host column.
 */
export function layout(width: number, given: Needs = defaultNeeds): Layout {
	let columns: StageColumn[] = stageColumns;
	let total = true;
	let policy = policyWide;
	const lead = 2;
	const stages = (): number => columns.reduce((sum, column) => sum + column.width, 0) + (total ? totalWidth : 0) + policy;
	const room = (): number => width - lead - given.address - stages();
	// Whole names where they fit beside every stage cell; else the domain header says the rest.
	const elide = room() < given.fullHost;
	const needs = elide ? given : {...given, host: given.fullHost};
	// The Policy column squeezes first (its glyphs lose their spaces), then the stage cells.
	if (room() < needs.host) {
		policy = policyNarrow;
	}

	if (room() < needs.host) {
		columns = columns.map(column => ({...column, ...compact[column.id]}));
	}

	// The total goes before the host is cut; a stage column only for a host column under 16.
	for (const id of dropOrder) {
		if (room() >= (id === 'total' ? needs.host : Math.min(needs.host, 16))) {
			break;
		}

		if (id === 'total') {
			total = false;
		} else {
			columns = columns.filter(column => column.id !== id);
		}
	}

	const host = Math.max(minHost, Math.min(needs.host, room()));
	let spare = room() - host;
	const extras: ExtraColumn[] = [];
	for (const id of ['ptr', 'software', 'cipher', 'days'] as const) {
		// A long PTR or cipher is worth seeing cut (with a marker) rather than not at all.
		const extraWidth = id === 'ptr' || id === 'cipher' ? Math.min(needs.extras[id], Math.max(spare, minCut)) : needs.extras[id];
		if (extraWidth > 0 && extraWidth <= spare) {
			extras.push({id, title: extraTitles[id], width: extraWidth});
			spare -= extraWidth;
		}
	}

	return {host, address: needs.address, columns, total, extras, elide, policy};
}
