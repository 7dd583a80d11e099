/**
 * The search within the open pane, as pure functions over the pane's line texts: which lines
 * match, which match is the current one, and what the footer says. The reducer keeps only the
 * text and the current match's number; the matches are found afresh in each frame, so they
 * follow a pane whose lines change (a transcript that grows, a re-probe).
 */

/** A search in the open pane: its text and which of its matches (from 0) is the current one. */
export type PaneSearch = {text: string; at: number};

/** The indexes of the lines that contain `text`, case-insensitively; none for an empty text. */
export function matchLines(lines: readonly string[], text: string): number[] {
	const needle = text.toLowerCase();
	return needle ? lines.flatMap((line, index) => (line.toLowerCase().includes(needle) ? [index] : [])) : [];
}

/** The match `by` steps from `at` among `count`, wrapping at either end. */
export function stepMatch(at: number, by: number, count: number): number {
	return count === 0 ? 0 : (((at + by) % count) + count) % count;
}

/** The current match within `count`: a pane that lost lines keeps its last match current. */
export function currentMatch(search: PaneSearch, count: number): number {
	return Math.max(0, Math.min(search.at, count - 1));
}

/** The first line shown so that `line` is in a window of `height` lines: unmoved if it is already. */
export function revealTop(line: number, top: number, height: number): number {
	return line < top || line >= top + Math.max(1, height) ? line : top;
}

/** What the footer says of a search: `match 2 of 5`, or `no match`. */
export function matchLabel(search: PaneSearch, count: number): string {
	return count === 0 ? 'no match' : `match ${currentMatch(search, count) + 1} of ${count}`;
}

/** What a frame shows of a search: the matching lines, the current one's index, the label. */
export type SearchView = {matches: ReadonlySet<number>; current: number | undefined; label: string};

export function searchView(search: PaneSearch | undefined, lines: readonly string[]): SearchView | undefined {
	if (!search?.text) {
		return undefined;
	}

	const matches = matchLines(lines, search.text);
	return {matches: new Set(matches), current: matches[currentMatch(search, matches.length)], label: matchLabel(search, matches.length)};
}
