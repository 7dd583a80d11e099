import {describe, expect, it} from 'vitest';
import {ReplyReader} from '../../source/core/smtp/reply-reader.js';
import type {ReaderOutput} from '../../source/core/smtp/reply-reader.js';
import {defaultLimits} from '../../source/core/limits.js';

const limits = {maxLineBytes: defaultLimits.maxLineBytes, maxReplyLines: defaultLimits.maxReplyLines, maxSessionBytes: defaultLimits.maxSessionBytes};

function readAll(chunks: Array<string | Buffer>, custom = limits): ReaderOutput[] {
	const reader = new ReplyReader(custom);
	return chunks.flatMap(chunk => reader.feed(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, 'latin1')));
}

const replies = (outputs: ReaderOutput[]) => outputs.flatMap(output => (output.type === 'reply' ? [output.reply] : []));
const errors = (outputs: ReaderOutput[]) => outputs.flatMap(output => (output.type === 'error' ? [output.code] : []));

describe('ReplyReader', () => {
	it('reads a multi-line reply split anywhere, with CRLF or bare LF', () => {
		const text = '250-mx.example.test hello\r\n250-PIPELINING\n250-SIZE 10240000\r\n250 STARTTLS\r\n';
		for (let cut = 1; cut < text.length; cut++) {
			const [reply] = replies(readAll([text.slice(0, cut), text.slice(cut)]));
			expect(reply).toEqual({code: 250, lines: ['mx.example.test hello', 'PIPELINING', 'SIZE 10240000', 'STARTTLS'], text: 'mx.example.test hello\nPIPELINING\nSIZE 10240000\nSTARTTLS'});
		}
	});

	it('accepts a bare code as the last line and reports what follows the reply', () => {
		const outputs = readAll(['250\r\n220 go\r\nrest']);
		expect(replies(outputs).map(reply => reply.code)).toEqual([250, 220]);
		const last = outputs.filter(output => output.type === 'reply').at(-1);
		expect(last?.type === 'reply' && last.rest).toBe(4);
	});

	it.each([
		['two-digit code', '25 ok\r\n', 'bad-reply'],
		['four-digit code', '2500 ok\r\n', 'bad-reply'],
		['garbage', 'hello there\r\n', 'bad-reply'],
		['a 1xx or 6xx code', '150 ok\r\n', 'bad-reply'],
		['a code change mid-reply', '250-a\r\n251 b\r\n', 'code-changed'],
		// A NUL in a line with a code is a noted violation (below); without a code it is fatal.
		['a NUL byte in a line without a code', '\x00220 a\r\n', 'nul-byte'],
	])('rejects %s', (_name, input, code) => {
		const outputs = readAll([input]);
		expect(errors(outputs)).toEqual([code]);
		expect(replies(outputs)).toEqual([]);
	});

	it('reads a reply with a NUL byte by its code, and notes the violation on that reply only', () => {
		const outputs = readAll(['554-5.7.1 no\0 service\r\n554 go away\r\n250 ok\r\n']);
		expect(errors(outputs)).toEqual([]);
		expect(replies(outputs)).toEqual([
			{code: 554, lines: ['5.7.1 no\0 service', 'go away'], text: '5.7.1 no\0 service\ngo away', violation: {error: 'nul-byte', detail: 'a NUL byte in a reply line'}},
			{code: 250, lines: ['ok'], text: 'ok'},
		]);
	});

	it('bounds a line without end', () => {
		const reader = new ReplyReader(limits);
		const out: ReaderOutput[] = [];
		for (let i = 0; i < 100 && errors(out).length === 0; i++) {
			out.push(...reader.feed(Buffer.alloc(100, 0x41)));
		}

		expect(errors(out)).toEqual(['line-too-long']);
		expect(reader.bytesRead).toBeLessThanOrEqual(limits.maxLineBytes + 100);
		expect(reader.feed(Buffer.from('250 ok\r\n'))).toEqual([]);
	});

	it('bounds the lines of one reply and the bytes of a session', () => {
		expect(errors(readAll(['250-x\r\n'.repeat(limits.maxReplyLines + 1)]))).toEqual(['reply-too-large']);
		const small = {...limits, maxSessionBytes: 64};
		expect(errors(readAll(['250 ok\r\n'.repeat(20)], small))).toEqual(['session-too-large']);
	});

	it('keeps invalid UTF-8 bytes exactly, as U+DC80+byte', () => {
		const [reply] = replies(readAll([Buffer.from([0x32, 0x32, 0x30, 0x20, 0xFF, 0xC3, 0xA9, 0x0D, 0x0A])]));
		expect(reply?.text).toBe('\uDCFFé');
	});
});
