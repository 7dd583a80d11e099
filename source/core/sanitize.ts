/**
 * The one way server-provided text reaches a terminal. Every character that could move the
 * cursor, change modes, reorder text or hide itself is replaced by a visible escape:
 * C0 and C1 controls, DEL, bidi controls, zero-width characters, line separators, and the
 * invalid bytes that `decodeBytes` kept as U+DC80–U+DCFF (shown as \xHH). A backslash is
 * doubled so that an escape the server typed itself cannot pass for one we made.
 */
// DEL, C1 controls, and the format characters that hide or reorder text.
const invisibleClass = String.raw`\x7F-\x9F\u00AD\u061C\u180E\u200B-\u200F\u2028-\u202E\u2060-\u206F\uFEFF\uFFF9-\uFFFB`;
const unsafeClass = String.raw`\0-\x1F${invisibleClass}\uD800-\uDFFF`;
/** What JSON.stringify leaves raw but a terminal would act on (it escapes C0 and lone surrogates itself). */
export const invisibleCharacters = new RegExp(`[${invisibleClass}]`, 'g');
// A valid surrogate pair is kept (emoji and the like); everything else in the class is escaped.
const toEscape = new RegExp(String.raw`[\uD800-\uDBFF][\uDC00-\uDFFF]|[\\${unsafeClass}]`, 'g');
const unsafe = new RegExp(`[${unsafeClass}]`);

const named: Record<string, string> = {'\r': '\\r', '\n': '\\n', '\t': '\\t', '\\': '\\\\'};

function hex(n: number, width: number): string {
	return n.toString(16).padStart(width, '0');
}

function escapeChar(char: string): string {
	const known = named[char];
	if (known) {
		return known;
	}

	const code = char.charCodeAt(0);
	if (code >= 0xDC_80 && code <= 0xDC_FF) {
		return `\\x${hex(code - 0xDC_00, 2)}`;
	}

	return code < 0x80 ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
}

/** Make `text` safe to print; if `maxLength` is given, cut it there with a visible `…`. */
export function sanitize(text: string, maxLength?: number): string {
	const safe = text.replace(toEscape, match => match.length === 2 ? match : escapeChar(match));
	if (maxLength === undefined || safe.length <= maxLength) {
		return safe;
	}

	return safe.slice(0, Math.max(0, maxLength - 1)) + '…';
}

/** True when `text` holds nothing a terminal would act on (used by tests and assertions). */
export function isTerminalSafe(text: string): boolean {
	return !unsafe.test(text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, ''));
}
