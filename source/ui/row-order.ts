import type {Status} from '../core/run/knowledge.js';
import type {GridRow, Snapshot} from './store.js';
import {domainOf, rowHost} from './store.js';

/**
 * The grid's order, pure: hosts are sorted within their domain, so every domain keeps its
 * header row above its hosts; only the status order moves the domains too (worst first).
 * Ties keep the configured order (the sort is stable).
 */

export const sortOrders = ['configured', 'status', 'cert', 'time', 'name'] as const;

export type SortOrder = (typeof sortOrders)[number];

/** How each order is named where the grid says which one it is in. */
export const sortLabels: Record<SortOrder, string> = {configured: 'as configured', status: 'status', cert: 'cert days', time: 'total time', name: 'host name'};

export function nextSort(order: SortOrder): SortOrder {
	return sortOrders[(sortOrders.indexOf(order) + 1) % sortOrders.length]!;
}

/** The facts of a host that the orders look at. */
export type HostFacts = {status?: Status | undefined; daysLeft?: number | undefined; ms?: number | undefined};

export type OrderFacts = {
	/** With its domain: a host as that domain's row shows it (its policy findings for the address). */
	host: (key: string, domain?: string) => HostFacts | undefined;
	domainStatus: (domain: string) => Status | undefined;
};

/** Worst first; a host not judged yet goes after the judged ones, as nothing is known of it. */
const statusRank: Record<Status, number> = {critical: 0, warning: 1, unknown: 2, ok: 3};

function rank(status: Status | undefined): number {
	return status === undefined ? 4 : statusRank[status];
}

type HostRow = Extract<GridRow, {kind: 'host'}>;

/** A missing value sorts last in every order. */
function compareMissingLast(a: number | undefined, b: number | undefined): number {
	if (a === undefined || b === undefined) {
		return (a === undefined ? 1 : 0) - (b === undefined ? 1 : 0);
	}

	return a - b;
}

function hostComparator(order: SortOrder, facts: OrderFacts): ((a: HostRow, b: HostRow) => number) | undefined {
	switch (order) {
		case 'configured': {
			return undefined;
		}

		case 'status': {
			return (a, b) => rank(facts.host(a.key, a.domain)?.status) - rank(facts.host(b.key, b.domain)?.status);
		}

		case 'cert': {
			return (a, b) => compareMissingLast(facts.host(a.key, a.domain)?.daysLeft, facts.host(b.key, b.domain)?.daysLeft);
		}

		case 'time': {
			// Slowest first: the negated time, ascending.
			const negated = (row: HostRow): number | undefined => {
				const ms = facts.host(row.key, row.domain)?.ms;
				return ms === undefined ? undefined : -ms;
			};

			return (a, b) => compareMissingLast(negated(a), negated(b));
		}

		case 'name': {
			return (a, b) => a.exchange.toLowerCase().localeCompare(b.exchange.toLowerCase()) || a.key.localeCompare(b.key);
		}
	}
}

/** The rows in `order`, each domain's header first and its hosts after it. */
export function sortRows(rows: GridRow[], order: SortOrder, facts: OrderFacts): GridRow[] {
	const compare = hostComparator(order, facts);
	if (!compare) {
		// The very rows: as configured costs nothing.
		return rows;
	}

	// Rows as groups: a domain's header row and its host rows, in the order they came.
	const groups = new Map<string, {header?: GridRow; hosts: HostRow[]}>();
	for (const row of rows) {
		const group = groups.get(row.domain) ?? {hosts: []};
		if (row.kind === 'domain') {
			group.header = row;
		} else {
			group.hosts.push(row);
		}

		groups.set(row.domain, group);
	}

	const list = [...groups.entries()];
	if (order === 'status') {
		const worstOf = ([domain, group]: (typeof list)[number]): number => Math.min(rank(facts.domainStatus(domain)), ...group.hosts.map(row => rank(facts.host(row.key, row.domain)?.status)));
		list.sort((a, b) => worstOf(a) - worstOf(b));
	}

	return list.flatMap(([, group]) => [...(group.header ? [group.header] : []), ...group.hosts.sort(compare)]);
}

/**
 * Problems only: the rows less the hosts whose status is ok, and less the domains left with
 * no host that are ok themselves (a domain with a finding of its own, or with nothing to
 * probe, stays). A host not judged yet stays: it is not known to be ok. The row `keep` (the
 * one open on the detail screen) stays too, so that a host that turns ok while it is open
 * does not swap the screen to another. `hidden` counts the hosts left out.
 */
export function problemRows(rows: GridRow[], facts: OrderFacts, keep?: string): {rows: GridRow[]; hidden: number} {
	const shown = rows.filter(row => row.kind === 'domain' || row.id === keep || facts.host(row.key, row.domain)?.status !== 'ok');
	const withHosts = new Set(shown.flatMap(row => (row.kind === 'host' ? [row.domain] : [])));
	const kept = shown.filter(row => row.kind === 'host' || row.id === keep || withHosts.has(row.domain) || facts.domainStatus(row.domain) !== 'ok');
	return {rows: kept, hidden: rows.length - shown.length};
}

/** The facts of the snapshot, for the orders. */
export function snapshotFacts(snapshot: Pick<Snapshot, 'hosts' | 'domains'>): OrderFacts {
	return {
		host(key, domain) {
			const probed = snapshot.hosts.get(key);
			const host = probed && domain ? rowHost(probed, domainOf(snapshot, domain)) : probed;
			return host ? {status: host.status, daysLeft: host.tls?.chain[0]?.daysLeft, ms: host.result?.ms} : undefined;
		},
		domainStatus: domain => domainOf(snapshot, domain)?.status,
	};
}
