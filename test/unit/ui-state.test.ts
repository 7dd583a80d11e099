import type {Key} from 'ink';
import {describe, expect, it, vi} from 'vitest';
import type {Controller} from '../../source/ui/controller.js';
import {createDashboardStore} from '../../source/ui/dashboard-store.js';
import type {DashboardAction, DashboardState, Effect, View, ViewRow} from '../../source/ui/dashboard-state.js';
import {gridTop, initialState, maxPaneTop, reduce, selectedIndex} from '../../source/ui/dashboard-state.js';
import {helpLines} from '../../source/ui/help.js';
import {keyActions, splitKeys} from '../../source/ui/key-actions.js';
import {makeTheme} from '../../source/ui/theme.js';

/** The dashboard's state without Ink: the reducer, the key mappings and the store, as data. */

const rows: ViewRow[] = [
	{kind: 'domain', id: 'domain:a.test', domain: 'a.test'},
	{kind: 'host', id: 'a.test|k1', domain: 'a.test', key: 'k1'},
	{kind: 'host', id: 'a.test|k2', domain: 'a.test', key: 'k2'},
	{kind: 'domain', id: 'domain:b.test', domain: 'b.test'},
	{kind: 'host', id: 'b.test|k3', domain: 'b.test', key: 'k3'},
	{kind: 'domain', id: 'domain:c.test', domain: 'c.test'},
	{kind: 'host', id: 'c.test|k4', domain: 'c.test', key: 'k4'},
	{kind: 'host', id: 'c.test|k5', domain: 'c.test', key: 'k5'},
];

// A body of 4 rows: a page is 3; a pane of 10 lines scrolls to 7 (one row is the tabs).
const view: View = {rows, bodyHeight: 4, paneLines: 10, helpLines: 20};

/** The state with the selection on row `index`, as a move there would leave it. */
function at(index: number, more: Partial<DashboardState> = {}): DashboardState {
	return {...initialState, selectedIndex: index, selectedId: rows[index]?.id, ...more};
}

type Case = {
	name: string;
	state?: DashboardState;
	actions: DashboardAction[];
	view?: Partial<View>;
	expected?: Partial<DashboardState>;
	effects?: Effect[];
	/** The selected row's index afterwards. */
	selected?: number;
};

function run(start: DashboardState, actions: DashboardAction[], frame: View): {state: DashboardState; effects: Effect[]} {
	let state = start;
	const effects: Effect[] = [];
	for (const action of actions) {
		const result = reduce(state, action, frame);
		state = result.state;
		effects.push(...result.effects);
	}

	return {state, effects};
}

const down: DashboardAction = {type: 'down'};
const legendLength = helpLines(makeTheme({ascii: true})).length;
const detail = (index: number, more: Partial<DashboardState> = {}): DashboardState => at(index, {screen: 'detail', ...more});
const typing = (text: string): DashboardAction => ({type: 'type', text});

