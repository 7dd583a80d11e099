import type {Status} from '../core/run/report-model.js';
import type {Severity} from '../core/types.js';

export type Tone = 'ok' | 'warning' | 'critical' | 'info' | 'muted' | 'running' | 'accent';

export type Theme = {
	color: (tone: Tone) => string | undefined;
	glyph: {ok: string; warning: string; critical: string; info: string; skipped: string; pending: string; select: string; changed: string};
	spinner: string[];
	ascii: boolean;
};

const colors: Record<Tone, string> = {ok: 'green', warning: 'yellow', critical: 'red', info: 'blue', muted: 'gray', running: 'cyan', accent: 'magenta'};

/** Colours unless NO_COLOR or --ascii; Unicode glyphs unless --ascii. */
export function makeTheme(options: {ascii?: boolean; noColor?: boolean} = {}): Theme {
	// no-color.org: a NO_COLOR that is present and not empty turns colour off.
	const plain = options.noColor ?? Boolean(process.env.NO_COLOR);
	const ascii = options.ascii ?? false;
	return {
		color: tone => (plain || ascii ? undefined : colors[tone]),
		glyph: ascii
			? {ok: '+', warning: '!', critical: 'X', info: 'i', skipped: '-', pending: '.', select: '>', changed: '*'}
			: {ok: '✓', warning: '!', critical: '✗', info: 'i', skipped: '–', pending: '·', select: '›', changed: '◆'},
		spinner: ascii ? ['|', '/', '-', '\\'] : ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'],
		ascii,
	};
}

export function toneOf(status: Status | Severity | undefined): Tone {
	switch (status) {
		case 'ok': {
			return 'ok';
		}

		case 'warning': {
			return 'warning';
		}

		case 'critical': {
			return 'critical';
		}

		case 'info': {
			return 'info';
		}

		default: {
			return 'muted';
		}
	}
}
