import type {Key} from 'ink';

export type Screen = 'grid' | 'detail';

export type Action =
	| 'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end'
	| 'open' | 'back' | 'nextPane' | 'previousPane' | 'pane'
	| 'reprobe' | 'reprobeAll' | 'scanTls' | 'add' | 'remove' | 'filter' | 'help' | 'quit' | 'sort' | 'problems'
	| 'search' | 'nextMatch' | 'previousMatch'
	| 'save' | 'saveReport' | 'copy';

type Binding = {action: Action; keys: string; hint: string; description: string; screens: Screen[]; match: (input: string, key: Key) => boolean};

/**
 * The one keymap: it drives the input handling, the hint bar, the `?` help and the README's
 * key table (a test keeps the README in step).
 */
export const keymap: Binding[] = [
	{action: 'up', keys: '↑ / k', hint: '↑↓', description: 'move up (grid) or scroll up (pane)', screens: ['grid', 'detail'], match: (input, key) => key.upArrow || input === 'k'},
	{action: 'down', keys: '↓ / j', hint: '', description: 'move down (grid) or scroll down (pane)', screens: ['grid', 'detail'], match: (input, key) => key.downArrow || input === 'j'},
	{action: 'pageUp', keys: 'PgUp', hint: '', description: 'one page up', screens: ['grid', 'detail'], match: (_input, key) => key.pageUp},
	{action: 'pageDown', keys: 'PgDn', hint: '', description: 'one page down', screens: ['grid', 'detail'], match: (_input, key) => key.pageDown},
	{action: 'home', keys: 'Home / g', hint: '', description: 'to the top', screens: ['grid', 'detail'], match: (input, key) => key.home || input === 'g'},
	{action: 'end', keys: 'End / G', hint: '', description: 'to the bottom', screens: ['grid', 'detail'], match: (input, key) => key.end || input === 'G'},
	{action: 'open', keys: 'Enter', hint: 'Enter open', description: 'open the selected host, or the domain (its MX plan and findings)', screens: ['grid'], match: (_input, key) => key.return},
	{action: 'nextPane', keys: 'Tab', hint: 'Tab pane', description: 'next pane', screens: ['detail'], match: (_input, key) => key.tab && !key.shift},
	{action: 'previousPane', keys: 'Shift-Tab', hint: '', description: 'previous pane', screens: ['detail'], match: (_input, key) => key.tab && key.shift},
	{action: 'pane', keys: '1–5', hint: '1-5', description: 'Summary, Transcript, Certificates, Findings, Policy pane', screens: ['detail'], match: input => /^[1-5]$/.test(input)},
	{action: 'back', keys: 'Esc', hint: 'Esc back', description: 'back (ending a search first); in the grid, clear the filter', screens: ['grid', 'detail'], match: (_input, key) => key.escape},
	{action: 'reprobe', keys: 'r', hint: 'r/R probe', description: 're-probe the selected host (on a domain row: its hosts)', screens: ['grid', 'detail'], match: input => input === 'r'},
	{action: 'reprobeAll', keys: 'R', hint: '', description: 're-probe everything now', screens: ['grid', 'detail'], match: input => input === 'R'},
	{action: 'scanTls', keys: 't', hint: '', description: 'scan TLS versions of the selected host (result: Policy pane)', screens: ['grid', 'detail'], match: input => input === 't'},
	{action: 'add', keys: 'a', hint: 'a add', description: 'add a domain (to the saved list too)', screens: ['grid'], match: input => input === 'a'},
	{action: 'remove', keys: 'd', hint: 'd del', description: 'remove the selected domain (from the saved list too)', screens: ['grid'], match: input => input === 'd'},
	{action: 'filter', keys: '/', hint: '/ filter', description: 'filter rows by domain, host or address', screens: ['grid'], match: input => input === '/'},
	// On the detail screen `/` searches the pane: there are no rows to filter.
	{action: 'search', keys: '/', hint: '/ search', description: 'search the open pane (as typed; Enter keeps it, Esc cancels)', screens: ['detail'], match: input => input === '/'},
	{action: 'nextMatch', keys: 'n', hint: 'n/N match', description: 'next match of the search (wrapping)', screens: ['detail'], match: input => input === 'n'},
	{action: 'previousMatch', keys: 'N', hint: '', description: 'previous match of the search (wrapping)', screens: ['detail'], match: input => input === 'N'},
	{action: 'sort', keys: 's', hint: 's sort', description: 'sort: configured, status, cert days, total time, host name', screens: ['grid'], match: input => input === 's'},
	{action: 'problems', keys: 'p', hint: 'p problems', description: 'problems only: hide the hosts that are ok (again: show them)', screens: ['grid'], match: input => input === 'p'},
	{action: 'save', keys: 'w', hint: 'w save', description: 'save the host\'s transcript as text to a new file here', screens: ['detail'], match: input => input === 'w'},
	{action: 'saveReport', keys: 'W', hint: 'W report', description: 'save the whole report as JSON to a new file here', screens: ['grid', 'detail'], match: input => input === 'W'},
	{action: 'copy', keys: 'y', hint: 'y copy', description: 'copy (OSC 52) the transcript; on Certificates, the leaf\'s SHA-256', screens: ['detail'], match: input => input === 'y'},
	{action: 'help', keys: '?', hint: '? help', description: 'show this help', screens: ['grid', 'detail'], match: input => input === '?'},
	{action: 'quit', keys: 'q / Ctrl-C', hint: 'q quit', description: 'quit, restoring the terminal', screens: ['grid', 'detail'], match: (input, key) => input === 'q' || (key.ctrl && input === 'c')},
];

export function actionFor(screen: Screen, input: string, key: Key): Action | undefined {
	return keymap.find(binding => binding.screens.includes(screen) && binding.match(input, key))?.action;
}

/** The hint bar's hints for this screen, in keymap order, each with its action. */
export function hintList(screen: Screen): Array<{action: Action; hint: string}> {
	return keymap.filter(binding => binding.hint && binding.screens.includes(screen) && !(screen === 'grid' && binding.action === 'back')).map(({action, hint}) => ({action, hint}));
}

export function hints(screen: Screen): string {
	return hintList(screen).map(item => item.hint).join(' ');
}
