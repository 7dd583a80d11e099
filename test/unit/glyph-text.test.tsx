import {Box, Text} from 'ink';
import {render} from 'ink-testing-library';
import {describe, expect, it} from 'vitest';
import {coloursOn} from '../helpers/colours.js';
import {GlyphText} from '../../source/ui/glyph-text.js';
import {makeTheme} from '../../source/ui/theme.js';

const theme = makeTheme();
// Our cells as the grid has them, and texts that must go as they are: a stand-in character of
// their own, another non-ASCII character, plain ASCII.
const texts = ['✓27ms ', '⠋ ', '· ', '✗refused… ', '–off ', 'a|b ✓ ', 'über ✓ ', '250 ok '];

function frameOf(cells: (text: string, index: number) => React.ReactNode): string {
	const app = render(<Box flexDirection="column">{texts.map((text, index) => <Box key={text}>{cells(text, index)}</Box>)}</Box>);
	const frame = app.lastFrame() ?? '';
	app.unmount();
	return frame;
}

describe('a cell of our own text, measured by Ink as ASCII', () => {
	coloursOn();

	it('draws the same characters and colours as a plain Text of it', () => {
		const plain = frameOf((text, index) => <Text inverse={index === 1} color={index % 2 === 0 ? 'green' : undefined} wrap="truncate">{text}</Text>);
		const glyphs = frameOf((text, index) => <GlyphText text={text} inverse={index === 1} color={index % 2 === 0 ? 'green' : undefined} theme={theme}/>);
		expect(glyphs).toBe(plain);
		expect(glyphs).toContain('✓27ms');
		expect(glyphs).toContain('a|b ✓');
		expect(glyphs).toContain('\u001B[32m✓27ms');
	});
});
