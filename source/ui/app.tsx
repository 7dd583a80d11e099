import {Box, useStdout} from 'ink';
import {useCallback, useMemo, useSyncExternalStore} from 'react';
import {sanitize} from '../core/sanitize.js';
import {counted} from '../core/text.js';
import type {Controller} from './controller.js';
import type {DashboardState} from './dashboard-state.js';
import {isTextPrompt} from './dashboard-state.js';
import {frameOf} from './frame.js';
import {Grid} from './grid.js';
import {ConfirmPrompt} from './prompts/confirm-prompt.js';
import {HelpOverlay} from './prompts/help-overlay.js';
// Ink's line caches kept across frames (ink-caches.ts), before the first frame.
import './ink-caches.js';
import {TextPrompt} from './prompts/text-prompt.js';
import {sortLabels} from './row-order.js';
import {addNote, removalQuestion} from './saved-list.js';
import type {Store} from './store.js';
import type {Theme} from './theme.js';
import {useDashboardInput} from './use-dashboard-input.js';
import {terminalSize, useClock, useTerminalSize} from './use-terminal.js';
import {DetailScreen} from './views/detail-screen.js';
import {DomainScreen} from './views/domain-screen.js';
import {EmptyState} from './views/empty-state.js';
import {HintBar} from './views/hint-bar.js';
import {StatusBar} from './views/status-bar.js';

export type {Controller} from './controller.js';

const promptLabels = {add: 'Add domain: ', filter: 'Filter: ', search: 'Search: '} as const;

export type AppProps = {store: Store; controller: Controller; theme: Theme};

/**
 * Ink's cap on frames a second. The store publishes at most one snapshot per spinner step, so
 * the cap only bounds the keys' frames: low, a key pressed just after a frame would wait for
 * the next slot (at 15, up to 67 ms; at 60, 17 ms, which a 160×60 frame of ~10 ms now leaves
 * idle: 120 measured key → frame p95 24–33 ms while rows update, against 35–38 at 60).
 */
export const maxFps = 120;

/**
 * The dashboard: the store's snapshot and the dashboard's state (use-dashboard-input.ts) make
 * a frame (frame.ts), which the views draw.
 */
export function App({store, controller, theme}: AppProps) {
	const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot);
	const size = useTerminalSize();
	const {stdout} = useStdout();
	// A key is reduced in the frame of the latest snapshot and size, which may be newer than
	// the frame on screen (renders are throttled).
	const viewFor = useCallback((state: DashboardState) => frameOf(store.getSnapshot(), state, terminalSize(stdout), theme).view, [store, stdout, theme]);
	const {state, onKey} = useDashboardInput(controller, viewFor);
	const tick = useClock(snapshot.round.running, store.frameInterval);
	const frame = frameOf(snapshot, state, size, theme);
	const {screen, overlay, pane, paneTop, filter} = state;
	const {width, bodyHeight, rows, selected, top, detailRow, lines, search} = frame;
	const searched = search ? {search} : {};
	// Read once as the question opens (the saved list is a file), not on every frame.
	const question = useMemo(() => (overlay.kind === 'remove' ? removalQuestion(overlay.domain, controller.savedStatus?.(overlay.domain) ?? 'none') : ''), [overlay, controller]);

	let body;
	if (screen === 'detail' && frame.detailDomain) {
		body = <DomainScreen domain={frame.detailDomain} lines={lines} paneTop={paneTop} bodyHeight={bodyHeight} width={width} theme={theme} {...searched}/>;
	} else if (screen === 'detail' && detailRow) {
		body = <DetailScreen row={detailRow} host={frame.detailHost ?? snapshot.hosts.get(detailRow.key)} pane={pane} lines={lines} paneTop={paneTop} extensions={frame.extensions} sideBySide={frame.sideBySide} paneWidth={frame.paneWidth} tableWidth={frame.tableWidth} bodyHeight={bodyHeight} width={width} theme={theme} {...searched}/>;
	} else if (snapshot.domains.length === 0) {
		body = <EmptyState width={width} bodyHeight={bodyHeight}/>;
	} else {
		body = <Grid snapshot={snapshot} rows={rows} selected={selected} top={top} height={bodyHeight} width={width} theme={theme} frame={tick}/>;
	}

	let footer;
	if (isTextPrompt(overlay)) {
		footer = <TextPrompt label={promptLabels[overlay.kind]} text={overlay.text} width={width} theme={theme} isActive onKey={onKey} {...(overlay.kind === 'add' && overlay.error ? {error: overlay.error} : {})} {...(overlay.kind === 'add' ? {note: addNote(controller.savedStatus !== undefined)} : {})} {...(search ? {note: search.label} : {})}/>;
	} else if (overlay.kind === 'remove') {
		footer = <ConfirmPrompt question={question} width={width} theme={theme} isActive onKey={onKey}/>;
	} else {
		const position = rows.length > bodyHeight ? `${top + 1}–${Math.min(rows.length, top + bodyHeight)} of ${rows.length}` : counted(rows.length, 'row');
		const paneInfo = lines.length > bodyHeight - 1 ? `${paneTop + 1}–${Math.min(lines.length, paneTop + bodyHeight - 1)} of ${lines.length}` : '';
		const extra = screen === 'detail' ? [search?.label, paneInfo].filter(Boolean).join('  ') : `${state.sort === 'configured' ? '' : `sort: ${sortLabels[state.sort]}  `}${state.problemsOnly ? `${frame.hidden} ok hidden  ` : ''}${filter ? `filter "${sanitize(filter)}"  ` : ''}${position}`;
		footer = <HintBar screen={screen} width={width} extra={state.notice || extra} theme={theme}/>;
	}

	return (
		<Box flexDirection="column" width={width} height={size.rows - 1}>
			<StatusBar snapshot={snapshot} width={width} theme={theme} now={Date.now()} frame={tick}/>
			{overlay.kind === 'help'
				// The help takes the body's place and the footer's.
				? <HelpOverlay top={overlay.top} bodyHeight={bodyHeight} width={width} theme={theme} isActive onKey={onKey}/>
				: <>{body}{footer}</>}
		</Box>
	);
}