const cases: Case[] = [
	// Selection in the grid.
	{name: 'down moves the selection one row', actions: [down], selected: 1, expected: {selectedId: 'a.test|k1'}},
	{name: 'up at the top stays at the top', actions: [{type: 'up'}], selected: 0},
	{name: 'down at the bottom stays at the bottom', state: at(7), actions: [down, down], selected: 7},
	{name: 'up moves the selection one row up', state: at(3), actions: [{type: 'up'}], selected: 2},
	{name: 'pageDown moves a page (the body less one row)', actions: [{type: 'pageDown'}], selected: 3},
	{name: 'pageDown near the bottom stops at the last row', state: at(6), actions: [{type: 'pageDown'}], selected: 7},
	{name: 'pageUp moves a page up', state: at(7), actions: [{type: 'pageUp'}], selected: 4},
	{name: 'pageUp near the top stops at the first row', state: at(2), actions: [{type: 'pageUp'}], selected: 0},
	{name: 'end selects the last row', actions: [{type: 'end'}], selected: 7, expected: {selectedId: 'c.test|k5'}},
	{name: 'home selects the first row', state: at(5), actions: [{type: 'home'}], selected: 0},
	{name: 'a page of one row when the body is tiny', view: {bodyHeight: 1}, actions: [{type: 'pageDown'}], selected: 1},
	{name: 'moving below the window scrolls the grid', actions: [down, down, down, down], expected: {gridTop: 1}, selected: 4},
	{name: 'moving above the window scrolls the grid back', state: at(6, {gridTop: 4}), actions: [{type: 'up'}, {type: 'up'}, {type: 'up'}], expected: {gridTop: 3}},
	{name: 'moves in an empty grid keep the selection at 0', view: {rows: []}, actions: [down, {type: 'end'}], expected: {selectedIndex: 0, selectedId: undefined}},

	// Scrolling in the detail screen.
	{name: 'down in a pane scrolls it', state: detail(1), actions: [down, down], expected: {paneTop: 2}, selected: 1},
	{name: 'up at the pane top stays at 0', state: detail(1), actions: [{type: 'up'}], expected: {paneTop: 0}},
	{name: 'end scrolls the pane to its last page', state: detail(1), actions: [{type: 'end'}], expected: {paneTop: 7}},
	{name: 'down at the pane bottom stays there', state: detail(1, {paneTop: 7}), actions: [down], expected: {paneTop: 7}},
	{name: 'pageDown and pageUp scroll a page', state: detail(1), actions: [{type: 'pageDown'}, {type: 'pageDown'}, {type: 'pageUp'}], expected: {paneTop: 3}},
	{name: 'home scrolls the pane to its top', state: detail(1, {paneTop: 5}), actions: [{type: 'home'}], expected: {paneTop: 0}},
	{name: 'a pane shorter than the body does not scroll', state: detail(1), view: {paneLines: 2}, actions: [{type: 'end'}, down], expected: {paneTop: 0}},

	// Open and back.
	{name: 'open on a host row opens it', state: at(2, {paneTop: 4}), actions: [{type: 'open'}], expected: {screen: 'detail', selectedId: 'a.test|k2', paneTop: 0}},
	// A domain row opens the domain's own screen (it used to open its first host, and nothing
	// on a domain with no host: NXDOMAIN, null MX, a dangling MX).
	{name: 'open on a domain row opens the domain', state: at(3), actions: [{type: 'open'}], expected: {screen: 'detail', selectedId: 'domain:b.test', paneTop: 0}, selected: 3},
	{name: 'open on a domain without hosts opens the domain', view: {rows: [{kind: 'domain', id: 'domain:x.test', domain: 'x.test'}]}, actions: [{type: 'open'}], expected: {screen: 'detail', selectedId: 'domain:x.test'}},
	{name: 'open in an empty grid does nothing', view: {rows: []}, actions: [{type: 'open'}], expected: {screen: 'grid'}},
	{name: 'open keeps the pane', state: at(1, {pane: 2}), actions: [{type: 'open'}], expected: {screen: 'detail', pane: 2}},
	{name: 'back from the detail screen keeps the selection and the filter', state: detail(4, {filter: 'b'}), actions: [{type: 'back'}], expected: {screen: 'grid', filter: 'b', selectedId: 'b.test|k3'}},
	{name: 'Esc in the grid clears the filter', state: at(4, {filter: 'b'}), actions: [{type: 'back'}], expected: {screen: 'grid', filter: ''}},
	{name: 'Esc in the grid without a filter changes nothing', state: at(4), actions: [{type: 'back'}], expected: at(4)},

	// Panes.
	{name: '2 opens the Transcript pane, scrolled to its top', state: detail(1, {paneTop: 5}), actions: [{type: 'pane', index: 1}], expected: {pane: 1, paneTop: 0}},
	{name: '4 opens the Findings pane', state: detail(1), actions: [{type: 'pane', index: 3}], expected: {pane: 3, paneTop: 0}},
	{name: 'Tab goes to the next pane, scrolled to its top', state: detail(1, {pane: 1, paneTop: 5}), actions: [{type: 'nextPane'}], expected: {pane: 2, paneTop: 0}},
	{name: 'Tab after the last pane (Policy) comes round to the first', state: detail(1, {pane: 4}), actions: [{type: 'nextPane'}], expected: {pane: 0}},
	{name: 'Shift-Tab goes to the previous pane, scrolled to its top', state: detail(1, {pane: 2, paneTop: 5}), actions: [{type: 'previousPane'}], expected: {pane: 1, paneTop: 0}},
	{name: 'Shift-Tab before the first pane comes round to the last (Policy)', state: detail(1), actions: [{type: 'previousPane'}], expected: {pane: 4}},
	{name: '5 opens the Policy pane', state: detail(1), actions: [{type: 'pane', index: 4}], expected: {pane: 4, paneTop: 0}},

	// The TLS-version scan: a host row's key; a domain row says what t needs.
	{name: 't on a host row scans that key', state: at(2), actions: [{type: 'scanTls'}], effects: [{type: 'scanTls', key: 'k2'}]},
	{name: 't on a domain row scans nothing and says why', state: at(0), actions: [{type: 'scanTls'}], effects: [], expected: {notice: 't scans one host\'s TLS versions: select a host'}},

	// Re-probe, quit.
	{name: 'reprobe on a host row asks for that key', state: at(2), actions: [{type: 'reprobe'}], effects: [{type: 'reprobe', keys: ['k2']}]},
	{name: 'reprobe on a domain row asks for all its hosts', state: at(5), actions: [{type: 'reprobe'}], effects: [{type: 'reprobe', keys: ['k4', 'k5']}]},
	{name: 'reprobe on a domain without hosts asks nothing', view: {rows: [{kind: 'domain', id: 'domain:x.test', domain: 'x.test'}]}, actions: [{type: 'reprobe'}], effects: []},
	{name: 'reprobe in the detail screen asks for its host', state: detail(4), actions: [{type: 'reprobe'}], effects: [{type: 'reprobe', keys: ['k3']}]},
	{name: 'reprobeAll asks for everything', actions: [{type: 'reprobeAll'}], effects: [{type: 'reprobeAll'}]},
	{name: 'quit asks to quit', actions: [{type: 'quit'}], effects: [{type: 'quit'}]},

	// The add prompt.
	{name: 'a opens an empty add prompt', actions: [{type: 'add'}], expected: {overlay: {kind: 'add', text: ''}}},
	{name: 'typed text goes into the prompt', actions: [{type: 'add'}, typing('c'), typing('.test')], expected: {overlay: {kind: 'add', text: 'c.test'}}, effects: []},
	{name: 'control characters in a paste are dropped', actions: [{type: 'add'}, typing('c.\u001B[31m\u0007te\u007Fst\t')], expected: {overlay: {kind: 'add', text: 'c.[31mtest'}}},
	{name: 'Backspace takes the last character', actions: [{type: 'add'}, typing('c.tesx'), {type: 'erase'}], expected: {overlay: {kind: 'add', text: 'c.tes'}}},
	{name: 'Backspace in an empty prompt keeps it open', actions: [{type: 'add'}, {type: 'erase'}], expected: {overlay: {kind: 'add', text: ''}}},
	{name: 'Enter submits the text', actions: [{type: 'add'}, typing('c.test'), {type: 'submit'}], expected: {overlay: {kind: 'none'}}, effects: [{type: 'add', text: 'c.test'}]},
	{name: 'a paste with its Enter in one chunk submits', actions: [{type: 'add'}, typing('c.test\r')], expected: {overlay: {kind: 'none'}}, effects: [{type: 'add', text: 'c.test'}]},
	{name: 'a paste with a newline submits what came before it', actions: [{type: 'add'}, typing('c.'), typing('test\nmore')], effects: [{type: 'add', text: 'c.test'}]},
	{name: 'Esc cancels the prompt, adding nothing', actions: [{type: 'add'}, typing('c.test'), {type: 'cancel'}], expected: {overlay: {kind: 'none'}}, effects: []},
	{name: 'a refused domain keeps the prompt open with the error', actions: [{type: 'add'}, typing('bad domain'), {type: 'submit'}, {type: 'addFailed', text: 'bad domain', error: 'not a valid domain name'}], expected: {overlay: {kind: 'add', text: 'bad domain', error: 'not a valid domain name'}}},
	{name: 'typing after a refusal edits the text, the error still shown', state: at(0, {overlay: {kind: 'add', text: 'bad', error: 'no'}}), actions: [typing('x')], expected: {overlay: {kind: 'add', text: 'badx', error: 'no'}}},
	{name: 'the prompt takes at most 253 characters', actions: [{type: 'add'}, typing('x'.repeat(300))], expected: {overlay: {kind: 'add', text: 'x'.repeat(253)}}},
	{name: 'typing with no prompt open does nothing', state: at(1), actions: [typing('x'), {type: 'erase'}, {type: 'submit'}], expected: at(1), effects: []},

	// The filter prompt.
	{name: '/ opens the filter prompt with the current filter', state: at(0, {filter: 'b.'}), actions: [{type: 'filter'}], expected: {overlay: {kind: 'filter', text: 'b.', before: 'b.'}}},
	{name: 'Enter sets the filter, trimmed and lower-cased', actions: [{type: 'filter'}, typing(' B.Test '), {type: 'submit'}], expected: {filter: 'b.test', overlay: {kind: 'none'}}, effects: []},
	{name: 'a pasted filter with its Enter sets it', actions: [{type: 'filter'}, typing('mx1\r')], expected: {filter: 'mx1', overlay: {kind: 'none'}}},
	{name: 'an emptied filter clears it', state: at(0, {filter: 'b'}), actions: [{type: 'filter'}, {type: 'erase'}, {type: 'submit'}], expected: {filter: ''}},
	{name: 'typing filters at once, before Enter', actions: [{type: 'filter'}, typing(' B.')], expected: {filter: 'b.', overlay: {kind: 'filter', text: ' B.', before: ''}}},
	{name: 'erasing filters at once too', state: at(0, {filter: 'b.'}), actions: [{type: 'filter'}, {type: 'erase'}], expected: {filter: 'b', overlay: {kind: 'filter', text: 'b', before: 'b.'}}},
	{name: 'Esc after erasing restores the filter the prompt opened with', state: at(0, {filter: 'b'}), actions: [{type: 'filter'}, {type: 'erase'}, typing('mx1'), {type: 'cancel'}], expected: {filter: 'b', overlay: {kind: 'none'}}},
	{name: 'Enter keeps the filter typed', state: at(0, {filter: 'b'}), actions: [{type: 'filter'}, typing('.test'), {type: 'submit'}], expected: {filter: 'b.test', overlay: {kind: 'none'}}},
	{name: 'Esc leaves the filter as it was', state: at(0, {filter: 'b'}), actions: [{type: 'filter'}, typing('x'), {type: 'cancel'}], expected: {filter: 'b', overlay: {kind: 'none'}}},

	// The remove question.
	{name: 'd asks about the selected row\'s domain', state: at(4), actions: [{type: 'remove'}], expected: {overlay: {kind: 'remove', domain: 'b.test'}}},
	{name: 'd with no rows asks nothing', view: {rows: []}, actions: [{type: 'remove'}], expected: {overlay: {kind: 'none'}}},
	{name: 'y removes the domain', state: at(4), actions: [{type: 'remove'}, {type: 'confirm', yes: true}], expected: {overlay: {kind: 'none'}}, effects: [{type: 'remove', domain: 'b.test'}]},
	{name: 'n keeps the domain', state: at(4), actions: [{type: 'remove'}, {type: 'confirm', yes: false}], expected: {overlay: {kind: 'none'}}, effects: []},

	// The help.
	{name: '? opens the help at its top', actions: [{type: 'help'}], expected: {overlay: {kind: 'help', top: 0}}},
	{name: 'the help scrolls down', actions: [{type: 'help'}, {type: 'scrollHelp', by: 1}, {type: 'scrollHelp', by: 1}], expected: {overlay: {kind: 'help', top: 2}}},
	{name: 'the help stops with its last line at the bottom', actions: [{type: 'help'}, ...Array.from({length: 30}, () => ({type: 'scrollHelp', by: 1}) as const)], expected: {overlay: {kind: 'help', top: 15}}},
	// The keys and the legend below them: a body of 4 shows 5 lines.
	{name: 'the help scrolls on to the legend\'s last line', view: {helpLines: legendLength}, actions: [{type: 'help'}, ...Array.from({length: 200}, () => ({type: 'scrollHelp', by: 1}) as const)], expected: {overlay: {kind: 'help', top: legendLength - 5}}},
	{name: 'the help does not scroll above its top', actions: [{type: 'help'}, {type: 'scrollHelp', by: -1}], expected: {overlay: {kind: 'help', top: 0}}},
	{name: 'a help that fits does not scroll', view: {helpLines: 3}, actions: [{type: 'help'}, {type: 'scrollHelp', by: 1}], expected: {overlay: {kind: 'help', top: 0}}},
	{name: 'closing the help keeps the screen', state: detail(1), actions: [{type: 'help'}, {type: 'closeHelp'}], expected: {overlay: {kind: 'none'}, screen: 'detail'}},

	// The grid's order (the orders themselves: row-order.test.ts).
	{name: 's sorts by status, keeping the selected row', state: at(4), actions: [{type: 'sort'}], expected: {sort: 'status', selectedId: 'b.test|k3'}},
	{name: 'p shows problems only, keeping the selection', state: at(4), actions: [{type: 'problems'}], expected: {problemsOnly: true, selectedId: 'b.test|k3'}},
	{name: 'p again shows every host, in the same order', actions: [{type: 'sort'}, {type: 'problems'}, {type: 'problems'}], expected: {problemsOnly: false, sort: 'status'}},
	{name: 's five times comes back to the configured order', actions: Array.from({length: 5}, () => ({type: 'sort'}) as const), expected: {sort: 'configured'}},

	// Taking data away: w, W and y (the controller does the I/O and answers with a notice).
	{name: 'w saves the open host\'s transcript', state: detail(4), actions: [{type: 'save'}], effects: [{type: 'saveTranscript', key: 'k3'}]},
	{name: 'y on the Transcript pane copies the transcript', state: detail(4, {pane: 1}), actions: [{type: 'copy'}], effects: [{type: 'copy', key: 'k3', what: 'transcript'}]},
	{name: 'y on the Certificates pane copies the fingerprint', state: detail(4, {pane: 2}), actions: [{type: 'copy'}], effects: [{type: 'copy', key: 'k3', what: 'fingerprint'}]},
	{name: 'w on a domain\'s screen saves nothing and says why', state: detail(3), actions: [{type: 'save'}], effects: [], expected: {notice: 'w saves a host\'s transcript: open a host'}},
	{name: 'W saves the report, saying so meanwhile', actions: [{type: 'saveReport'}], effects: [{type: 'saveReport'}], expected: {notice: 'saving the report…'}},
	{name: 'the notice is one sanitized line', actions: [{type: 'notice', text: 'not saved: a\nb\u001B'}], expected: {notice: 'not saved: a\\nb\\x1b'}},
	{name: 'the notice lasts until the next key', actions: [{type: 'notice', text: 'saved to /x'}, down], expected: {notice: ''}},
];

