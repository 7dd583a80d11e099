import type {ProtocolError, Reply} from '../types.js';
import {InternTable} from '../intern-table.js';
import {decodeBytes} from '../text.js';

export type ReaderErrorCode = Exclude<ProtocolError, 'unexpected-reply' | 'out-of-step'>;

export type ReaderOutput =
	| {type: 'line'; text: string}
	| {type: 'reply'; reply: Reply; /** Bytes of this chunk that follow the reply. */ rest: number}
	| {type: 'error'; code: ReaderErrorCode; message: string};

export type ReaderLimits = {maxLineBytes: number; maxReplyLines: number; maxSessionBytes: number};

const lineShape = /^([2-5]\d\d)([ -]|$)/;

// The same reply from many servers (and sessions) is kept once: replies are never changed.
const sharedReplies = new InternTable<Reply>(2000);

/**
 * An incremental reader of RFC 5321 replies: CRLF or bare LF, exactly three-digit codes,
 * the same code on every line of a multi-line reply. Every dimension is bounded; after
 * the first error it reads nothing more.
 */
export class ReplyReader {
	private partial: Buffer[] = [];
	private partialBytes = 0;
	private lines: string[] = [];
	private code: string | undefined;
	private total = 0;
	private failed = false;
	private violation: {error: ReaderErrorCode; detail: string} | undefined;

	constructor(private readonly limits: ReaderLimits) {}

	get bytesRead(): number {
		return this.total;
	}

	/** True when part of a reply has been read and more is awaited. */
	get midReply(): boolean {
		return this.partialBytes > 0 || this.lines.length > 0;
	}

	feed(chunk: Buffer): ReaderOutput[] {
		const out: ReaderOutput[] = [];
		if (this.failed) {
			return out;
		}

		this.total += chunk.length;
		if (this.total > this.limits.maxSessionBytes) {
			return this.fail(out, 'session-too-large', `the server sent more than ${this.limits.maxSessionBytes} bytes in this session`);
		}

		let start = 0;
		while (start < chunk.length) {
			const lf = chunk.indexOf(0x0A, start);
			const end = lf === -1 ? chunk.length : lf;
			const piece = chunk.subarray(start, end);
			this.partialBytes += piece.length;
			if (this.partialBytes + 1 > this.limits.maxLineBytes) {
				const head = Buffer.concat([...this.partial, piece]).subarray(0, 80);
				out.push({type: 'line', text: decodeBytes(head) + '…'});
				return this.fail(out, 'line-too-long', `a reply line longer than ${this.limits.maxLineBytes} bytes`);
			}

			this.partial.push(piece);
			if (lf === -1) {
				break;
			}

			start = lf + 1;
			let raw = Buffer.concat(this.partial);
			this.partial = [];
			this.partialBytes = 0;
			if (raw.at(-1) === 0x0D) {
				raw = raw.subarray(0, -1);
			}

			this.line(raw, out, chunk.length - start);
			if (this.failed) {
				return out;
			}
		}

		return out;
	}

	private line(raw: Buffer, out: ReaderOutput[], rest: number): void {
		const text = decodeBytes(raw);
		out.push({type: 'line', text});
		const match = lineShape.exec(text);
		if (raw.includes(0)) {
			if (!match) {
				this.fail(out, 'nul-byte', 'a NUL byte in a reply line');
				return;
			}

			// The code still says what the server means (a 554 is a refusal with or without
			// the NUL): the reply goes on to the machine, which keeps the violation as a fact.
			this.violation ??= {error: 'nul-byte', detail: 'a NUL byte in a reply line'};
		}

		if (!match) {
			this.fail(out, 'bad-reply', 'a line that is not an SMTP reply (three digits, then space, hyphen or end)');
			return;
		}

		const [, code, separator] = match as unknown as [string, string, string];
		if (this.code !== undefined && code !== this.code) {
			this.fail(out, 'code-changed', `the reply code changed from ${this.code} to ${code} within one reply`);
			return;
		}

		this.code = code;
		this.lines.push(text.slice(4));
		if (separator === '-') {
			if (this.lines.length >= this.limits.maxReplyLines) {
				this.fail(out, 'reply-too-large', `a reply of more than ${this.limits.maxReplyLines} lines`);
			}

			return;
		}

		const lines = this.lines;
		const {violation} = this;
		const joined = lines.join('\n');
		const make = (): Reply => ({code: Number(code), lines, text: joined, ...(violation ? {violation} : {})});
		out.push({type: 'reply', reply: violation ? make() : sharedReplies.get(`${code}\n${joined}`, make), rest});
		this.lines = [];
		this.code = undefined;
		this.violation = undefined;
	}

	private fail(out: ReaderOutput[], code: ReaderErrorCode, message: string): ReaderOutput[] {
		this.failed = true;
		out.push({type: 'error', code, message});
		return out;
	}
}
