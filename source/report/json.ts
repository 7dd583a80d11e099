import type {Report} from '../core/run/report-model.js';
import {invisibleCharacters} from '../core/sanitize.js';

/**
 * The report as JSON, safe to print on a terminal: JSON.stringify leaves DEL, C1 controls,
 * bidi and zero-width characters raw; they become \uXXXX escapes, which parse back to the
 * exact server text.
 */
export function jsonReport(report: Report): string {
	return `${JSON.stringify(report, null, 2).replace(invisibleCharacters, char => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}