describe('the dashboard reducer', () => {
	it.each(cases)('$name', ({state = initialState, actions, view: more, expected, effects, selected}) => {
		const frame = {...view, ...more};
		const result = run(state, actions, frame);
		if (expected) {
			expect(result.state).toMatchObject(expected);
		}

		if (effects) {
			expect(result.effects).toEqual(effects);
		}

		if (selected !== undefined) {
			expect(selectedIndex(result.state, frame.rows)).toBe(selected);
		}
	});

	it('is pure: the state it was given is left as it was', () => {
		const state = at(2, {overlay: {kind: 'add', text: 'c'}});
		const copy = structuredClone(state);
		for (const action of [down, typing('x'), {type: 'submit'}, {type: 'pane', index: 2}] satisfies DashboardAction[]) {
			reduce(state, action, view);
		}

		expect(state).toEqual(copy);
	});

	it('covers every action of the keymap and of the prompts', () => {
		const covered = new Set(cases.flatMap(item => item.actions.map(action => action.type)));
		const all: Array<DashboardAction['type']> = [
			'up', 'down', 'pageUp', 'pageDown', 'home', 'end', 'open', 'back', 'nextPane', 'previousPane', 'pane', 'reprobe', 'reprobeAll',
			'add', 'remove', 'filter', 'help', 'quit', 'sort', 'problems', 'type', 'erase', 'cancel', 'submit', 'confirm', 'scrollHelp', 'closeHelp', 'addFailed',
			'save', 'saveReport', 'copy', 'notice',
		];
		expect(all.filter(type => !covered.has(type))).toEqual([]);
	});
});

