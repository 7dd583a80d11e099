import {Box, Text} from 'ink';
import {fit} from '../format.js';
import type {Line} from '../panes.js';
import type {Theme} from '../theme.js';

export type LinesProps = {lines: Line[]; top: number; height: number; width: number; theme: Theme};

/** A window of `height` lines from `top`: only those are rendered. */
export function Lines({lines, top, height, width, theme}: LinesProps) {
	return (
		<Box flexDirection="column" height={height}>
			{lines.slice(top, top + height).map((line, index) => (
				<Text key={index} bold={line.bold} color={line.tone ? theme.color(line.tone) : undefined} wrap="truncate">{fit(line.text, width)}</Text>
			))}
		</Box>
	);
}
