import {domainToUnicode} from 'node:url';

/**
 * Decode bytes as UTF-8, keeping every invalid byte as a lone surrogate U+DC80+byte
 * (Python's "surrogateescape"), so no byte is lost: JSON keeps it as \udcXX and the
 * sanitizer shows it as \xHH.
 */
export function decodeBytes(bytes: Uint8Array): string {
	let out = '';
	let i = 0;
	while (i < bytes.length) {
		const b = bytes[i]!;
		if (b < 0x80) {
			out += String.fromCharCode(b);
			i++;
			continue;
		}

		const length = b >= 0xC2 && b <= 0xDF ? 2 : (b >= 0xE0 && b <= 0xEF ? 3 : (b >= 0xF0 && b <= 0xF4 ? 4 : 0));
		const cp = length > 0 ? codePoint(bytes, i, length) : -1;
		if (cp === -1) {
			out += String.fromCharCode(0xDC_00 + b);
			i++;
			continue;
		}

		out += String.fromCodePoint(cp);
		i += length;
	}

	return out;
}

const minimum = [0, 0, 0x80, 0x8_00, 0x1_00_00];

function codePoint(bytes: Uint8Array, at: number, length: number): number {
	if (at + length > bytes.length) {
		return -1;
	}

	let cp = bytes[at]! & (0xFF >> (length + 1));
	for (let k = 1; k < length; k++) {
		const next = bytes[at + k]!;
		if ((next & 0xC0) !== 0x80) {
			return -1;
		}

		cp = (cp << 6) | (next & 0x3F);
	}

	const surrogate = cp >= 0xD8_00 && cp <= 0xDF_FF;
	return cp < minimum[length]! || cp > 0x10_FF_FF || surrogate ? -1 : cp;
}

/** True when a user-supplied protocol argument would break the line it goes into. */
export function hasLineBreak(value: string): boolean {
	return /[\r\n\0]/.test(value);
}

/** `1 domain`, `2 domains`: a count with its noun agreeing (`many` for irregular plurals). */
export function counted(count: number, one: string, many = `${one}s`): string {
	return `${count} ${count === 1 ? one : many}`;
}

/**
 * An address and its port as one token: an IPv6 address in brackets (RFC 3986), since `::1:2526`
 * reads as another IPv6 address. `port` undefined shows the address alone.
 */
export function withPort(ip: string, port: number | undefined): string {
	if (port === undefined) {
		return ip;
	}

	return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * A domain as a person reads it and as DNS has it: `bücher.example (xn--bcher-kva.example)` for
 * an IDN, the name alone otherwise. `asciiOnly` (--ascii) keeps the ASCII form alone. The result
 * still goes through sanitize: a label may decode to characters a terminal acts on.
 */
export function domainLabel(domain: string, asciiOnly = false): string {
	const unicode = asciiOnly ? '' : domainToUnicode(domain);
	return unicode && unicode !== domain ? `${unicode} (${domain})` : domain;
}
