import {Box, Text, useApp, useInput, useStdout} from 'ink';
import type {Key} from 'ink';
import {Table} from '@alcalzone/ink-table';
import {useEffect, useRef, useState, useSyncExternalStore} from 'react';
import {sanitize} from '../core/sanitize.js';
import {Grid} from './grid.js';
import {actionFor, hints, keymap} from './keymap.js';
import type {Action, Screen} from './keymap.js';
import type {Line, PaneName} from './panes.js';
import {certificateLines, extensionRows, findingLines, paneNames, summaryLines, transcriptLines} from './panes.js';
import type {GridRow, Snapshot, Store} from './store.js';
import {fit} from './format.js';
import type {Theme} from './theme.js';
import {toneOf} from './theme.js';

/** What the dashboard can ask of the engine; the UI itself never probes or diagnoses. */
export type Controller = {
	/** Re-probe these probe keys now. */
	reprobe(keys: string[]): void;
	reprobeAll(): void;
	/** Returns an error message, or undefined when the domain was added. */
	addDomain(input: string): string | undefined;
	removeDomain(domain: string): void;
	quit(): void;
};

export type AppProps = {store: Store; controller: Controller; theme: Theme};

type Overlay = {kind: 'none'} | {kind: 'help'; top: number} | {kind: 'add'; text: string; error?: string} | {kind: 'filter'; text: string} | {kind: 'remove'; domain: string};

function useTerminalSize(): {columns: number; rows: number} {
	const {stdout} = useStdout();
	const read = () => ({columns: stdout.columns || 80, rows: stdout.rows || 24});
	const [size, setSize] = useState(read);
	useEffect(() => {
		const onResize = (): void => {
			setSize(read());
		};

		stdout.on('resize', onResize);
		return () => {
			stdout.off('resize', onResize);
		};
	}, [stdout]);
	return size;
}

/**
 * State whose latest value handlers can read before the next frame: keys arrive faster than
 * frames (renders are throttled), so a key must build on the previous key, not the last frame.
 */
function useLive<T>(initial: T): [T, (next: T) => void, () => T] {
	const [value, setValue] = useState(initial);
	const ref = useRef(value);
	ref.current = value;
	const set = (next: T): void => {
		ref.current = next;
		setValue(next);
	};

	return [value, set, () => ref.current];
}

/** One clock for every spinner and the countdown: fast while probing, slow when idle. */
function useClock(running: boolean): number {
	const [tick, setTick] = useState(0);
	useEffect(() => {
		const timer = setInterval(() => {
			setTick(value => value + 1);
		}, running ? 120 : 1000);
		return () => {
			clearInterval(timer);
		};
	}, [running]);
	return tick;
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

function StatusBar({snapshot, width, theme, tick, frame}: {snapshot: Snapshot; width: number; theme: Theme; tick: number; frame: number}) {
	void tick;
	const hosts = [...snapshot.hosts.values()];
	const done = hosts.filter(host => host.phase === 'done').length;
	const {round, counts} = snapshot;
	const progress = round.running ? `${theme.spinner[frame % theme.spinner.length]} probing ${done}/${hosts.length}` : `${hosts.length} addresses`;
	const last = round.finishedAt ? `last ${round.finishedAt.slice(11, 19)}Z` : 'first round';
	const next = round.nextAt && !round.running ? `  next in ${Math.max(0, Math.ceil((round.nextAt - Date.now()) / 1000))}s` : '';
	const text = ` mxdash  ${snapshot.domains.length} domains  ${progress}  ${theme.glyph.critical}${counts.critical} ${theme.glyph.warning}${counts.warning} ${theme.glyph.info}${counts.info}  ${last}${next}${round.error ? `  error: ${round.error}` : ''}`;
	return <Text inverse wrap="truncate">{fit(text, width)}</Text>;
}

function HintBar({screen, width, extra, theme}: {screen: Screen; width: number; extra: string; theme: Theme}) {
	const text = ` ${hints(screen)}`;
	const room = Math.max(0, width - extra.length - 2);
	return <Text color={theme.color('muted')} wrap="truncate">{fit(text, room)} {extra} </Text>;
}

function Lines({lines, top, height, width, theme}: {lines: Line[]; top: number; height: number; width: number; theme: Theme}) {
	return (
		<Box flexDirection="column" height={height}>
			{lines.slice(top, top + height).map((line, index) => (
				<Text key={index} bold={line.bold} color={line.tone ? theme.color(line.tone) : undefined} wrap="truncate">{fit(line.text, width)}</Text>
			))}
		</Box>
	);
}

const helpLines: Line[] = [{text: 'Keys (↑↓ scroll, any other key closes)', bold: true}, ...keymap.map(binding => ({text: `  ${binding.keys.padEnd(12)} ${binding.description}`}))];

function paneLines(pane: PaneName, snapshot: Snapshot, key: string, domain: string, width: number, theme: Theme): Line[] {
	const host = snapshot.hosts.get(key);
	if (!host) {
		return [{text: 'This host is no longer probed.', tone: 'muted'}];
	}

	const domainState = snapshot.domains.find(item => item.domain === domain);
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
	}
}

