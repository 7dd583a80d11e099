import {useInput} from 'ink';
import type {Key} from 'ink';
import {helpLines} from '../help.js';
import type {Theme} from '../theme.js';
import {HelpView} from '../views/help-view.js';

export type HelpOverlayProps = {
	top: number;
	bodyHeight: number;
	width: number;
	theme: Theme;
	isActive: boolean;
	/** The dashboard's key handler (see TextPrompt for why it is not the overlay's own). */
	onKey: (input: string, key: Key) => void;
};

/** The `?` help: listens while active (↑↓ scroll, any other key closes), shows the keymap and the legend. */
export function HelpOverlay({top, bodyHeight, width, theme, isActive, onKey}: HelpOverlayProps) {
	useInput(onKey, {isActive});
	return <HelpView lines={helpLines(theme)} top={top} bodyHeight={bodyHeight} width={width} theme={theme}/>;
}
