/**
 * `--ascii` for everything the dashboard draws, at the one place it all passes: the stream Ink
 * writes frames to. Each of the dashboard's own non-ASCII characters (ellipsis, arrows, dashes,
 * box lines of the extensions table, the no-break spaces that keep a highlight's width) becomes
 * one ASCII character of the same width, so the layout Ink measured stays true. Other text is
 * left alone: server text reaches here already made visible by the sanitizer.
 */
const table: Record<string, string> = {
	'…': '~', '↑': '^', '↓': 'v', '→': '>', '←': '<', '–': '-', '—': '-', '·': '.', '›': '>',
	'\u00A0': ' ', '✓': '+', '✗': 'X', '◆': '*', '█': '#', '─': '-', '│': '|', '═': '=', '║': '|',
	'┌': '+', '┐': '+', '└': '+', '┘': '+', '├': '+', '┤': '+', '┬': '+', '┴': '+', '┼': '+',
	'╔': '+', '╗': '+', '╚': '+', '╝': '+', '╟': '+', '╢': '+', '╤': '+', '╧': '+', '╪': '+',
};
const pattern = new RegExp(`[${Object.keys(table).join('')}]`, 'g');

export function asciiText(text: string): string {
	return text.replace(pattern, char => table[char] ?? char);
}

/** `stream` with its writes passed through asciiText; everything else (size, events) is its own. */
export function asciiStream(stream: NodeJS.WriteStream): NodeJS.WriteStream {
	return new Proxy(stream, {
		get(target, property) {
			if (property === 'write') {
				return (chunk: unknown, ...rest: unknown[]) => Reflect.apply(target.write, target, [typeof chunk === 'string' ? asciiText(chunk) : chunk, ...rest]) as boolean;
			}

			const value: unknown = Reflect.get(target, property, target);
			return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
		},
	});
}
