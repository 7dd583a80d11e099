import {once} from 'node:events';
import type {Writable} from 'node:stream';
import type {AddressPart, DomainParts, Report, ReportHead} from '../core/run/report-model.js';
import {invisibleCharacters} from '../core/sanitize.js';

/**
 * JSON safe to print on a terminal: JSON.stringify leaves DEL, C1 controls, bidi and
 * zero-width characters raw; they become \uXXXX escapes, which parse back to the exact server text.
 */
function escapeInvisible(json: string): string {
	return json.replace(invisibleCharacters, char => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The report as JSON (indented by 2), safe to print on a terminal. */
export function jsonReport(report: Report): string {
	return `${escapeInvisible(JSON.stringify(report, null, 2))}\n`;
}

const pad = (depth: number): string => '  '.repeat(depth);

/** A value's text as it reads `depth` levels deep in the whole (a JSON string holds no raw newline: every newline is layout). */
function nested(value: unknown, depth: number): string {
	const text = escapeInvisible(JSON.stringify(value, null, 2));
	return depth === 0 ? text : text.replaceAll('\n', `\n${pad(depth)}`);
}

/**
 * An object whose last key is a list, in pieces, byte for byte its text `depth` levels deep:
 * `shell` is the object with that list empty; `items` are the list's, each in pieces of its own.
 */
function* withList<T>(shell: object, items: Iterable<T>, item: (value: T, depth: number) => Iterable<string | Buffer>, depth: number): Generator<string | Buffer> {
	const text = nested(shell, depth);
	const open = text.slice(0, -`[]\n${pad(depth)}}`.length);
	let first = true;
	for (const value of items) {
		yield `${first ? `${open}[` : ','}\n${pad(depth + 2)}`;
		yield* item(value, depth + 2);
		first = false;
	}

	yield first ? text : `\n${pad(depth + 1)}]\n${pad(depth)}}`;
}

/**
 * jsonReport's text in pieces, byte for byte: the head, then each domain, MX host and address
 * entry as it comes (an address entry as UTF-8 bytes, the rest as strings). Nothing holds the
 * whole text (~1 GB for 10,000 addresses: the same address is repeated under every domain that
 * uses it), only the last few hundred address entries, for the domains that share them.
 */
export function* jsonReportChunks(head: ReportHead, domains: Iterable<DomainParts>): Generator<string | Buffer> {
	const entry = entryBytes();
	yield* withList({...head, domains: []}, domains, (domain, depth) => withList({...domain, mx: []}, domain.mx, (mx, mxDepth) => withList({...mx, addresses: []}, mx.addresses, (address, addressDepth) => [entry(address, addressDepth)], mxDepth), depth), 0);
	yield '\n';
}

/** Entries kept for reuse: about one provider's addresses (~20 KB each), as the domains that share them come together in a list. */
const reusedEntries = 512;

/**
 * An address entry's text in UTF-8, made once for the domains that share the address: the same
 * key with the same parts (see AddressPart) reads the same, so the bytes of the last time are
 * reused (a fifth of the --json CPU of a large list was making it again). Kept as bytes, not as
 * a string: they are copied out as they are, and kept outside V8's heap. Bounded: past
 * `reusedEntries` the table starts again.
 */
function entryBytes(): (address: AddressPart, depth: number) => Buffer {
	const made = new Map<string, {depends: readonly unknown[]; bytes: Buffer}>();
	return (address, depth) => {
		const key = `${depth} ${address.key}`;
		const known = made.get(key);
		if (known && known.depends.length === address.depends.length && known.depends.every((value, index) => value === address.depends[index])) {
			return known.bytes;
		}

		const bytes = Buffer.from(nested(address.report(), depth));
		if (made.size >= reusedEntries) {
			made.clear();
		}

		made.set(key, {depends: address.depends, bytes});
		return bytes;
	};
}

/** Pieces are gathered up to this many bytes a write: fewer writes, each small. */
const writeSize = 64 * 1024;

/**
 * Write the chunks to `stream` as its reader takes them (on 'drain'): about one write waits in
 * memory. Each piece is encoded straight into the write's buffer (joining them first into one
 * string cost as much again, a tenth of a large report's CPU).
 */
export async function writeChunks(chunks: Iterable<string | Buffer>, stream: Writable, {reuse = false}: {reuse?: boolean} = {}): Promise<void> {
	let buffer = Buffer.allocUnsafe(writeSize * 2);
	let size = 0;
	const flush = async (): Promise<void> => {
		const ok = stream.write(buffer.subarray(0, size));
		// The written bytes are the stream's until written out: the next go into a new buffer,
		// unless `reuse` says the stream keeps nothing it has written out (process.stdout: a file,
		// a terminal or a pipe) and nothing waits (a new 128 KB buffer a write was ~60 MB more
		// RSS while the collector caught up, a 1 GB report).
		if (!reuse || stream.writableLength > 0) {
			buffer = Buffer.allocUnsafe(writeSize * 2);
		}

		size = 0;
		if (!ok) {
			await once(stream, 'drain');
		}
	};

	for (const chunk of chunks) {
		// Bytes as they are; a string's UTF-16 unit is at most 3 bytes of UTF-8.
		const most = typeof chunk === 'string' ? chunk.length * 3 : chunk.length;
		if (size + most > buffer.length) {
			if (size > 0) {
				await flush();
			}

			if (most > buffer.length) {
				buffer = Buffer.allocUnsafe(most);
			}
		}

		size += typeof chunk === 'string' ? buffer.write(chunk, size) : chunk.copy(buffer, size);
		if (size >= writeSize) {
			await flush();
		}
	}

	if (size > 0) {
		await flush();
	}
}
