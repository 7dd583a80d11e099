import {sanitize} from '../core/sanitize.js';
import type {Action, Screen} from './keymap.js';
import {paneNames} from './panes.js';
import type {SortOrder} from './row-order.js';
import {nextSort} from './row-order.js';
import type {PaneSearch} from './pane-search.js';
import {currentMatch, matchLines, revealTop, stepMatch} from './pane-search.js';

/**
 * The dashboard's own state as a pure reducer, in the manner of @inkjs/ui's components: keys
 * become actions, `reduce` turns the state and an action into the next state and the effects
 * the caller must carry out. Nothing here touches Ink, React or the engine, so every key can
 * be tested as data.
 */

export type Overlay =
	| {kind: 'none'}
	| {kind: 'help'; top: number}
	| {kind: 'add'; text: string; error?: string}
	/** `before` is the filter when the prompt opened: the rows follow the text as it is typed, and Esc restores it. */
	| {kind: 'filter'; text: string; before: string}
	/** The pane search's prompt: matches follow the text as it is typed, and Esc restores `before` and its scroll. */
	| {kind: 'search'; text: string; before: PaneSearch | undefined; paneTop: number}
	| {kind: 'remove'; domain: string};

export type DashboardState = {
	screen: Screen;
	overlay: Overlay;
	/** The selected row's id: the selection follows its row while rows come and go. */
	selectedId?: string;
	/** Where the selection was, for when its row is gone. */
	selectedIndex: number;
	gridTop: number;
	pane: number;
	paneTop: number;
	filter: string;
	/** The grid's order (row-order.ts); the selection keeps its row by id when it changes. */
	sort: SortOrder;
	/** Problems only: the hosts that are ok are hidden (row-order.ts). */
	problemsOnly: boolean;
	/** The search within the open pane (pane-search.ts): it ends when the pane changes. */
	search?: PaneSearch;
	/** What the last save or copy did, for the hint bar until the next key ('' for none). */
	notice: string;
};

/** The little of a grid row the reducer needs (a store's GridRow is one). */
export type ViewRow = {kind: 'domain'; id: string; domain: string} | {kind: 'host'; id: string; domain: string; key: string};

/** What the reducer needs to know of the frame the state is shown in. */
export type View = {
	/** The rows after the filter, in grid order. */
	rows: readonly ViewRow[];
	bodyHeight: number;
	/** Lines of the open pane (0 outside the detail screen). */
	paneLines: number;
	/** Lines of the `?` help. */
	helpLines: number;
	/** The open pane's line texts, for the search (none: nothing to search). */
	paneText?: readonly string[];
};

export type Effect =
	| {type: 'reprobe'; keys: string[]}
	| {type: 'reprobeAll'}
	| {type: 'scanTls'; key: string}
	| {type: 'add'; text: string}
	| {type: 'remove'; domain: string}
	| {type: 'quit'}
	| {type: 'saveTranscript'; key: string}
	| {type: 'saveReport'}
	| {type: 'copy'; key: string; what: 'transcript' | 'fingerprint'};

export type DashboardAction =
	| {type: Exclude<Action, 'pane'>}
	/** A pane by its index (0 for Summary). */
	| {type: 'pane'; index: number}
	/** Text typed or pasted into the add or filter prompt; a line break in it submits. */
	| {type: 'type'; text: string}
	| {type: 'erase'}
	| {type: 'cancel'}
	| {type: 'submit'}
	/** The answer to the remove question. */
	| {type: 'confirm'; yes: boolean}
	| {type: 'scrollHelp'; by: number}
	| {type: 'closeHelp'}
	/** The controller refused a domain from the add prompt: the prompt comes back with why. */
	| {type: 'addFailed'; text: string; error: string}
	/** What a save or copy did (or why not), from the controller. */
	| {type: 'notice'; text: string};

export type Result = {state: DashboardState; effects: Effect[]};

export const paneCount = paneNames.length;

/** The longest name DNS allows: a prompt takes no more. */
const maxPromptLength = 253;

