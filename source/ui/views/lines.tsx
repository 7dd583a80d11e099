import {Box, Text} from 'ink';
import {fit} from '../format.js';
import type {SearchView} from '../pane-search.js';
import type {Line} from '../panes.js';
import type {Theme} from '../theme.js';

export type LinesProps = {lines: Line[]; top: number; height: number; width: number; theme: Theme; search?: SearchView};

/**
 * A window of `height` lines from `top`: only those are rendered. While a search is on, a
 * gutter marks its matches with the selection glyph (so NO_COLOR still shows them) and the
 * current match is inverse, as the grid's selection is.
 */
export function Lines({lines, top, height, width, theme, search}: LinesProps) {
	return (
		<Box flexDirection="column" height={height}>
			{lines.slice(top, top + height).map((line, offset) => {
				const index = top + offset;
				const current = search?.current === index;
				const text = search ? `${search.matches.has(index) ? theme.glyph.select : ' '} ${fit(line.text, width - 2)}` : fit(line.text, width);
				// No-break spaces: Ink trims trailing spaces, and the highlight must span the line.
				return <Text key={offset} bold={line.bold} inverse={current} color={line.tone ? theme.color(line.tone) : undefined} wrap="truncate">{current ? text.replace(/ +$/, spaces => '\u00A0'.repeat(spaces.length)) : text}</Text>;
			})}
		</Box>
	);
}