describe('the selection', () => {
	const selectedOn = at(4);

	it('follows its row when rows are added above it', () => {
		const more: ViewRow[] = [rows[0]!, {kind: 'host', id: 'a.test|k0', domain: 'a.test', key: 'k0'}, ...rows.slice(1)];
		expect(more[selectedIndex(selectedOn, more)]?.id).toBe('b.test|k3');
	});

	it('stays where it was when its row is gone', () => {
		expect(selectedIndex(selectedOn, rows.filter(row => row.domain !== 'b.test'))).toBe(4);
	});

	it('is cut to the last row when fewer rows are left', () => {
		expect(selectedIndex(at(7, {selectedId: 'gone'}), rows.slice(0, 3))).toBe(2);
	});

	it('is 0 with no rows', () => {
		expect(selectedIndex(selectedOn, [])).toBe(0);
	});

	it('keeps the grid window on the selection', () => {
		const cases: Array<[gridTopState: number, selected: number, rowCount: number, top: number]> = [
			[0, 0, 8, 0],
			[0, 5, 8, 2],
			[4, 2, 8, 2],
			[3, 4, 8, 3],
			[6, 1, 2, 1],
		];
		for (const [top, selected, rowCount, expected] of cases) {
			expect(gridTop({...initialState, gridTop: top}, rowCount, selected, 4), `top ${top}, selected ${selected}`).toBe(expected);
		}
	});

	it('scrolls a pane to its last body line', () => {
		expect(maxPaneTop(view)).toBe(7);
		expect(maxPaneTop({...view, paneLines: 0})).toBe(0);
	});
});

