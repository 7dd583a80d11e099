import {Text} from 'ink';
import {sanitize} from '../../core/sanitize.js';
import {fit} from '../format.js';
import type {Theme} from '../theme.js';

export type TextPromptLineProps = {label: string; text: string; error?: string; note?: string; width: number; theme: Theme};

/**
 * The add or filter prompt in the footer: label, typed text, a cursor, and a refusal in red
 * (else a note on what Enter does).
 */
export function TextPromptLine({label, text, error, note, width, theme}: TextPromptLineProps) {
	const refusal = error ? `  ${error}` : '';
	const after = refusal || (note ? `  (${note})` : '');
	return <Text wrap="truncate" color={refusal ? theme.color('critical') : undefined}>{fit(` ${label}${sanitize(text)}_${after}`, width)}</Text>;
}
