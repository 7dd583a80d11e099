import {Text, Transform} from 'ink';
import type {Theme} from './theme.js';

/**
 * Ink measures every text node's width at every frame (string-width): printable ASCII takes a
 * fast path, anything else a grapheme segmenter and an emoji test per character. A stage cell
 * with its ✓ or spinner took the slow path: a quarter of a 160-column frame's CPU. Our own
 * cells go to Ink with each of our glyphs as an ASCII stand-in, put back as Ink writes the line
 * (a Transform runs after the measuring); every glyph is one column wide, like its stand-in.
 * A text with a stand-in character of its own, or any other non-ASCII, goes as it is.
 */
const standIns = '"#$&\'*<=>?@^_`{|}~';
const printable = /^[\u0020-\u007E]*$/;

type Codec = {encode(text: string): string | undefined; decode(line: string): string};

const codecs = new WeakMap<Theme, Codec>();

function codecOf(theme: Theme): Codec {
	let codec = codecs.get(theme);
	if (!codec) {
		const glyphs = [...new Set([...Object.values(theme.glyph), ...theme.spinner, '…'])].filter(glyph => glyph.length === 1 && !printable.test(glyph)).slice(0, standIns.length);
		const toStandIn = new Map(glyphs.map((glyph, index) => [glyph, standIns[index]!]));
		const toGlyph = new Map(glyphs.map((glyph, index) => [standIns[index]!, glyph]));
		const anyGlyph = new RegExp(`[${glyphs.join('')}]`, 'g');
		const standInClass = `[${[...toGlyph.keys()].map(char => `\\${char}`).join('')}]`;
		const hasStandIn = new RegExp(standInClass);
		const anyStandIn = new RegExp(standInClass, 'g');
		codec = {
			encode(text) {
				if (glyphs.length === 0 || hasStandIn.test(text)) {
					return undefined;
				}

				const encoded = text.replace(anyGlyph, glyph => toStandIn.get(glyph)!);
				return encoded !== text && printable.test(encoded) ? encoded : undefined;
			},
			decode: line => line.replace(anyStandIn, char => toGlyph.get(char)!),
		};
		codecs.set(theme, codec);
	}

	return codec;
}

/** One cell of our own text (no server text in it), coloured, cheap for Ink to measure. */
export function GlyphText({text, color, inverse, theme}: {text: string; color: string | undefined; inverse: boolean; theme: Theme}) {
	const codec = codecOf(theme);
	const encoded = codec.encode(text);
	return encoded === undefined
		? <Text inverse={inverse} color={color} wrap="truncate">{text}</Text>
		: <Transform transform={codec.decode}><Text inverse={inverse} color={color}>{encoded}</Text></Transform>;
}
