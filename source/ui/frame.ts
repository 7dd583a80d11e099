import type {DashboardState, View} from './dashboard-state.js';
import {gridTop, selectedIndex} from './dashboard-state.js';
import {helpLines} from './help.js';
import type {Line, PaneName} from './panes.js';
import {certificateLines, domainLines, extensionRows, findingLines, paneNames, summaryLines, transcriptLines} from './panes.js';
import {domainPolicyLines, policyLines} from './policy-pane.js';
import type {SearchView} from './pane-search.js';
import {searchView} from './pane-search.js';
import {problemRows, snapshotFacts, sortRows} from './row-order.js';
import type {DomainState, GridRow, HostState, Snapshot} from './store.js';
import {domainOf, rowHost} from './store.js';
import type {Theme} from './theme.js';

export type Size = {columns: number; rows: number};

export type ExtensionRow = ReturnType<typeof extensionRows>[number];

type HostRow = Extract<GridRow, {kind: 'host'}>;

/** Everything a frame shows, worked out from the store's snapshot and the dashboard's state. */
export type Frame = {
	width: number;
	/** Rows between the status bar and the footer, less the grid's header. */
	bodyHeight: number;
	rows: GridRow[];
	/** Hosts left out by problems only (after the filter). */
	hidden: number;
	selected: number;
	top: number;
	/** The selected host row, when the selection is on one. */
	detailRow?: HostRow;
	/** Its host, on the detail screen. */
	detailHost?: HostState;
	/** The selected domain row's domain, on the detail screen: the domain screen. */
	detailDomain?: DomainState;
	/** The open pane's lines, on the detail screen. */
	lines: Line[];
	extensions: ExtensionRow[];
	/** Wide Summary: the EHLO extensions as a table beside the text. */
	sideBySide: boolean;
	paneWidth: number;
	/** The table's width beside the text (0 when the extensions are in the text). */
	tableWidth: number;
	/** The pane search's matches among `lines`, while there is a search. */
	search?: SearchView;
	view: View;
};

/** The narrowest the Summary text may get to leave room for the table beside it. */
const minTextWidth = 50;

/**
 * The size ink-table draws `rows` at: each column its longest value plus one space either side,
 * a border between and around; a line above and below, the heading, and a separator above
 * every row. Worked out here so that the table is shown only where it fits whole: cut by its
 * box it wraps (a lost left border, stray lines) and pushes the frame past the terminal.
 */
export function tableSize(rows: readonly ExtensionRow[]): {width: number; height: number} {
	const keys = ['Extension', 'Before TLS', 'After TLS'] as const;
	const widths = keys.map(key => Math.max(key.length, ...rows.map(row => [...row[key]].length)) + 2);
	return {width: widths.reduce((sum, value) => sum + value, 0) + keys.length + 1, height: 3 + (2 * rows.length)};
}

function filterRows(rows: GridRow[], snapshot: Snapshot, filter: string): GridRow[] {
	if (!filter) {
		return rows;
	}

	const needle = filter.toLowerCase();
	const matches = (row: GridRow): boolean => row.domain.includes(needle)
		|| (row.kind === 'host' && (row.exchange.toLowerCase().includes(needle) || (snapshot.hosts.get(row.key)?.ip ?? '').includes(needle)));
	const domains = new Set(rows.filter(row => matches(row)).map(row => row.domain));
	return rows.filter(row => domains.has(row.domain) && (row.kind === 'domain' || matches(row) || row.domain.includes(needle)));
}

function paneLines(pane: PaneName, snapshot: Snapshot, key: string, domain: string, width: number, theme: Theme): Line[] {
	const probed = snapshot.hosts.get(key);
	if (!probed) {
		return [{text: 'This host is no longer probed.', tone: 'muted'}];
	}

	const domainState = domainOf(snapshot, domain);
	// As its domain's row shows it: with that domain's policy findings for the address.
	const host = rowHost(probed, domainState);
	switch (pane) {
		case 'Summary': {
			return summaryLines(host, domainState, width, theme);
		}

		case 'Transcript': {
			return transcriptLines(host, width, theme);
		}

		case 'Certificates': {
			return certificateLines(host, width, theme);
		}

		case 'Findings': {
			return findingLines([...host.findings, ...(domainState?.findings ?? []), ...snapshot.runFindings], width, theme);
		}

		case 'Policy': {
			const mxPolicy = snapshot.mxPolicies.get(host.exchange);
			return policyLines(host, domainState, {...(mxPolicy ? {mxPolicy} : {}), ...(snapshot.validation ? {validation: snapshot.validation} : {})}, width, theme);
		}
	}
}

