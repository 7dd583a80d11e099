import {Box, Text} from 'ink';
import {bySeverity} from '../core/findings.js';
import {sanitize} from '../core/sanitize.js';
import type {Finding} from '../core/types.js';
import type {DomainState, GridRow, HostState, Snapshot} from './store.js';
import {duration, fit, stageCell, stageColumns, totalWidth} from './format.js';
import type {Theme} from './theme.js';
import {toneOf} from './theme.js';

export type GridProps = {snapshot: Snapshot; rows: GridRow[]; selected: number; top: number; height: number; width: number; theme: Theme; frame: number};

/** Widths of the host and address columns, from what is left after the stage cells. */
export function layout(width: number): {host: number; address: number} {
	const fixed = 2 + stageColumns.reduce((sum, column) => sum + column.width, 0) + totalWidth;
	const free = Math.max(20, width - fixed);
	const address = Math.min(16, Math.max(11, Math.floor(free / 2)));
	return {host: free - address, address};
}

/** A cell: its text cut to leave one column of space before the next. */
function cell(text: string, width: number): string {
	return `${fit(text, width - 1)} `;
}

function Header({width, theme}: {width: number; theme: Theme}) {
	const {host, address} = layout(width);
	const text = `  ${cell('MX host', host)}${cell('Address', address)}${stageColumns.map(column => cell(column.title, column.width)).join('')}${cell('Total', totalWidth)}`;
	return <Text bold color={theme.color('muted')} wrap="truncate">{text}</Text>;
}

function DomainRow({domain, hosts, findings, selected, width, theme}: {domain: DomainState; hosts: number; findings: Finding[]; selected: boolean; width: number; theme: Theme}) {
	const worst = [...domain.findings, ...findings].sort(bySeverity)[0];
	const status = domain.status ? domain.status.toUpperCase() : (domain.plan ? 'probing' : 'resolving');
	const changed = domain.changes.length > 0 ? ` ${theme.glyph.changed}` : '';
	const text = `${selected ? theme.glyph.select : ' '} ${sanitize(domain.domain)}  ${status}  ${domain.plan?.mx.length ?? 0} MX, ${hosts} addr${worst ? `  ${worst.id}` : ''}${changed}`;
	return <Text bold inverse={selected} color={theme.color(toneOf(domain.status))} wrap="truncate">{fit(text, width)}</Text>;
}

function HostRow({row, host, selected, width, theme, frame}: {row: Extract<GridRow, {kind: 'host'}>; host: HostState; selected: boolean; width: number; theme: Theme; frame: number}) {
	const widths = layout(width);
	// The preference only where there is room; the detail screen always shows it.
	const name = `${row.implicit || widths.host < 18 ? '' : `${row.preference} `}${sanitize(row.exchange)}`;
	const changed = host.changes.length > 0;
	const lead = selected ? theme.glyph.select : (changed ? theme.glyph.changed : ' ');
	const total = host.phase === 'done' ? duration(host.result?.ms) : '';
	return (
		<Box width={width}>
			<Text inverse={selected} wrap="truncate">{`${lead} ${cell(name, widths.host)}${cell(host.ip, widths.address)}`}</Text>
			{stageColumns.map(column => {
				const value = stageCell(host, column, theme, frame);
				return <Text key={column.id} inverse={selected} color={theme.color(value.tone)} wrap="truncate">{cell(value.text, column.width)}</Text>;
			})}
			<Text inverse={selected} color={theme.color('muted')} wrap="truncate">{cell(total, totalWidth)}</Text>
		</Box>
	);
}

/** The live grid: only the rows that fit are rendered, with one spinner clock for all. */
export function Grid({snapshot, rows, selected, top, height, width, theme, frame}: GridProps) {
	const visible = rows.slice(top, top + height);
	const counts = new Map<string, number>();
	const findings = new Map<string, Finding[]>();
	for (const row of rows) {
		if (row.kind === 'host') {
			counts.set(row.domain, (counts.get(row.domain) ?? 0) + 1);
			findings.set(row.domain, [...(findings.get(row.domain) ?? []), ...(snapshot.hosts.get(row.key)?.findings ?? [])]);
		}
	}

	return (
		<Box flexDirection="column" height={height + 1}>
			<Header width={width} theme={theme}/>
			{visible.map((row, index) => {
				const isSelected = top + index === selected;
				if (row.kind === 'domain') {
					const domain = snapshot.domains.find(item => item.domain === row.domain);
					return domain ? <DomainRow key={row.id} domain={domain} hosts={counts.get(row.domain) ?? 0} findings={findings.get(row.domain) ?? []} selected={isSelected} width={width} theme={theme}/> : null;
				}

				const host = snapshot.hosts.get(row.key);
				return host ? <HostRow key={row.id} row={row} host={host} selected={isSelected} width={width} theme={theme} frame={frame}/> : null;
			})}
		</Box>
	);
}