const noKey: Key = {
	upArrow: false, downArrow: false, leftArrow: false, rightArrow: false, pageDown: false, pageUp: false, home: false, end: false,
	return: false, escape: false, ctrl: false, shift: false, tab: false, backspace: false, delete: false, meta: false,
	super: false, hyper: false, capsLock: false, numLock: false,
};
const key = (flags: Partial<Key> = {}): Key => ({...noKey, ...flags});

describe('keys to actions', () => {
	const grid = initialState;
	const inDetail: DashboardState = {...initialState, screen: 'detail'};
	const prompt: DashboardState = {...initialState, overlay: {kind: 'add', text: ''}};
	const question: DashboardState = {...initialState, overlay: {kind: 'remove', domain: 'a.test'}};
	const help: DashboardState = {...initialState, overlay: {kind: 'help', top: 0}};
	const keyCases: Array<[name: string, state: DashboardState, input: string, key: Key, actions: DashboardAction[]]> = [
		['j in the grid', grid, 'j', key(), [{type: 'down'}]],
		['↑ in the grid', grid, '', key({upArrow: true}), [{type: 'up'}]],
		['Enter in the grid', grid, '', key({return: true}), [{type: 'open'}]],
		['Enter in the detail screen', inDetail, '', key({return: true}), []],
		['3 in the detail screen', inDetail, '3', key(), [{type: 'pane', index: 2}]],
		['3 in the grid', grid, '3', key(), []],
		['Tab in the detail screen', inDetail, '', key({tab: true}), [{type: 'nextPane'}]],
		['Shift-Tab in the detail screen', inDetail, '', key({tab: true, shift: true}), [{type: 'previousPane'}]],
		['a in the grid', grid, 'a', key(), [{type: 'add'}]],
		['s in the grid', grid, 's', key(), [{type: 'sort'}]],
		['s in the detail screen', inDetail, 's', key(), []],
		['p in the grid', grid, 'p', key(), [{type: 'problems'}]],
		['Ctrl-C in the grid', grid, 'c', key({ctrl: true}), [{type: 'quit'}]],
		['a letter in a prompt', prompt, 'q', key(), [{type: 'type', text: 'q'}]],
		['a paste in a prompt', prompt, 'c.test\r', key(), [{type: 'type', text: 'c.test\r'}]],
		['Enter in a prompt', prompt, '', key({return: true}), [{type: 'submit'}]],
		['Backspace in a prompt', prompt, '', key({backspace: true}), [{type: 'erase'}]],
		['Esc in a prompt', prompt, '', key({escape: true, meta: true}), [{type: 'cancel'}]],
		['Ctrl-C in a prompt', prompt, 'c', key({ctrl: true}), [{type: 'quit'}]],
		['another Ctrl key in a prompt', prompt, 'u', key({ctrl: true}), []],
		['y to the question', question, 'y', key(), [{type: 'confirm', yes: true}]],
		['n to the question', question, 'n', key(), [{type: 'confirm', yes: false}]],
		['any other key to the question', question, 'x', key(), [{type: 'confirm', yes: false}]],
		['↓ in the help', help, '', key({downArrow: true}), [{type: 'scrollHelp', by: 1}]],
		['↑ in the help', help, '', key({upArrow: true}), [{type: 'scrollHelp', by: -1}]],
		['another key in the help', help, 'x', key(), [{type: 'closeHelp'}]],
		['Ctrl-C in the help', help, 'c', key({ctrl: true}), [{type: 'closeHelp'}, {type: 'quit'}]],
	];

	it.each(keyCases)('%s', (_name, state, input, flags, actions) => {
		expect(keyActions(state, input, flags)).toEqual(actions);
	});

	it('splits a run of keys, a carriage return among them as Enter', () => {
		expect(splitKeys(grid.overlay, 'jk\r', key()).map(item => [item.input, item.key.return])).toEqual([['j', false], ['k', false], ['\r', true]]);
		expect(splitKeys(help.overlay, 'xj', key())).toHaveLength(2);
	});

	it('keeps a run whole in a text prompt, and with a modifier', () => {
		expect(splitKeys(prompt.overlay, 'c.test', key())).toEqual([{input: 'c.test', key: key()}]);
		expect(splitKeys(grid.overlay, 'jj', key({meta: true}))).toHaveLength(1);
	});
});

