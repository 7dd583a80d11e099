import {Box, Text} from 'ink';
import {bySeverity} from '../core/checks/index.js';
import {sanitize} from '../core/sanitize.js';
import {domainLabel} from '../core/text.js';
import type {Finding} from '../core/types.js';
import type {DomainState, GridRow, HostState, Snapshot} from './store.js';
import {duration, fit, policyCell, stageCell, totalWidth} from './format.js';
import type {Layout} from './grid-layout.js';
import {extraValue, hostName, layout, needsOf, policyNarrow} from './grid-layout.js';
import {rowHost} from './store.js';
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

function DomainRow({domain, hosts, findings, selected, width, theme}: {domain: DomainState; hosts: number; findings: Finding[]; selected: boolean; width: number; theme: Theme}) {
	// The MX hosts' own findings too: one with no address (dangling) has no host row.
	const worst = [...domain.findings, ...domain.mxFindings.flat(), ...findings].sort(bySeverity)[0];
	const status = domain.status ? domain.status.toUpperCase() : (domain.plan ? 'probing' : 'resolving');
	const changed = domain.changes.length > 0 ? ` ${theme.glyph.changed}` : '';
	const text = `${selected ? theme.glyph.select : ' '} ${sanitize(domainLabel(domain.domain, theme.ascii))}  ${status}  ${domain.plan?.mx.length ?? 0} MX, ${hosts} addr${worst ? `  ${worst.id}` : ''}${changed}`;
	// No-break spaces: Ink trims trailing spaces, and the highlight must span the row.
	return <Text bold inverse={selected} color={theme.color(toneOf(domain.status))} wrap="truncate">{fit(text, width - 1).replace(/ +$/, spaces => '\u00A0'.repeat(spaces.length))}</Text>;
}

function HostRow({row, host, domain, selected, width, widths, theme, frame}: {row: Extract<GridRow, {kind: 'host'}>; host: HostState; domain: DomainState | undefined; selected: boolean; width: number; widths: Layout; theme: Theme; frame: number}) {
	const policy = policyCell(host, domain, theme, frame, widths.policy === policyNarrow);
	// The preference only where there is room; the detail screen always shows it.
	const name = hostName(row, widths.host, widths.elide);
	const changed = host.changes.length > 0;
	const lead = selected ? theme.glyph.select : (changed ? theme.glyph.changed : ' ');
	const total = host.phase === 'done' ? duration(host.result?.ms) : '';
	return (
		<Box width={width}>
			<Text inverse={selected} wrap="truncate">{`${lead} ${cell(name, widths.host)}${cell(host.ip, widths.address)}`}</Text>
			{widths.columns.map(column => {
				const value = stageCell(host, column, theme, frame);
				return <Text key={column.id} inverse={selected} color={theme.color(value.tone)} wrap="truncate">{cell(value.text, column.width)}</Text>;
			})}
			<Text inverse={selected} color={theme.color(policy.tone)} wrap="truncate">{cell(policy.text, widths.policy)}</Text>
			{widths.total ? <Text inverse={selected} color={theme.color('muted')} wrap="truncate">{cell(total, totalWidth)}</Text> : null}
			{widths.extras.map(column => <Text key={column.id} inverse={selected} wrap="truncate">{cell(extraValue(host, column.id), column.width)}</Text>)}
		</Box>
	);
}

/** The live grid: only the rows that fit are rendered, with one spinner clock for all. */
export function Grid({snapshot, rows, selected, top, height, width, theme, frame}: GridProps) {
	const visible = rows.slice(top, top + height);
	// Measured over all rows, not the visible ones, so that columns stay put while scrolling.
	const widths = layout(width, needsOf(rows, snapshot.hosts));
	const domainOf = (name: string): DomainState | undefined => snapshot.domains.find(item => item.domain === name);
	const counts = new Map<string, number>();
	const findings = new Map<string, Finding[]>();
	for (const row of rows) {
		if (row.kind === 'host') {
			counts.set(row.domain, (counts.get(row.domain) ?? 0) + 1);
			const list = findings.get(row.domain) ?? [];
			const host = snapshot.hosts.get(row.key);
			list.push(...(host ? rowHost(host, domainOf(row.domain)).findings : []));
			findings.set(row.domain, list);
		}
	}

	return (
		<Box flexDirection="column" height={height + 1}>
			<Header widths={widths} theme={theme}/>
			{visible.map((row, index) => {
				const isSelected = top + index === selected;
				if (row.kind === 'domain') {
					const domain = snapshot.domains.find(item => item.domain === row.domain);
					return domain ? <DomainRow key={row.id} domain={domain} hosts={counts.get(row.domain) ?? 0} findings={findings.get(row.domain) ?? []} selected={isSelected} width={width} theme={theme}/> : null;
				}

				const host = snapshot.hosts.get(row.key);
				const domain = domainOf(row.domain);
				// The row's findings include its domain's policy findings (would-fail) for this address.
				return host ? <HostRow key={row.id} row={row} host={rowHost(host, domain)} domain={domain} selected={isSelected} width={width} widths={widths} theme={theme} frame={frame}/> : null;
			})}
		</Box>
	);
}
