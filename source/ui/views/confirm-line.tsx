import {Text} from 'ink';
import {sanitize} from '../../core/sanitize.js';
import {fit} from '../format.js';
import type {Theme} from '../theme.js';

export type ConfirmLineProps = {question: string; width: number; theme: Theme};

/** The remove question in the footer (saved-list.ts words it). */
export function ConfirmLine({question, width, theme}: ConfirmLineProps) {
	return <Text wrap="truncate" color={theme.color('warning')}>{fit(` ${sanitize(question)} y/n`, width)}</Text>;
}
