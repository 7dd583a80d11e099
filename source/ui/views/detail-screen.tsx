import {Table} from '@alcalzone/ink-table';
import {Box, Text} from 'ink';
import Spinner from 'ink-spinner';
import type {ReactNode} from 'react';
import {sanitize} from '../../core/sanitize.js';
import {domainLabel} from '../../core/text.js';
import {fit} from '../format.js';
import type {ExtensionRow} from '../frame.js';
import type {SearchView} from '../pane-search.js';
import type {Line} from '../panes.js';
import {paneNames} from '../panes.js';
import type {GridRow, HostState} from '../store.js';
import type {Theme} from '../theme.js';
import {toneOf} from '../theme.js';
import {Lines} from './lines.js';
import {spinnerType} from './spinner-type.js';

export type DetailScreenProps = {
	row: Extract<GridRow, {kind: 'host'}>;
	host: HostState | undefined;
	pane: number;
	lines: Line[];
	paneTop: number;
	extensions: ExtensionRow[];
	/** The extensions as a table beside the text, `tableWidth` wide (frame.ts: only when it fits whole). */
	sideBySide: boolean;
	paneWidth: number;
	tableWidth: number;
	bodyHeight: number;
	width: number;
	theme: Theme;
	/** The pane search's matches, while there is a search. */
	search?: SearchView;
};

/** ink-table's headings are blue by default, which NO_COLOR must drop: bold carries them. */
function TableHeading({children}: {children?: ReactNode}) {
	return <Text bold>{children}</Text>;
}

/** One host: a title line, the pane tabs, and the open pane scrolled to `paneTop`. */
export function DetailScreen({row, host, pane, lines, paneTop, extensions, sideBySide, paneWidth, tableWidth, bodyHeight, width, theme, search}: DetailScreenProps) {
	const tabs = paneNames.map((name, index) => (index === pane ? `[${index + 1} ${name}]` : ` ${index + 1} ${name} `)).join(' ');
	const title = ` ${sanitize(row.exchange)} [${host?.ip ?? ''}]${host && host.port !== 25 ? `:${host.port}` : ''}  ${sanitize(domainLabel(row.domain, theme.ascii))}  ${host?.status?.toUpperCase() ?? host?.phase ?? ''}${host?.scanning ? '  scanning TLS versions' : ''}`;
	// Still being probed (or scanned): a spinner after the title, the title cut to leave it room.
	const probing = host?.phase === 'queued' || host?.phase === 'probing' || host?.scanning === true;
	const text = <Lines lines={lines} top={paneTop} height={bodyHeight - 1} width={sideBySide ? paneWidth : width} theme={theme} {...(search ? {search} : {})}/>;
	return (
		<Box flexDirection="column" height={bodyHeight + 1}>
			<Text bold color={theme.color(toneOf(host?.status))} wrap="truncate">
				{probing ? <>{fit(title, width - 2).trimEnd()} <Spinner type={spinnerType(theme)}/></> : fit(title, width)}
			</Text>
			<Box flexDirection="column" height={bodyHeight}>
				<Text wrap="truncate">{fit(tabs, width)}</Text>
				{sideBySide
					? (
						<Box>
							{text}
							<Box flexDirection="column" width={tableWidth} flexShrink={0} paddingLeft={1}>
								<Table data={extensions} header={TableHeading}/>
							</Box>
						</Box>
					)
					: text}
			</Box>
		</Box>
	);
}