export function App({store, controller, theme}: AppProps) {
	const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
	const {columns, rows: terminalRows} = useTerminalSize();
	const {exit} = useApp();
	const [screen, setScreen, currentScreen] = useLive<Screen>('grid');
	const [overlay, setOverlay, currentOverlay] = useLive<Overlay>({kind: 'none'});
	const [selectedId, setSelectedId] = useState<string | undefined>(undefined);
	const [selectedIndex, setSelectedIndex] = useState(0);
	const [gridTop, setGridTop] = useState(0);
	const [pane, setPane, currentPane] = useLive(0);
	const [paneTop, setPaneTop] = useState(0);
	const [filter, setFilter] = useState('');
	const tick = useClock(snapshot.round.running);

	// Keep the frame shorter than the terminal: Ink 6 clears the whole screen otherwise.
	const width = Math.max(40, columns);
	const bodyHeight = Math.max(3, terminalRows - 4);
	const rows = filterRows(snapshot.rows, snapshot, filter);
	// The selection follows its row (by id) while rows come and go.
	const found = selectedId === undefined ? -1 : rows.findIndex(row => row.id === selectedId);
	const selected = rows.length === 0 ? 0 : Math.min(found === -1 ? selectedIndex : found, rows.length - 1);
	const selectedRow = rows[selected];
	const rowAt = (index: number) => rows[index];
	const top = Math.min(Math.max(0, selected - bodyHeight + 1, Math.min(gridTop, selected)), Math.max(0, rows.length - 1));
	const detailRow = selectedRow?.kind === 'host' ? selectedRow : undefined;
	const sideBySide = width >= 100 && paneNames[pane] === 'Summary';
	const tableWidth = 44;
	const paneWidth = sideBySide ? width - tableWidth : width;
	const detailHost = screen === 'detail' && detailRow ? snapshot.hosts.get(detailRow.key) : undefined;
	const extensions = paneNames[pane] === 'Summary' && detailHost ? extensionRows(detailHost) : [];
	const lines = screen === 'detail' && detailRow ? [
		...paneLines(paneNames[pane]!, snapshot, detailRow.key, detailRow.domain, paneWidth, theme),
		// Narrow: the extensions go into the scrolling text; wide: a table beside it.
		...(extensions.length > 0 && !sideBySide ? [{text: 'EHLO extensions (before TLS / after TLS)', bold: true}, ...extensions.map(row => ({text: `${row.Extension.padEnd(20)} ${row['Before TLS'].padEnd(14)} ${row['After TLS']}`}))] : []),
	] : [];
	const maxPaneTop = Math.max(0, lines.length - (bodyHeight - 1));
	// Keys can arrive faster than frames (renders are throttled): moves build on the latest
	// position, not on the one the last frame showed.
	const live = useRef({selected, paneTop});
	live.current = {selected, paneTop};

	const select = (index: number): void => {
		const clamped = Math.max(0, Math.min(index, rows.length - 1));
		live.current.selected = clamped;
		setSelectedIndex(clamped);
		setSelectedId(rows[clamped]?.id);
		setGridTop(current => (clamped < current ? clamped : (clamped >= current + bodyHeight ? clamped - bodyHeight + 1 : current)));
	};

	const scroll = (to: number): void => {
		live.current.paneTop = Math.max(0, Math.min(to, maxPaneTop));
		setPaneTop(live.current.paneTop);
	};

	const quit = (): void => {
		controller.quit();
		exit();
	};

	const run = (action: Action, input: string): void => {
		const page = Math.max(1, bodyHeight - 1);
		const inGrid = currentScreen() === 'grid';
		const pane = currentPane();
		const {selected: at, paneTop: scrolled} = live.current;
		const targets: Partial<Record<Action, [grid: number, pane: number]>> = {
			up: [at - 1, scrolled - 1],
			down: [at + 1, scrolled + 1],
			pageUp: [at - page, scrolled - page],
			pageDown: [at + page, scrolled + page],
			home: [0, 0],
			end: [rows.length - 1, maxPaneTop],
		};
		const target = targets[action];
		if (target) {
			if (inGrid) {
				select(target[0]);
			} else {
				scroll(target[1]);
			}

			return;
		}

		switch (action) {
			case 'open': {
				// On a domain row, open its first host.
				const host = rows.findIndex((row, index) => index >= at && row.kind === 'host' && row.domain === rowAt(at)?.domain);
				if (host !== -1) {
					select(host);
					setScreen('detail');
					setPaneTop(0);
				}

				break;
			}

			case 'back': {
				if (filter && inGrid) {
					setFilter('');
				}

				setScreen('grid');
				break;
			}

			case 'nextPane':
			case 'previousPane':
			case 'pane': {
				const next = action === 'nextPane' ? (pane + 1) % paneNames.length : (action === 'previousPane' ? (pane + paneNames.length - 1) % paneNames.length : Number(input) - 1);
				setPane(next);
				setPaneTop(0);
				break;
			}

			case 'reprobe': {
				// A host row: that host; a domain row: every host of the domain.
				const row = rowAt(at);
				const keys = rows.filter(item => item.kind === 'host' && (row?.kind === 'host' ? item.id === row.id : item.domain === row?.domain)).map(item => (item.kind === 'host' ? item.key : ''));
				if (keys.length > 0) {
					controller.reprobe(keys);
				}

				break;
			}

			case 'reprobeAll': {
				controller.reprobeAll();
				break;
			}

			case 'add': {
				setOverlay({kind: 'add', text: ''});
				break;
			}

			case 'remove': {
				const row = rowAt(at);
				if (row) {
					setOverlay({kind: 'remove', domain: row.domain});
				}

				break;
			}

			case 'filter': {
				setOverlay({kind: 'filter', text: filter});
				break;
			}

			case 'help': {
				setOverlay({kind: 'help', top: 0});
				break;
			}

			case 'quit': {
				quit();
				break;
			}
		}
	};

	const onKey = (input: string, key: Key): void => {
		const overlay = currentOverlay();
		if (overlay.kind === 'help') {
			if (key.upArrow || key.downArrow) {
				const top = overlay.top + (key.downArrow ? 1 : -1);
				setOverlay({kind: 'help', top: Math.max(0, Math.min(top, helpLines.length - bodyHeight - 1))});
				return;
			}

			setOverlay({kind: 'none'});
			if (key.ctrl && input === 'c') {
				quit();
			}

			return;
		}

		if (overlay.kind === 'remove') {
			if (input === 'y') {
				controller.removeDomain(overlay.domain);
			}

			setOverlay({kind: 'none'});
			return;
		}

		if (overlay.kind === 'add' || overlay.kind === 'filter') {
			// Typed or pasted text may come in one chunk with its Enter ("example.com\r").
			const [typed = '', ...rest] = key.return ? [''] : input.split(/[\r\n]/);
			const submit = key.return || rest.length > 0;
			const text = overlay.text + [...typed].filter(char => char >= ' ' && char !== '\u007F').join('');
			if (key.ctrl && input === 'c') {
				quit();
			} else if (key.escape) {
				setOverlay({kind: 'none'});
			} else if (key.backspace || key.delete) {
				setOverlay({...overlay, text: overlay.text.slice(0, -1)});
			} else if (submit && overlay.kind === 'filter') {
				setFilter(text.trim().toLowerCase());
				setOverlay({kind: 'none'});
			} else if (submit) {
				const error = controller.addDomain(text);
				setOverlay(error ? {kind: 'add', text, error} : {kind: 'none'});
			} else if (!key.ctrl && !key.meta) {
				// Control characters a paste may bring are dropped.
				setOverlay({...overlay, text: text.slice(0, 253)});
			}

			return;
		}

		const action = actionFor(currentScreen(), input, key);
		if (action) {
			run(action, input);
		}
	};

	useInput((input, key) => {
		// Keys typed faster than they are read come as one run of text ("jjj"): one key each.
		const prompt = ['add', 'filter'].includes(currentOverlay().kind);
		if (input.length > 1 && !prompt && !key.ctrl && !key.meta) {
			for (const char of input) {
				onKey(char, {...key, return: char === '\r'});
			}

			return;
		}

		onKey(input, key);
	});

	const position = rows.length > bodyHeight ? `${top + 1}–${Math.min(rows.length, top + bodyHeight)} of ${rows.length}` : `${rows.length} rows`;
	const paneInfo = lines.length > bodyHeight - 1 ? `${paneTop + 1}–${Math.min(lines.length, paneTop + bodyHeight - 1)} of ${lines.length}` : '';
	const frame = tick;

	let body;
	if (overlay.kind === 'help') {
		body = <Lines lines={helpLines} top={overlay.top} height={bodyHeight + 1} width={width} theme={theme}/>;
	} else if (screen === 'detail' && detailRow) {
		const host = snapshot.hosts.get(detailRow.key);
		const tabs = paneNames.map((name, index) => (index === pane ? `[${index + 1} ${name}]` : ` ${index + 1} ${name} `)).join(' ');
		const title = ` ${sanitize(detailRow.exchange)} [${host?.ip ?? ''}]${host && host.port !== 25 ? `:${host.port}` : ''}  ${sanitize(detailRow.domain)}  ${host?.status?.toUpperCase() ?? host?.phase ?? ''}`;
		const tableRows = Math.max(0, bodyHeight - 5);
		body = (
			<Box flexDirection="column" height={bodyHeight + 1}>
				<Text bold color={theme.color(toneOf(host?.status))} wrap="truncate">{fit(title, width)}</Text>
				<Box flexDirection="column" height={bodyHeight}>
					<Text wrap="truncate">{fit(tabs, width)}</Text>
					{extensions.length > 0 && sideBySide
						? (
							<Box>
								<Lines lines={lines} top={paneTop} height={bodyHeight - 1} width={paneWidth} theme={theme}/>
								<Box flexDirection="column" width={tableWidth}>
									<Table data={extensions.slice(0, tableRows)}/>
									{extensions.length > tableRows ? <Text color={theme.color('muted')}>{`+${extensions.length - tableRows} more`}</Text> : null}
								</Box>
							</Box>
						)
						: <Lines lines={lines} top={paneTop} height={bodyHeight - 1} width={width} theme={theme}/>}
				</Box>
			</Box>
		);
	} else if (snapshot.domains.length === 0) {
		body = (
			<Box flexDirection="column" height={bodyHeight + 1}>
				<Text> </Text>
				<Text bold>{fit('  No domains yet.', width)}</Text>
				<Text wrap="truncate">{fit('  Press a to add one (it is saved), or start with: mxdash example.com', width)}</Text>
				<Text wrap="truncate">{fit('  To try mxdash on built-in test servers: mxdash --demo', width)}</Text>
			</Box>
		);
	} else {
		body = <Grid snapshot={snapshot} rows={rows} selected={selected} top={top} height={bodyHeight} width={width} theme={theme} frame={frame}/>;
	}

	let footer;
	if (overlay.kind === 'add' || overlay.kind === 'filter') {
		const label = overlay.kind === 'add' ? 'Add domain: ' : 'Filter: ';
		const error = overlay.kind === 'add' && overlay.error ? `  ${overlay.error}` : '';
		footer = <Text wrap="truncate" color={error ? theme.color('critical') : undefined}>{fit(` ${label}${sanitize(overlay.text)}_${error}`, width)}</Text>;
	} else if (overlay.kind === 'remove') {
		footer = <Text wrap="truncate" color={theme.color('warning')}>{fit(` Remove ${sanitize(overlay.domain)} from the saved list? y/n`, width)}</Text>;
	} else if (overlay.kind === 'help') {
		const more = helpLines.length > bodyHeight + 1 ? `  ${overlay.top + 1}–${Math.min(helpLines.length, overlay.top + bodyHeight + 1)} of ${helpLines.length}` : '';
		footer = <Text wrap="truncate" color={theme.color('muted')}>{fit(` any key: close help${more}`, width)}</Text>;
	} else {
		const extra = screen === 'detail' ? paneInfo : `${filter ? `filter "${sanitize(filter)}"  ` : ''}${position}`;
		footer = <HintBar screen={screen} width={width} extra={extra} theme={theme}/>;
	}

	return (
		<Box flexDirection="column" width={width} height={terminalRows - 1}>
			<StatusBar snapshot={snapshot} width={width} theme={theme} tick={tick} frame={frame}/>
			{body}
			{footer}
		</Box>
	);
}
