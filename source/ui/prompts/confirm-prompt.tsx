import {useInput} from 'ink';
import type {Key} from 'ink';
import type {Theme} from '../theme.js';
import {ConfirmLine} from '../views/confirm-line.js';

export type ConfirmPromptProps = {
	question: string;
	width: number;
	theme: Theme;
	isActive: boolean;
	/** The dashboard's key handler (see TextPrompt for why it is not the prompt's own). */
	onKey: (input: string, key: Key) => void;
};

/** The remove question: listens while active (y removes, any other key keeps), shows the line. */
export function ConfirmPrompt({question, width, theme, isActive, onKey}: ConfirmPromptProps) {
	useInput(onKey, {isActive});
	return <ConfirmLine question={question} width={width} theme={theme}/>;
}
