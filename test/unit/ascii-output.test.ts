import {PassThrough} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {asciiStream, asciiText} from '../../source/ui/ascii-output.js';

describe('the --ascii output stream', () => {
	it('turns the dashboard\'s own glyphs into ASCII of the same width, and leaves other text alone', () => {
		const own = ' ↑↓ Enter open  1–20 of 40  mx.a.te…  → EHLO  ← 250  \u00A0\u00A0 ┌──┬──┐ │ ✓ ✗ ◆ › · █';
		const ascii = asciiText(own);
		expect([...ascii].every(char => char.codePointAt(0)! <= 0x7E)).toBe(true);
		expect([...ascii]).toHaveLength([...own].length);
		expect(asciiText('bücher é \\u202e')).toBe('bücher é \\u202e');
	});

	it('writes through the stream it wraps, and keeps its size and its events', () => {
		const target = Object.assign(new PassThrough(), {columns: 93, rows: 17}) as unknown as NodeJS.WriteStream;
		const stream = asciiStream(target);
		const chunks: string[] = [];
		target.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
		stream.write('a…b');
		expect(chunks.join('')).toBe('a~b');
		expect([stream.columns, stream.rows]).toEqual([93, 17]);
		let resized = false;
		stream.on('resize', () => {
			resized = true;
		});
		target.emit('resize');
		expect(resized).toBe(true);
	});
});
