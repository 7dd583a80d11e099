import {Text} from 'ink';
import {sanitize} from '../../core/sanitize.js';
import {fit} from '../format.js';
import type {Theme} from '../theme.js';

export type TextPromptLineProps = {label: string; text: string; error?: string; width: number; theme: Theme};

/** The add or filter prompt in the footer: label, typed text, a cursor, and a refusal in red. */
export function TextPromptLine({label, text, error, width, theme}: TextPromptLineProps) {
	const refusal = error ? `  ${error}` : '';
	return <Text wrap="truncate" color={refusal ? theme.color('critical') : undefined}>{fit(` ${label}${sanitize(text)}_${refusal}`, width)}</Text>;
}
