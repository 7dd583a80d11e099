import {Buffer} from 'node:buffer';
import {sanitize} from '../core/sanitize.js';
import {transcriptLines} from './panes.js';
import type {HostState} from './store.js';
import type {Theme} from './theme.js';

/**
 * Taking data away, the pure part: the names of the files `w` and `W` write, the transcript's
 * text, and the OSC 52 sequence `y` writes. The I/O is in take-away-io.ts.
 */

/** What `y` copies: the Certificates pane copies the leaf's fingerprint, every other pane the transcript. */
export type CopyWhat = 'transcript' | 'fingerprint';

/** Terminals cap OSC 52 (xterm, tmux and others at around 100 KB): more is cut, and the line says so. */
export const clipboardLimit = 100_000;

/** A UTC time fit for a file name: colons are not allowed on every file system. */
export function fileTime(now: Date): string {
	return now.toISOString().replace(/\.\d{3}Z$/, 'Z').replaceAll(':', '-');
}

/** A host name or address as part of a file name: only letters, digits, dots and dashes, never a leading dot. */
function namePart(text: string): string {
	return text.replaceAll(/[^A-Za-z\d.-]+/g, '_').replace(/^\./, '_').slice(0, 100);
}

export function transcriptFileName(host: {exchange: string; ip: string}, now: Date): string {
	return `mxdash-${namePart(host.exchange)}-${namePart(host.ip)}-${fileTime(now)}.txt`;
}

export function reportFileName(now: Date): string {
	return `mxdash-report-${fileTime(now)}.json`;
}

/** The name's alternative when it is taken: a number before the extension (never an overwrite). */
export function numbered(name: string, n: number): string {
	if (n === 0) {
		return name;
	}

	const dot = name.lastIndexOf('.');
	return `${name.slice(0, dot)}-${n}${name.slice(dot)}`;
}

/**
 * The transcript as text: a header naming the host, the address and the time, then every line
 * as the Transcript pane draws it (its sanitizer, its TLS mark), but never cut to a width.
 */
export function transcriptText(host: HostState, now: Date, theme: Theme): string {
	const header = [
		`mxdash transcript of ${sanitize(host.exchange)} [${host.ip}] port ${host.port}`,
		...(host.result ? [`session started ${host.result.startedAt}`] : []),
		`saved ${now.toISOString()}`,
		'',
	];
	const body = host.transcript.length > 0 ? transcriptLines(host, Number.POSITIVE_INFINITY, theme).map(line => line.text) : ['(no transcript yet)'];
	return `${[...header, ...body].join('\n')}\n`;
}

/** At most `limit` bytes of UTF-8, cut at a line end where there is one (never inside a character). */
export function clip(text: string, limit = clipboardLimit): {text: string; cut: boolean; bytes: number} {
	const bytes = Buffer.byteLength(text);
	if (bytes <= limit) {
		return {text, cut: false, bytes};
	}

	const head = Buffer.from(text).subarray(0, limit).toString('utf8').replace(/\uFFFD$/, '');
	const lineEnd = head.lastIndexOf('\n');
	return {text: lineEnd === -1 ? head : head.slice(0, lineEnd + 1), cut: true, bytes};
}

/**
 * OSC 52 (set the clipboard), which the terminal the user sits at carries out, so it works
 * through SSH. Inside tmux it is wrapped in tmux's passthrough (DCS, every ESC doubled).
 */
export function osc52(text: string, tmux: boolean): string {
	const osc = `\u001B]52;c;${Buffer.from(text).toString('base64')}\u0007`;
	return tmux ? `\u001BPtmux;${osc.replaceAll('\u001B', '\u001B\u001B')}\u001B\\` : osc;
}

/** 100 KB, 1.5 KB, 300 bytes. */
export function size(bytes: number): string {
	return bytes < 1000 ? `${bytes} bytes` : `${Number((bytes / 1000).toFixed(1))} KB`;
}