describe('the dashboard store', () => {
	function setup() {
		const controller = {
			reprobe: vi.fn<Controller['reprobe']>(),
			reprobeAll: vi.fn<Controller['reprobeAll']>(),
			addDomain: vi.fn<Controller['addDomain']>((input: string) => (input.includes(' ') ? 'not a valid domain name' : undefined)),
			removeDomain: vi.fn<Controller['removeDomain']>(),
			quit: vi.fn<Controller['quit']>(),
		} satisfies Controller;
		const exit = vi.fn<() => void>();
		const store = createDashboardStore({controller, viewFor: () => view, exit});
		return {controller, exit, store};
	}

	it('reads each key of a run by the state the one before left', () => {
		const {store, controller} = setup();
		// Down twice, open the add prompt, type, submit: all before any frame.
		store.onKey('jjac.test\r', key());
		expect(controller.addDomain).toHaveBeenCalledWith('c.test');
		expect(store.get()).toMatchObject({selectedId: 'a.test|k2', overlay: {kind: 'none'}});
	});

	it('builds on the latest state when keys come one by one before a frame', () => {
		const {store} = setup();
		// Four: the b.test domain row (the third) opens the domain, its host row the host.
		for (let index = 0; index < 4; index++) {
			store.onKey('', key({downArrow: true}));
		}

		store.onKey('', key({return: true}));
		expect(store.get()).toMatchObject({screen: 'detail', selectedId: 'b.test|k3'});
	});

	it('opens the add prompt again with the refusal', () => {
		const {store, controller} = setup();
		store.onKey('a', key());
		store.onKey('bad domain', key());
		store.onKey('', key({return: true}));
		expect(controller.addDomain).toHaveBeenCalledWith('bad domain');
		expect(store.get().overlay).toEqual({kind: 'add', text: 'bad domain', error: 'not a valid domain name'});
	});

	it('removes, re-probes and quits through the controller', () => {
		const {store, controller, exit} = setup();
		store.onKey('dy', key());
		expect(controller.removeDomain).toHaveBeenCalledWith('a.test');
		store.onKey('jr', key());
		expect(controller.reprobe).toHaveBeenCalledWith(['k1']);
		store.onKey('R', key({shift: true}));
		expect(controller.reprobeAll).toHaveBeenCalledOnce();
		store.onKey('q', key());
		expect(controller.quit).toHaveBeenCalledOnce();
		expect(exit).toHaveBeenCalledOnce();
	});

	it('tells its listeners when the state changes, and only then', () => {
		const {store} = setup();
		const listener = vi.fn<() => void>();
		const unsubscribe = store.subscribe(listener);
		store.onKey('j', key());
		store.onKey('R', key({shift: true}));
		expect(listener).toHaveBeenCalledOnce();
		unsubscribe();
		store.onKey('j', key());
		expect(listener).toHaveBeenCalledOnce();
	});
});
