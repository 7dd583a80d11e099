import {useInput} from 'ink';
import type {Key} from 'ink';
import type {Theme} from '../theme.js';
import {TextPromptLine} from '../views/text-prompt-line.js';

export type TextPromptProps = {
	label: string;
	text: string;
	error?: string;
	/** Said after the cursor while there is no error. */
	note?: string;
	width: number;
	theme: Theme;
	isActive: boolean;
	/**
	 * The dashboard's key handler: it reads each key by the latest state, so a key that comes
	 * before this prompt has started listening, or after it closed, still lands right.
	 */
	onKey: (input: string, key: Key) => void;
};

/** The add or filter prompt: listens while active (its keys: key-actions.ts), shows the line. */
export function TextPrompt({label, text, error, note, width, theme, isActive, onKey}: TextPromptProps) {
	useInput(onKey, {isActive});
	return <TextPromptLine label={label} text={text} width={width} theme={theme} {...(error ? {error} : {})} {...(note ? {note} : {})}/>;
}
