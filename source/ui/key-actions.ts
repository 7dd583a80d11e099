import type {Key} from 'ink';
import type {DashboardAction, DashboardState, Overlay} from './dashboard-state.js';
import {isTextPrompt} from './dashboard-state.js';
import {actionFor} from './keymap.js';
import type {Screen} from './keymap.js';

/**
 * Keys to reducer actions, one mapping for the main keys and one for each prompt. Pure: the
 * input hook and the prompts' own `useInput`s hand every key to `keyActions`, which picks the
 * mapping by the latest state.
 */

const isCtrlC = (input: string, key: Key): boolean => key.ctrl && input === 'c';

/** The grid and detail keys, from the keymap. */
export function mainKeyActions(screen: Screen, input: string, key: Key): DashboardAction[] {
	const action = actionFor(screen, input, key);
	if (!action) {
		return [];
	}

	return [action === 'pane' ? {type: 'pane', index: Number(input) - 1} : {type: action}];
}

/** The add, filter and search prompts: text, Backspace, Enter, Esc; Ctrl-C still quits. */
export function textPromptKeyActions(input: string, key: Key): DashboardAction[] {
	if (isCtrlC(input, key)) {
		return [{type: 'quit'}];
	}

	if (key.escape) {
		return [{type: 'cancel'}];
	}

	if (key.backspace || key.delete) {
		return [{type: 'erase'}];
	}

	// Backspaces in one chunk (a held key, SSH): one erase each. A DEL inside pasted text is
	// dropped with the other control characters instead.
	if (/^[\u007F\b]+$/.test(input)) {
		return [...input].map(() => ({type: 'erase'}));
	}

	if (key.return) {
		return [{type: 'submit'}];
	}

	// A pasted line break submits even with a modifier set; other modified keys type nothing.
	return /[\r\n]/.test(input) || (!key.ctrl && !key.meta) ? [{type: 'type', text: input}] : [];
}

/** The remove question: y removes, any other key keeps the domain. */
export function confirmKeyActions(input: string): DashboardAction[] {
	return [{type: 'confirm', yes: input === 'y'}];
}

/** The help: ↑↓ scroll, any other key closes it (Ctrl-C closes it and quits). */
export function helpKeyActions(input: string, key: Key): DashboardAction[] {
	if (key.upArrow || key.downArrow) {
		return [{type: 'scrollHelp', by: key.downArrow ? 1 : -1}];
	}

	return isCtrlC(input, key) ? [{type: 'closeHelp'}, {type: 'quit'}] : [{type: 'closeHelp'}];
}

/** What one key means in this state: whoever is listening, the latest overlay decides. */
export function keyActions(state: DashboardState, input: string, key: Key): DashboardAction[] {
	switch (state.overlay.kind) {
		case 'help': {
			return helpKeyActions(input, key);
		}

		case 'remove': {
			return confirmKeyActions(input);
		}

		case 'add':
		case 'filter':
		case 'search': {
			return textPromptKeyActions(input, key);
		}

		case 'none': {
			return mainKeyActions(state.screen, input, key);
		}
	}
}

/**
 * Keys typed faster than they are read come as one run of text ("jjj"): one key each, a
 * carriage return among them as Enter. In a text prompt a run is typed (or pasted) text.
 */
export function splitKeys(overlay: Overlay, input: string, key: Key): Array<{input: string; key: Key}> {
	const prompt = isTextPrompt(overlay);
	if (input.length > 1 && !prompt && !key.ctrl && !key.meta) {
		return [...input].map(char => ({input: char, key: {...key, return: char === '\r'}}));
	}

	return [{input, key}];
}
