import {once} from 'node:events';
import type {DomainReport, Report, ReportHead} from '../core/run/report-model.js';
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

/**
 * jsonReport's text in pieces, byte for byte: the head, then each domain as it comes, indented
 * as it is inside the whole (a JSON string holds no raw newline, so every newline is layout).
 * Nothing holds the whole text, nor more than one domain's report.
 */
export function* jsonReportChunks(head: ReportHead, domains: Iterable<DomainReport>): Generator<string> {
	// `domains` is the head's last key: the text of an empty list, cut before its `[]\n}`.
	const text = jsonReport({...head, domains: []});
	const close = '[]\n}\n';
	let first = true;
	for (const domain of domains) {
		yield `${first ? `${text.slice(0, -close.length)}[\n    ` : ',\n    '}${escapeInvisible(JSON.stringify(domain, null, 2)).replaceAll('\n', '\n    ')}`;
		first = false;
	}

	yield first ? text : '\n  ]\n}\n';
}

/** Write the chunks to `stream` as its reader takes them (on 'drain'): no more than one chunk waits in memory. */
export async function writeChunks(chunks: Iterable<string>, stream: NodeJS.WritableStream): Promise<void> {
	for (const chunk of chunks) {
		if (!stream.write(chunk)) {
			await once(stream, 'drain');
		}
	}
}
