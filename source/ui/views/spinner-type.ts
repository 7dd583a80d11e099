import type {Theme} from '../theme.js';

/** ink-spinner's kind for this theme: with --ascii its ASCII-only `line`. */
export function spinnerType(theme: Theme): 'line' | 'dots' {
	return theme.ascii ? 'line' : 'dots';
}
