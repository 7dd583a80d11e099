import {Box, Text} from 'ink';
import {memo} from 'react';
import {bySeverity} from '../core/checks/index.js';
import {sanitize} from '../core/sanitize.js';
import {domainLabel} from '../core/text.js';
import type {Finding} from '../core/types.js';
import type {DomainState, GridRow, HostState, Snapshot} from './store.js';
import {duration, fit, policyCell, stageCell, totalWidth} from './format.js';
import {GlyphText} from './glyph-text.js';
import type {Layout, Needs} from './grid-layout.js';
import {extraValue, hostName, layout, needsOf, policyNarrow} from './grid-layout.js';
import {domainOf, rowHost} from './store.js';
import type {Theme} from './theme.js';
import {toneOf} from './theme.js';

export type GridProps = {snapshot: Snapshot; rows: GridRow[]; selected: number; top: number; height: number; width: number; theme: Theme; frame: number};

/** A cell: its text cut to leave one column of space before the next. */
function cell(text: string, width: number): string {
	return `${fit(text, width - 1)} `;
}

function Header({widths, theme}: {widths: Layout; theme: Theme}) {
	const {host, address, columns, total, extras, policy} = widths;
	const text = `  ${cell('MX host', host)}${cell('Address', address)}${columns.map(column => cell(column.title, column.width)).join('')}${cell(policy === policyNarrow ? 'OSD' : 'O S D', policy)}${total ? cell('Total', totalWidth) : ''}${extras.map(column => cell(column.title, column.width)).join('')}`;
	return <Text bold color={theme.color('muted')} wrap="truncate">{text}</Text>;
}

type HostGridRow = Extract<GridRow, {kind: 'host'}>;

type Cell = {text: string; color: string | undefined};

/**
 * Adjacent cells of one colour as one text: what Ink draws is the same, with a third of the
 * text nodes to lay out, measure and write at each frame (a done row is mostly green).
 */
function runs(cells: readonly Cell[]): Cell[] {
	const merged: Cell[] = [];
	for (const item of cells) {
		const last = merged.at(-1);
		if (last && last.color === item.color) {
			last.text += item.text;
		} else {
			merged.push({...item});
		}
	}

	return merged;
}

// Rows are memoised: a frame re-renders only the rows whose host, domain or selection changed
// (a spinning row at each step).
const DomainRow = memo(function DomainRow({domain, hosts, worst, selected, width, theme}: {domain: DomainState; hosts: number; worst: Finding | undefined; selected: boolean; width: number; theme: Theme}) {
	const status = domain.status ? domain.status.toUpperCase() : (domain.plan ? 'probing' : 'resolving');
	const changed = domain.changes.length > 0 ? ` ${theme.glyph.changed}` : '';
	const text = `${selected ? theme.glyph.select : ' '} ${sanitize(domainLabel(domain.domain, theme.ascii))}  ${status}  ${domain.plan?.mx.length ?? 0} MX, ${hosts} addr${worst ? `  ${worst.id}` : ''}${changed}`;
	// No-break spaces: Ink trims trailing spaces, and the highlight must span the row. Only the
	// highlight needs them: elsewhere they are unseen, and they would cost Ink's width measure
	// its slow path (not ASCII) on the row's whole length at every frame.
	const shown = fit(text, width - 1);
	return <Text bold inverse={selected} color={theme.color(toneOf(domain.status))} wrap="truncate">{selected ? shown.replace(/ +$/, spaces => '\u00A0'.repeat(spaces.length)) : shown.trimEnd()}</Text>;
});