type ShownRows = {rows: GridRow[]; hidden: number};

/** The shown rows of a snapshot, by what chose them: a key that moves the selection reuses them. */
const shownRows = new WeakMap<Snapshot, Map<string, ShownRows>>();

/** The rows after the filter, problems only and the order: worked out once per snapshot and choice. */
function rowsOf(snapshot: Snapshot, state: DashboardState): ShownRows {
	const keep = state.problemsOnly && state.screen === 'detail' ? state.selectedId : undefined;
	const choice = JSON.stringify([state.filter, state.problemsOnly, state.sort, keep]);
	let bySnapshot = shownRows.get(snapshot);
	const cached = bySnapshot?.get(choice);
	if (cached) {
		return cached;
	}

	const facts = snapshotFacts(snapshot);
	const filtered = filterRows(snapshot.rows, snapshot, state.filter);
	const {rows: problems, hidden} = state.problemsOnly ? problemRows(filtered, facts, keep) : {rows: filtered, hidden: 0};
	const shown = {rows: sortRows(problems, state.sort, facts), hidden};
	bySnapshot ??= new Map();
	bySnapshot.set(choice, shown);
	shownRows.set(snapshot, bySnapshot);
	return shown;
}

const helpCounts = new WeakMap<Theme, number>();

/** The help's length, for the reducer: the same for a theme, so worked out once. */
function helpCount(theme: Theme): number {
	let count = helpCounts.get(theme);
	if (count === undefined) {
		count = helpLines(theme).length;
		helpCounts.set(theme, count);
	}

	return count;
}

export function frameOf(snapshot: Snapshot, state: DashboardState, size: Size, theme: Theme): Frame {
	const {screen, pane} = state;
	// Keep the frame shorter than the terminal: Ink 6 clears the whole screen otherwise.
	const width = Math.max(40, size.columns);
	const bodyHeight = Math.max(3, size.rows - 4);
	const {rows, hidden} = rowsOf(snapshot, state);
	const selected = selectedIndex(state, rows);
	const top = gridTop(state, rows.length, selected, bodyHeight);
	const selectedRow = rows[selected];
	const detailRow = selectedRow?.kind === 'host' ? selectedRow : undefined;
	const paneName = paneNames[pane] ?? 'Summary';
	const probed = screen === 'detail' && detailRow ? snapshot.hosts.get(detailRow.key) : undefined;
	const detailHost = probed ? rowHost(probed, domainOf(snapshot, detailRow!.domain)) : undefined;
	const extensions = paneName === 'Summary' && detailHost ? extensionRows(detailHost) : [];
	// Beside the text only when the whole table fits below the tabs; else its rows scroll with the text.
	const table = tableSize(extensions);
	const sideBySide = width >= 100 && extensions.length > 0 && width - table.width - 1 >= minTextWidth && table.height <= bodyHeight - 1;
	// One column of space between the text and the table.
	const tableWidth = sideBySide ? table.width + 1 : 0;
	const paneWidth = width - tableWidth;
	const detailDomain = screen === 'detail' && selectedRow?.kind === 'domain' ? domainOf(snapshot, selectedRow.domain) : undefined;
	const lines = detailDomain ? [...domainLines(detailDomain, width, theme), {text: ''}, ...domainPolicyLines(detailDomain, width, theme)] : (screen === 'detail' && detailRow ? [
		...paneLines(paneName, snapshot, detailRow.key, detailRow.domain, paneWidth, theme),
		// Narrow or too many: the extensions go into the scrolling text; else a table beside it.
		...(extensions.length > 0 && !sideBySide ? [{text: 'EHLO extensions (before TLS / after TLS)', bold: true}, ...extensions.map(row => ({text: `${row.Extension.padEnd(20)} ${row['Before TLS'].padEnd(14)} ${row['After TLS']}`}))] : []),
	] : []);
	const paneText = lines.map(line => line.text);
	const search = screen === 'detail' ? searchView(state.search, paneText) : undefined;
	return {
		width, bodyHeight, rows, hidden, selected, top, lines, extensions, sideBySide, paneWidth, tableWidth,
		...(detailRow ? {detailRow} : {}),
		...(detailHost ? {detailHost} : {}),
		...(detailDomain ? {detailDomain} : {}),
		...(search ? {search} : {}),
		view: {rows, bodyHeight, paneLines: lines.length, helpLines: helpCount(theme), paneText},
	};
}