export const initialState: DashboardState = {screen: 'grid', overlay: {kind: 'none'}, selectedIndex: 0, gridTop: 0, pane: 0, paneTop: 0, filter: '', sort: 'configured', problemsOnly: false, notice: ''};

/** The selected row's index: its row by id, else where the selection was, within the rows. */
export function selectedIndex(state: DashboardState, rows: readonly ViewRow[]): number {
	const found = state.selectedId === undefined ? -1 : rows.findIndex(row => row.id === state.selectedId);
	return rows.length === 0 ? 0 : Math.min(found === -1 ? state.selectedIndex : found, rows.length - 1);
}

/** The first grid row shown: the remembered top, moved just enough to show the selection. */
export function gridTop(state: DashboardState, rowCount: number, selected: number, bodyHeight: number): number {
	return Math.min(Math.max(0, selected - bodyHeight + 1, Math.min(state.gridTop, selected)), Math.max(0, rowCount - 1));
}

/** The furthest the open pane scrolls: its last line at the bottom (one row is the tabs). */
export function maxPaneTop(view: View): number {
	return Math.max(0, view.paneLines - (view.bodyHeight - 1));
}

function select(state: DashboardState, index: number, view: View): DashboardState {
	const {rows, bodyHeight} = view;
	const clamped = Math.max(0, Math.min(index, rows.length - 1));
	const top = state.gridTop;
	const nextTop = clamped < top ? clamped : (clamped >= top + bodyHeight ? clamped - bodyHeight + 1 : top);
	return {...state, selectedIndex: clamped, selectedId: rows[clamped]?.id, gridTop: nextTop};
}

function scroll(state: DashboardState, to: number, view: View): DashboardState {
	return {...state, paneTop: Math.max(0, Math.min(to, maxPaneTop(view)))};
}

const none: Overlay = {kind: 'none'};

function unchanged(state: DashboardState): Result {
	return {state, effects: []};
}

/** A move: the selection in the grid, the scroll position in a pane. */
function move(state: DashboardState, action: 'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end', view: View): DashboardState {
	const page = Math.max(1, view.bodyHeight - 1);
	const at = selectedIndex(state, view.rows);
	const scrolled = state.paneTop;
	const targets: Record<typeof action, [grid: number, pane: number]> = {
		up: [at - 1, scrolled - 1],
		down: [at + 1, scrolled + 1],
		pageUp: [at - page, scrolled - page],
		pageDown: [at + page, scrolled + page],
		home: [0, 0],
		end: [view.rows.length - 1, maxPaneTop(view)],
	};
	const [grid, pane] = targets[action];
	return state.screen === 'grid' ? select(state, grid, view) : scroll(state, pane, view);
}

const filterOf = (text: string): string => text.trim().toLowerCase();

type TextOverlay = Extract<Overlay, {kind: 'add' | 'filter' | 'search'}>;

/** The prompts that take text: add, filter and the pane search. */
export function isTextPrompt(overlay: Overlay): overlay is TextOverlay {
	return overlay.kind === 'add' || overlay.kind === 'filter' || overlay.kind === 'search';
}

/** The prompt's text changed: a filter prompt's text is the filter at once, so rows follow it as typed (a search's matches too). */
function edited(state: DashboardState, overlay: TextOverlay, text: string, view: View): DashboardState {
	if (overlay.kind === 'search') {
		return searchFor({...state, overlay: {...overlay, text}}, text, view);
	}

	return overlay.kind === 'filter' ? {...state, overlay: {...overlay, text}, filter: filterOf(text)} : {...state, overlay: {...overlay, text}};
}

function submitPrompt(state: DashboardState, text: string, view: View): Result {
	const {overlay} = state;
	if (overlay.kind === 'filter') {
		return {state: {...state, filter: filterOf(text), overlay: none}, effects: []};
	}

	if (overlay.kind === 'search') {
		// Typed text may come with its Enter in one chunk, so the search is the text here too.
		return unchanged({...searchFor(state, text, view), overlay: none});
	}

	// Closed for now; an `addFailed` from the caller opens it again with the reason.
	return {state: {...state, overlay: none}, effects: [{type: 'add', text}]};
}

