import {describe, expect, it} from 'vitest';
import {isTerminalSafe, sanitize} from '../../source/core/sanitize.js';
import {ReplyReader} from '../../source/core/smtp/reply-reader.js';
import {decodeBytes} from '../../source/core/text.js';

/** A small deterministic PRNG, so a failing fuzz case can be replayed. */
function random(seed: number): () => number {
	let state = seed;
	return () => {
		state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
		return state / 2_147_483_648;
	};
}

const hostile = ['\u001B[2J', '\u001B]0;pwned\u0007', '\u001B]52;c;Zm9v\u0007', '\u001B]8;;http://x\u001B\\', '\u001BP+q\u001B\\', '\u009B31m', '\r', '\b', '\u007F', '\u202E', '\u2066', '\u200B', '\uFEFF', '\u0000', '\u2028'];

describe('sanitize', () => {
	it.each(hostile)('makes %j visible', sequence => {
		const out = sanitize(`a${sequence}b`);
		expect(isTerminalSafe(out)).toBe(true);
		expect(out.startsWith('a')).toBe(true);
		expect(out.length).toBeGreaterThan(2);
	});

	it('shows escapes in a readable form and keeps ordinary text', () => {
		expect(sanitize('220 mx\u001B[31m\r\n')).toBe('220 mx\\x1b[31m\\r\\n');
		expect(sanitize('x\u202Ey')).toBe('x\\u202ey');
		expect(sanitize('back\\slash')).toBe('back\\\\slash');
		expect(sanitize('Grüße 😀 ok')).toBe('Grüße 😀 ok');
		expect(sanitize(decodeBytes(Buffer.from([0x41, 0xFF, 0x9B])))).toBe('A\\xff\\x9b');
	});

	it('truncates with a visible marker', () => {
		expect(sanitize('abcdefghij', 5)).toBe('abcd…');
		expect(sanitize('abc', 5)).toBe('abc');
	});

	it('holds its invariants on random and mutated input (bounded fuzz)', () => {
		const next = random(42);
		for (let round = 0; round < 3000; round++) {
			const length = Math.floor(next() * 64);
			const bytes = Buffer.from(Array.from({length}, () => Math.floor(next() * 256)));
			const seeded = next() < 0.3 ? Buffer.concat([bytes, Buffer.from(hostile[Math.floor(next() * hostile.length)]!)]) : bytes;
			const text = decodeBytes(seeded);
			const max = 1 + Math.floor(next() * 80);
			const out = sanitize(text, max);
			expect(isTerminalSafe(out)).toBe(true);
			expect(out.length).toBeLessThanOrEqual(max);
		}
	});

	it('the reply reader never throws and stays bounded on random input (bounded fuzz)', () => {
		const next = random(7);
		const limits = {maxLineBytes: 256, maxReplyLines: 16, maxSessionBytes: 4096};
		const alphabet = ['250', '-', ' ', '\r\n', '\n', '220 ', '2', '5', 'x', '\0', '\u00FF', '251-'];
		for (let round = 0; round < 2000; round++) {
			const reader = new ReplyReader(limits);
			let produced = 0;
			for (let chunk = 0; chunk < 20; chunk++) {
				const text = Array.from({length: Math.floor(next() * 40)}, () => alphabet[Math.floor(next() * alphabet.length)]!).join('');
				for (const output of reader.feed(Buffer.from(text, 'latin1'))) {
					produced++;
					if (output.type === 'reply') {
						expect(output.reply.lines.length).toBeLessThanOrEqual(limits.maxReplyLines);
						expect([2, 3, 4, 5]).toContain(Math.floor(output.reply.code / 100));
					}
				}
			}

			expect(reader.bytesRead).toBeLessThanOrEqual(limits.maxSessionBytes + 800);
			expect(produced).toBeLessThan(2000);
		}
	});
});
