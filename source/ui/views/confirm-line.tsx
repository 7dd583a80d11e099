import {Text} from 'ink';
import {sanitize} from '../../core/sanitize.js';
import {fit} from '../format.js';
import type {Theme} from '../theme.js';

export type ConfirmLineProps = {domain: string; width: number; theme: Theme};

/** The remove question in the footer. */
export function ConfirmLine({domain, width, theme}: ConfirmLineProps) {
	return <Text wrap="truncate" color={theme.color('warning')}>{fit(` Remove ${sanitize(domain)} from the saved list? y/n`, width)}</Text>;
}
