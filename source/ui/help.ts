import type {ColumnId} from './format.js';
import {stageColumns, verdictGlyph} from './format.js';
import {keymap} from './keymap.js';
import type {Line} from './panes.js';
import type {Theme, Tone} from './theme.js';

/**
 * The `?` help: the keymap, so it cannot drift from the keys, then the legend. The legend is
 * drawn with the theme's own glyphs and colours, so under --ascii it explains the ASCII forms
 * that are on screen, and it names a colour only where colours are shown.
 */

/** What each stage column's value means; a Record, so a new column cannot go unexplained. */
const columnMeanings: Record<ColumnId, string[]> = {
	connect: ['time to connect, or why not: refused, timeout, unreach(able)'],
	banner: ['time to the greeting (! when slow), or its reply code or error'],
	ehlo: ['EHLO answered (HELO: only HELO was), or the reply code or error'],
	starttls: ['STARTTLS accepted; none: not offered; or the reply code or error'],
	tls: ['the TLS version negotiated (1.3, 1.2); fail: the handshake failed'],
	cert: ['certificate days left (-30d: expired 30 days ago; 3y: years);', 'name: it does not cover the host name; none: no certificate'],
	relay: ['closed: relaying refused; OPEN: it relays for anyone; a 4xx code:', 'inconclusive (such as greylisted); off: the relay test is off'],
};

const width = 12;

function entry(label: string, meaning: string[], tone?: Tone): Line[] {
	return meaning.map((text, index) => ({text: `  ${(index === 0 ? label : '').padEnd(width)} ${text}`, ...(tone ? {tone} : {})}));
}

export function legendLines(theme: Theme): Line[] {
	const {glyph} = theme;
	const coloured = theme.color('ok') !== undefined;
	// The colour's name where colours are shown; nothing where they are not.
	const colour = (tone: Tone): string => {
		const name = theme.color(tone);
		return name ? ` (${name})` : '';
	};

	const glyphs: Array<[label: string, tone: Tone | undefined, text: string]> = [
		[glyph.ok, 'ok', `passed: no finding judges the stage${colour('ok')}`],
		[glyph.warning, 'warning', `a warning finding judges the stage${colour('warning')}`],
		[glyph.critical, 'critical', `a critical finding judges the stage${colour('critical')}`],
		[glyph.info, 'info', `info only, such as greylisted or no TLS 1.3${colour('info')}`],
		[glyph.skipped, 'muted', `skipped: not run after an earlier failure${colour('muted')}`],
		[glyph.pending, 'muted', `waiting: the stage has not started yet${colour('muted')}`],
		[theme.spinner.slice(0, 4).join(''), 'running', `running: the spinner turns while the stage runs${colour('running')}`],
		['9ms', 'muted', `no glyph: done, the session not judged yet${colour('muted')}`],
		[glyph.changed, undefined, 'before a row: changed since the previous round (Enter: what)'],
		[glyph.select, undefined, 'the selected row'],
	];
	const status = (word: string, tone: Tone): string => `${word}${colour(tone)}`;
	return [
		{text: ''},
		{text: `Glyphs${coloured ? ' and colours' : ''} of the stage cells`, bold: true},
		...glyphs.flatMap(([label, tone, text]) => entry(label, [text], tone)),
		...entry('domain row', [`its status: ${[status('OK', 'ok'), status('WARNING', 'warning'), status('CRITICAL', 'critical')].join(', ')},`, `${status('UNKNOWN', 'muted')}; probing until every address is judged`]),
		{text: ''},
		{text: 'Status bar', bold: true},
		...entry(`${glyph.critical}N ${glyph.warning}N ${glyph.info}N`, ['critical, warning and info findings (every domain\'s, the run\'s)']),
		...entry('probing 3/9', ['the round under way: addresses done of all (then: N addresses)']),
		...entry('last, next', ['when the last round ended (UTC), when the next starts']),
		{text: ''},
		{text: 'Columns', bold: true},
		...entry('MX host', ['the MX host, after its preference where there is room']),
		...entry('Address', ['the address probed (one row for each address of a host)']),
		...stageColumns.flatMap(column => entry(column.title, columnMeanings[column.id])),
		...entry('O S D', [
			'Policy: what an opportunistic, an MTA-STS and a DANE sender would',
			`do: ${verdictGlyph('deliver', theme)} deliver, ${verdictGlyph('fail', theme)} fail, ${verdictGlyph('none', theme)} no such policy (OSD when narrow);`,
			'B: the address is on a blocklist (5: the Policy pane says why)',
		]),
		...entry('Total', ['the whole session, from connect to the end']),
	];
}

export function helpLines(theme: Theme): Line[] {
	return [
		{text: 'Keys (↑↓ scroll, any other key closes)', bold: true},
		...keymap.map(binding => ({text: `  ${binding.keys.padEnd(width)} ${binding.description}`})),
		...legendLines(theme),
	];
}