/** Typing into the add, filter or search prompt. */
function type(state: DashboardState, input: string, view: View): Result {
	const {overlay} = state;
	if (!isTextPrompt(overlay)) {
		return unchanged(state);
	}

	// Typed or pasted text may come in one chunk with its Enter ("example.com\r").
	const [typed = '', ...rest] = input.split(/[\r\n]/);
	// Control characters a paste may bring are dropped.
	const text = overlay.text + [...typed].filter(char => char >= ' ' && char !== '\u007F').join('');
	if (rest.length > 0) {
		return submitPrompt(state, text, view);
	}

	return unchanged(edited(state, overlay, text.slice(0, maxPromptLength), view));
}

// The pane search (pane-search.ts): `/` on the detail screen, then n and N; a pane change or Esc ends it.

function openSearch(state: DashboardState): DashboardState {
	return {...state, overlay: {kind: 'search', text: '', before: state.search, paneTop: state.paneTop}};
}

/** The pane scrolled to show the search's current match, if it has one. */
function showMatch(state: DashboardState, view: View): DashboardState {
	const matches = state.search ? matchLines(view.paneText ?? [], state.search.text) : [];
	const line = state.search ? matches[currentMatch(state.search, matches.length)] : undefined;
	return line === undefined ? state : scroll(state, revealTop(line, state.paneTop, view.bodyHeight - 1), view);
}

/** The search prompt's text changed: the search is that text, from its first match. */
function searchFor(state: DashboardState, text: string, view: View): DashboardState {
	return showMatch({...state, search: text ? {text, at: 0} : undefined}, view);
}

/** n or N: the next or previous match, wrapping; nothing without a search. */
function stepSearch(state: DashboardState, by: number, view: View): DashboardState {
	const {search} = state;
	if (!search) {
		return state;
	}

	const count = matchLines(view.paneText ?? [], search.text).length;
	return showMatch({...state, search: {...search, at: stepMatch(currentMatch(search, count), by, count)}}, view);
}

/** The keys of what a reprobe on this row means: a host, or every host of a domain. */
function reprobeKeys(row: ViewRow | undefined, rows: readonly ViewRow[]): string[] {
	return rows.flatMap(item => (item.kind === 'host' && (row?.kind === 'host' ? item.id === row.id : item.domain === row?.domain) ? [item.key] : []));
}

/** w, W and y: the effect for the controller, which answers with a notice. */
function takeAway(state: DashboardState, action: 'save' | 'saveReport' | 'copy', view: View): Result {
	if (action === 'saveReport') {
		return {state: {...state, notice: 'saving the report…'}, effects: [{type: 'saveReport'}]};
	}

	const row = view.rows[selectedIndex(state, view.rows)];
	if (row?.kind !== 'host') {
		return unchanged({...state, notice: `${action === 'save' ? 'w saves' : 'y copies'} a host's transcript: open a host`});
	}

	return {state, effects: [action === 'save' ? {type: 'saveTranscript', key: row.key} : {type: 'copy', key: row.key, what: paneNames[state.pane] === 'Certificates' ? 'fingerprint' : 'transcript'}]};
}

/** The last save's or copy's notice lasts until the next key. */
export function reduce(state: DashboardState, action: DashboardAction, view: View): Result {
	if (action.type === 'notice') {
		// One line, whatever an error message holds.
		return unchanged({...state, notice: sanitize(action.text)});
	}

	return reduceAction(state.notice ? {...state, notice: ''} : state, action, view);
}

