import {writeFileSync} from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import type {HostState} from './store.js';
import type {CopyWhat} from './take-away.js';
import {clip, clipboardLimit, numbered, osc52, reportFileName, size, transcriptFileName, transcriptText} from './take-away.js';
import type {Theme} from './theme.js';

/** What `w`, `W` and `y` ask of the controller; each answers with the line to show. */
export type TakeAway = {
	saveTranscript(key: string): string;
	saveReport(): Promise<string>;
	copy(key: string, what: CopyWhat): string;
};

/** The outside world, injected so that tests see what was written without a real terminal. */
export type TakeAwayIo = {
	/** Creates the file, failing with EEXIST when it is there (never an overwrite). */
	writeNew: (file: string, text: string) => void;
	/** Straight to the terminal, past Ink. */
	writeTerminal: (sequence: string) => void;
	/** The directory mxdash was run in: nothing is written anywhere else. */
	directory: string;
	tmux: boolean;
	now: () => Date;
};

export const processIo = (): TakeAwayIo => ({
	writeNew(file, text) {
		writeFileSync(file, text, {flag: 'wx'});
	},
	writeTerminal(sequence) {
		process.stdout.write(sequence);
	},
	directory: process.cwd(),
	tmux: Boolean(process.env.TMUX),
	now: () => new Date(),
});

/** The first of name, name-1, name-2 … that does not exist yet, written; its path. */
function saveNew(io: TakeAwayIo, name: string, text: string): string {
	for (let n = 0; ; n++) {
		const file = path.join(io.directory, numbered(name, n));
		try {
			io.writeNew(file, text);
			return file;
		} catch (error) {
			// Give up after a hundred: something other than a taken name is going on.
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 100) {
				throw error;
			}
		}
	}
}

function saved(io: TakeAwayIo, name: string, text: () => string): string {
	try {
		return `saved to ${saveNew(io, name, text())}`;
	} catch (error) {
		return `not saved: ${(error as Error).message}`;
	}
}

export type TakeAwaySources = {
	hosts: () => ReadonlyMap<string, HostState>;
	/** The whole report as JSON text (jsonReport of the engine's report()). */
	report: () => Promise<string>;
	theme: Theme;
	io: TakeAwayIo;
};

export function makeTakeAway({hosts, report, theme, io}: TakeAwaySources): TakeAway {
	return {
		saveTranscript(key) {
			const host = hosts().get(key);
			if (!host) {
				return 'not saved: this host is no longer probed';
			}

			const now = io.now();
			return saved(io, transcriptFileName(host, now), () => transcriptText(host, now, theme));
		},
		async saveReport() {
			try {
				const text = await report();
				return saved(io, reportFileName(io.now()), () => text);
			} catch (error) {
				return `not saved: ${(error as Error).message}`;
			}
		},
		copy(key, what) {
			const host = hosts().get(key);
			if (!host) {
				return 'nothing copied: this host is no longer probed';
			}

			if (what === 'fingerprint') {
				const leaf = host.tls?.chain[0];
				if (!leaf) {
					return 'nothing copied: no certificate';
				}

				io.writeTerminal(osc52(leaf.fingerprint256, io.tmux));
				return 'copied the leaf certificate\'s SHA-256 fingerprint (OSC 52)';
			}

			const clipped = clip(transcriptText(host, io.now(), theme));
			io.writeTerminal(osc52(clipped.text, io.tmux));
			return clipped.cut
				? `copied the transcript, cut to ${size(clipboardLimit)} of ${size(clipped.bytes)} (OSC 52)`
				: `copied the transcript, ${host.transcript.length} lines (OSC 52)`;
		},
	};
}
