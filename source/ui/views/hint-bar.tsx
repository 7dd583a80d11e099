import {Text} from 'ink';
import {fit} from '../format.js';
import {hints} from '../keymap.js';
import type {Screen} from '../keymap.js';
import type {Theme} from '../theme.js';

export type HintBarProps = {screen: Screen; width: number; extra: string; theme: Theme};

/** The bottom line: the keymap's hints for this screen, and `extra` (position, filter) at the right. */
export function HintBar({screen, width, extra, theme}: HintBarProps) {
	const text = ` ${hints(screen)}`;
	const room = Math.max(0, width - extra.length - 2);
	return <Text color={theme.color('muted')} wrap="truncate">{fit(text, room)} {extra} </Text>;
}