function reduceAction(state: DashboardState, action: Exclude<DashboardAction, {type: 'notice'}>, view: View): Result {
	const {rows} = view;
	switch (action.type) {
		case 'up':
		case 'down':
		case 'pageUp':
		case 'pageDown':
		case 'home':
		case 'end': {
			return unchanged(move(state, action.type, view));
		}

		case 'open': {
			// A domain row opens its own screen (its plan and findings): a domain with no address
			// to probe (NXDOMAIN, null MX, dangling MX) has nothing else to open.
			const at = selectedIndex(state, rows);
			return rows[at] ? unchanged({...select(state, at, view), screen: 'detail', paneTop: 0, search: undefined}) : unchanged(state);
		}

		case 'back': {
			// In the grid, Esc also clears the filter; in a pane being searched it ends the search first.
			if (state.screen === 'detail' && state.search) {
				return unchanged({...state, search: undefined});
			}

			return unchanged({...state, screen: 'grid', filter: state.screen === 'grid' ? '' : state.filter, search: undefined});
		}

		case 'nextPane': {
			return unchanged({...state, pane: (state.pane + 1) % paneCount, paneTop: 0, search: undefined});
		}

		case 'previousPane': {
			return unchanged({...state, pane: (state.pane + paneCount - 1) % paneCount, paneTop: 0, search: undefined});
		}

		case 'pane': {
			return unchanged({...state, pane: action.index, paneTop: 0, search: undefined});
		}

		case 'reprobe': {
			const keys = reprobeKeys(rows[selectedIndex(state, rows)], rows);
			return {state, effects: keys.length > 0 ? [{type: 'reprobe', keys}] : []};
		}

		case 'reprobeAll': {
			return {state, effects: [{type: 'reprobeAll'}]};
		}

		case 'scanTls': {
			// One address at a time: a domain row has no single session to scan.
			const row = rows[selectedIndex(state, rows)];
			return row?.kind === 'host' ? {state, effects: [{type: 'scanTls', key: row.key}]} : unchanged({...state, notice: 't scans one host\'s TLS versions: select a host'});
		}

		case 'add': {
			return unchanged({...state, overlay: {kind: 'add', text: ''}});
		}

		case 'remove': {
			const row = rows[selectedIndex(state, rows)];
			return row ? unchanged({...state, overlay: {kind: 'remove', domain: row.domain}}) : unchanged(state);
		}

		case 'filter': {
			return unchanged({...state, overlay: {kind: 'filter', text: state.filter, before: state.filter}});
		}

		case 'help': {
			return unchanged({...state, overlay: {kind: 'help', top: 0}});
		}

		case 'quit': {
			return {state, effects: [{type: 'quit'}]};
		}

		case 'search': {
			return unchanged(openSearch(state));
		}

		case 'nextMatch':
		case 'previousMatch': {
			return unchanged(stepSearch(state, action.type === 'nextMatch' ? 1 : -1, view));
		}

		case 'sort': {
			return unchanged({...state, sort: nextSort(state.sort)});
		}

		case 'problems': {
			return unchanged({...state, problemsOnly: !state.problemsOnly});
		}

		case 'type': {
			return type(state, action.text, view);
		}

		case 'erase': {
			const {overlay} = state;
			return isTextPrompt(overlay) ? unchanged(edited(state, overlay, overlay.text.slice(0, -1), view)) : unchanged(state);
		}

		case 'submit': {
			const {overlay} = state;
			return isTextPrompt(overlay) ? submitPrompt(state, overlay.text, view) : unchanged(state);
		}

		case 'cancel':
		case 'closeHelp': {
			const {overlay} = state;
			return unchanged({...state, overlay: none, ...(overlay.kind === 'filter' ? {filter: overlay.before} : {}), ...(overlay.kind === 'search' ? {search: overlay.before, paneTop: overlay.paneTop} : {})});
		}

		case 'confirm': {
			const {overlay} = state;
			if (overlay.kind !== 'remove') {
				return unchanged(state);
			}

			return {state: {...state, overlay: none}, effects: action.yes ? [{type: 'remove', domain: overlay.domain}] : []};
		}

		case 'scrollHelp': {
			const {overlay} = state;
			if (overlay.kind !== 'help') {
				return unchanged(state);
			}

			// The help shows bodyHeight + 1 lines: the grid's rows and its header's.
			const top = Math.max(0, Math.min(overlay.top + action.by, view.helpLines - view.bodyHeight - 1));
			return unchanged({...state, overlay: {kind: 'help', top}});
		}

		case 'save':
		case 'saveReport':
		case 'copy': {
			return takeAway(state, action.type, view);
		}

		case 'addFailed': {
			return unchanged({...state, overlay: {kind: 'add', text: action.text, error: action.error}});
		}
	}
}
