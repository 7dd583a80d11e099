import {describe, expect, it} from 'vitest';
import type {DashboardAction, DashboardState, View} from '../../source/ui/dashboard-state.js';
import {initialState, reduce} from '../../source/ui/dashboard-state.js';
import {matchLabel, matchLines, revealTop, searchView, stepMatch} from '../../source/ui/pane-search.js';

/** The pane search: the pure matching, then the reducer's search actions as data. */

describe('matching', () => {
	it.each([
		[['EHLO a', 'x', 'ehlo b'], 'Ehlo', [0, 2]],
		[['EHLO a', 'x'], 'nothing', []],
		[['EHLO a'], '', []],
	])('matchLines(%j, %j) is %j', (lines, text, expected) => {
		expect(matchLines(lines, text)).toEqual(expected);
	});

	it.each([
		[0, 1, 3, 1], [2, 1, 3, 0], [0, -1, 3, 2], [1, -1, 3, 0], [0, 1, 0, 0],
	])('stepMatch(%i, %i, %i) is %i (wrapping)', (at, by, count, expected) => {
		expect(stepMatch(at, by, count)).toBe(expected);
	});

	it.each([
		[5, 0, 4, 5], [2, 0, 4, 0], [9, 3, 4, 9], [1, 3, 4, 1],
	])('revealTop(%i, top %i, height %i) is %i', (line, top, height, expected) => {
		expect(revealTop(line, top, height)).toBe(expected);
	});

	it('labels the current match, a pane that lost lines keeping its last, and no match', () => {
		expect(matchLabel({text: 'a', at: 1}, 5)).toBe('match 2 of 5');
		expect(matchLabel({text: 'a', at: 7}, 3)).toBe('match 3 of 3');
		expect(matchLabel({text: 'a', at: 0}, 0)).toBe('no match');
		expect(searchView({text: 'b', at: 1}, ['ab', 'c', 'B'])).toEqual({matches: new Set([0, 2]), current: 2, label: 'match 2 of 2'});
		expect(searchView(undefined, ['a'])).toBeUndefined();
	});
});

// Twenty lines, a match at 3, 12 and 18; a body of 6 rows shows 5 pane lines and scrolls to 15.
const paneText = Array.from({length: 20}, (_, index) => ([3, 12, 18].includes(index) ? `line ${index} STARTTLS` : `line ${index}`));
const view: View = {rows: [{kind: 'host', id: 'a|k', domain: 'a', key: 'k'}], bodyHeight: 6, paneLines: 20, helpLines: 10, paneText};
const detail: DashboardState = {...initialState, screen: 'detail', selectedId: 'a|k'};
const type = (text: string): DashboardAction => ({type: 'type', text});
const n: DashboardAction = {type: 'nextMatch'};
const search: DashboardAction = {type: 'search'};

function run(actions: DashboardAction[], start = detail): DashboardState {
	return actions.reduce((state, action) => reduce(state, action, view).state, start);
}

describe('the search in the reducer', () => {
	it.each<[string, DashboardAction[], Partial<DashboardState>]>([
		['/ opens the prompt, empty', [search], {overlay: {kind: 'search', text: '', before: undefined, paneTop: 0}}],
		['typing searches at once, case-insensitively, and scrolls to the first match', [search, type('starttls')], {search: {text: 'starttls', at: 0}, paneTop: 0}],
		['Enter keeps the search', [search, type('starttls'), {type: 'submit'}], {overlay: {kind: 'none'}, search: {text: 'starttls', at: 0}}],
		['n goes to the next match, scrolling to it', [search, type('starttls\r'), n], {search: {text: 'starttls', at: 1}, paneTop: 12}],
		['n after the last match wraps to the first', [search, type('starttls\r'), n, n, n], {search: {text: 'starttls', at: 0}, paneTop: 3}],
		['N from the first match wraps to the last', [search, type('starttls\r'), {type: 'previousMatch'}], {search: {text: 'starttls', at: 2}, paneTop: 15}],
		['no match leaves the scroll alone', [{type: 'down'}, search, type('nothing\r')], {search: {text: 'nothing', at: 0}, paneTop: 1}],
		['erasing the whole text ends the search', [search, type('s'), {type: 'erase'}], {search: undefined}],
		['Esc in the prompt restores the search and scroll before it', [search, type('starttls\r'), n, search, type('line'), {type: 'cancel'}], {search: {text: 'starttls', at: 1}, paneTop: 12, overlay: {kind: 'none'}}],
		['Esc on the detail screen ends the search, staying on the pane', [search, type('starttls\r'), {type: 'back'}], {search: undefined, screen: 'detail'}],
		['Esc again goes back to the grid', [search, type('starttls\r'), {type: 'back'}, {type: 'back'}], {screen: 'grid'}],
		['a pane change ends the search', [search, type('starttls\r'), {type: 'nextPane'}], {search: undefined, pane: 1}],
		['a pane by number ends the search too', [search, type('starttls\r'), {type: 'pane', index: 3}], {search: undefined, pane: 3}],
		['n without a search does nothing', [n], {paneTop: 0, overlay: {kind: 'none'}}],
	])('%s', (_name, actions, expected) => {
		expect(run(actions)).toMatchObject(expected);
	});

	it('ends the search on Esc without leaving, then leaves', () => {
		const searched = run([search, type('starttls\r')]);
		expect(searched.search).toBeDefined();
		expect(run([{type: 'back'}], searched).search).toBeUndefined();
	});
});
