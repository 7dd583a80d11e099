import {describe, expect, it} from 'vitest';
import {defaultLimits} from '../../source/core/limits.js';
import {InternTable} from '../../source/core/intern-table.js';
import {parseEhlo} from '../../source/core/smtp/machine.js';
import {ReplyReader} from '../../source/core/smtp/reply-reader.js';
import type {Reply} from '../../source/core/types.js';

function replyOf(text: string): Reply {
	const output = new ReplyReader(defaultLimits).feed(Buffer.from(text)).find(item => item.type === 'reply');
	if (output?.type !== 'reply') {
		throw new Error(`no reply in ${JSON.stringify(text)}`);
	}

	return output.reply;
}

describe('one copy kept of what many servers say alike', () => {
	it('makes a value once per key, and starts again past its bound', () => {
		const table = new InternTable<{n: number}>(2);
		let made = 0;
		const make = () => ({n: ++made});
		const first = table.get('a', make);
		expect(table.get('a', make)).toBe(first);
		table.get('b', make);
		table.get('c', make);
		expect(table.get('a', make)).not.toBe(first);
		expect(made).toBe(4);
	});

	it('gives two sessions reading the same reply one Reply, and one EHLO parse; a reply with a violation its own', () => {
		const ehlo = '250-mx.example\r\n250-PIPELINING\r\n250 STARTTLS\r\n';
		expect(replyOf(ehlo)).toBe(replyOf(ehlo));
		expect(replyOf(ehlo)).not.toBe(replyOf('250-mx.example\r\n250 PIPELINING\r\n'));
		expect(parseEhlo(replyOf(ehlo))).toBe(parseEhlo(replyOf(ehlo)));
		expect(parseEhlo(replyOf(ehlo)).extensions.map(item => item.keyword)).toEqual(['PIPELINING', 'STARTTLS']);
		const nul = '220 mx\u0000.example ESMTP\r\n';
		expect(replyOf(nul).violation).toBeDefined();
		expect(replyOf(nul)).not.toBe(replyOf(nul));
	});
});