const HostRow = memo(function HostRow({row, host, domain, selected, width, widths, theme, frame}: {row: HostGridRow; host: HostState; domain: DomainState | undefined; selected: boolean; width: number; widths: Layout; theme: Theme; frame: number}) {
	const policy = policyCell(host, domain, theme, frame, widths.policy === policyNarrow);
	// The preference only where there is room; the detail screen always shows it.
	const name = hostName(row, widths.host, widths.elide);
	const changed = host.changes.length > 0;
	const lead = selected ? theme.glyph.select : (changed ? theme.glyph.changed : ' ');
	const total = host.phase === 'done' ? duration(host.result?.ms) : '';
	const muted = theme.color('muted');
	const cells: Cell[] = [
		{text: `${lead} ${cell(name, widths.host)}${cell(host.ip, widths.address)}`, color: undefined},
		...widths.columns.map(column => {
			const value = stageCell(host, column, theme, frame);
			return {text: cell(value.text, column.width), color: theme.color(value.tone)};
		}),
		{text: cell(policy.text, widths.policy), color: theme.color(policy.tone)},
		...(widths.total ? [{text: cell(total, totalWidth), color: muted}] : []),
		...widths.extras.map(column => ({text: cell(extraValue(host, column.id), column.width), color: undefined})),
	];
	return (
		<Box width={width}>
			{runs(cells).map((run, index) => <GlyphText key={index} text={run.text} color={run.color} inverse={selected} theme={theme}/>)}
		</Box>
	);
});

/** Whether the row shows a spinner (its cells read the clock): the others need no frame at each step. */
function spins(host: HostState): boolean {
	return host.phase !== 'done' || host.scanning === true || Object.values(host.stages).some(stage => stage.state === 'running');
}

const hostRowsOf = new WeakMap<readonly GridRow[], Map<string, HostGridRow[]>>();

/** Each domain's host rows among `rows`, worked out once per list of rows. */
function hostRowsByDomain(rows: readonly GridRow[]): Map<string, HostGridRow[]> {
	let byDomain = hostRowsOf.get(rows);
	if (!byDomain) {
		byDomain = new Map();
		for (const row of rows) {
			if (row.kind === 'host') {
				const list = byDomain.get(row.domain);
				if (list) {
					list.push(row);
				} else {
					byDomain.set(row.domain, [row]);
				}
			}
		}

		hostRowsOf.set(rows, byDomain);
	}

	return byDomain;
}

const layouts = new WeakMap<Needs, Map<number, Layout>>();

/** The same Layout object while the needs and the width hold, so that memoised rows stay so. */
function layoutOf(width: number, needs: Needs): Layout {
	let byWidth = layouts.get(needs);
	if (!byWidth) {
		byWidth = new Map();
		layouts.set(needs, byWidth);
	}

	let widths = byWidth.get(width);
	if (!widths) {
		widths = layout(width, needs);
		byWidth.set(width, widths);
	}

	return widths;
}

/**
 * The live grid: only the rows that fit are rendered, with one spinner clock for all. A frame
 * costs the visible rows: what it needs of the others (the columns' widths, each domain's hosts)
 * is worked out once per snapshot.
 */
export function Grid({snapshot, rows, selected, top, height, width, theme, frame}: GridProps) {
	const visible = rows.slice(top, top + height);
	// Measured over all rows, not the visible ones, so that columns stay put while scrolling.
	const widths = layoutOf(width, needsOf(rows, snapshot.hosts));
	const hostRows = hostRowsByDomain(rows);
	// A domain row's worst finding: its own, its MX hosts' (one with no address, dangling, has no
	// host row) and its hosts' rows'.
	const worstOf = (name: string, domain: DomainState): Finding | undefined => [
		...domain.findings,
		...domain.mxFindings.flat(),
		...(hostRows.get(name) ?? []).flatMap(row => {
			const host = snapshot.hosts.get(row.key);
			return host ? rowHost(host, domain).findings : [];
		}),
	].sort(bySeverity)[0];

	return (
		<Box flexDirection="column" height={height + 1}>
			<Header widths={widths} theme={theme}/>
			{visible.map((row, index) => {
				const isSelected = top + index === selected;
				if (row.kind === 'domain') {
					const domain = domainOf(snapshot, row.domain);
					return domain ? <DomainRow key={row.id} domain={domain} hosts={hostRows.get(row.domain)?.length ?? 0} worst={worstOf(row.domain, domain)} selected={isSelected} width={width} theme={theme}/> : null;
				}

				const host = snapshot.hosts.get(row.key);
				const domain = domainOf(snapshot, row.domain);
				// The row's findings include its domain's policy findings (would-fail) for this address.
				return host ? <HostRow key={row.id} row={row} host={rowHost(host, domain)} domain={domain} selected={isSelected} width={width} widths={widths} theme={theme} frame={spins(host) ? frame : 0}/> : null;
			})}
		</Box>
	);
}
