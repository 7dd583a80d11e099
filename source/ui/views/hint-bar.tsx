import {Text} from 'ink';
import {fit} from '../format.js';
import {hintList} from '../keymap.js';
import type {Action, Screen} from '../keymap.js';
import type {Theme} from '../theme.js';

export type HintBarProps = {screen: Screen; width: number; extra: string; theme: Theme};

/** Kept while any other hint can go: what the rest of the keys are, and how to leave. */
const essential: ReadonlySet<Action> = new Set(['help', 'quit']);

/**
 * The hints that fit in `room` columns, each whole: a hint cut mid-word ("q qu…") says
 * nothing. The last-listed go first, `? help` and `q quit` only when nothing else is left.
 */
export function fittingHints(items: ReadonlyArray<{action: Action; hint: string}>, room: number): string {
	const shown = [...items];
	const text = (): string => ` ${shown.map(item => item.hint).join(' ')}`;
	while (shown.length > 0 && [...text()].length > room) {
		const last = shown.findLastIndex(item => !essential.has(item.action));
		shown.splice(last === -1 ? 0 : last, 1);
	}

	return shown.length > 0 ? text() : '';
}

/** The bottom line: the keymap's hints for this screen, and `extra` (position, filter) at the right. */
export function HintBar({screen, width, extra, theme}: HintBarProps) {
	const room = Math.max(0, width - [...extra].length - 2);
	return <Text color={theme.color('muted')} wrap="truncate">{fit(fittingHints(hintList(screen), room), room)} {extra} </Text>;
}
