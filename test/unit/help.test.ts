import {describe, expect, it} from 'vitest';
import {stageColumns} from '../../source/ui/format.js';
import {helpLines, legendLines} from '../../source/ui/help.js';
import {keymap} from '../../source/ui/keymap.js';
import {makeTheme} from '../../source/ui/theme.js';

/** The `?` help's legend as data: every glyph, colour, count and column, in the theme's forms. */

const colours = makeTheme({noColor: false, ascii: false});
const plain = makeTheme({noColor: true});
const ascii = makeTheme({ascii: true});
const text = (lines: ReturnType<typeof legendLines>): string => lines.map(line => line.text).join('\n');
const labelled = (lines: ReturnType<typeof legendLines>, label: string): boolean => lines.some(line => line.text.startsWith(`  ${label} `));

describe('the legend', () => {
	it.each([['Unicode', colours], ['ASCII', ascii]] as const)('explains every glyph of the %s theme, the spinner too', (_name, theme) => {
		const lines = legendLines(theme);
		const {glyph} = theme;
		for (const mark of [glyph.ok, glyph.warning, glyph.critical, glyph.info, glyph.skipped, glyph.pending, glyph.changed, glyph.select]) {
			expect(labelled(lines, mark), mark).toBe(true);
		}

		expect(labelled(lines, theme.spinner.slice(0, 4).join(''))).toBe(true);
		expect(text(lines)).toContain(`${glyph.critical}N ${glyph.warning}N ${glyph.info}N`);
	});

	it('shows no Unicode glyph under --ascii', () => {
		expect(text(legendLines(ascii))).not.toMatch(/[✓✗–·◆›⠋⠙⠹⠸]/);
	});

	it('names the colours, and tones each glyph in its own, only where colours are shown', () => {
		const lines = legendLines(colours);
		expect(lines.find(line => line.text.startsWith('  ✓ '))).toMatchObject({tone: 'ok', text: expect.stringContaining('(green)')});
		expect(lines.find(line => line.text.startsWith('  ✗ '))).toMatchObject({tone: 'critical', text: expect.stringContaining('(red)')});
		expect(text(lines)).toContain('Glyphs and colours');
		for (const theme of [plain, ascii]) {
			expect(text(legendLines(theme))).not.toMatch(/\((?:green|yellow|red|blue|gray|cyan)\)|colours/);
		}
	});

	it('explains every grid column, by the title the grid gives it', () => {
		const lines = legendLines(colours);
		for (const title of ['MX host', 'Address', ...stageColumns.map(column => column.title), 'Total']) {
			expect(labelled(lines, title), title).toBe(true);
		}
	});

	it('comes after the key list, and every line fits 80 columns', () => {
		for (const theme of [colours, plain, ascii]) {
			const lines = helpLines(theme);
			expect(lines.slice(1, keymap.length + 1).map(line => line.text.trim().split(/\s+/)[0])).toEqual(keymap.map(binding => binding.keys.split(' ')[0]));
			expect(lines.length).toBe(keymap.length + 1 + legendLines(theme).length);
			for (const line of lines) {
				expect([...line.text].length, line.text).toBeLessThanOrEqual(80);
			}
		}
	});
});
