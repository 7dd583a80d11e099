import {Text} from 'ink';
import {fit} from '../format.js';
import type {Line} from '../panes.js';
import type {Theme} from '../theme.js';
import {Lines} from './lines.js';

export type HelpViewProps = {lines: Line[]; top: number; bodyHeight: number; width: number; theme: Theme};

/** The `?` help over the body, where the grid and its header were, and its footer line. */
export function HelpView({lines, top, bodyHeight, width, theme}: HelpViewProps) {
	const height = bodyHeight + 1;
	const more = lines.length > height ? `  ${top + 1}–${Math.min(lines.length, top + height)} of ${lines.length}` : '';
	return (
		<>
			<Lines lines={lines} top={top} height={height} width={width} theme={theme}/>
			<Text wrap="truncate" color={theme.color('muted')}>{fit(` any key: close help${more}`, width)}</Text>
		</>
	);
}
