import {execFileSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {cliPath} from './run-cli.js';

/**
 * The built CLI in a real terminal: a private tmux server (its socket in a temporary directory,
 * so tests run in parallel and leave nothing behind) that runs it, takes one key at a time and
 * gives the screen back. Every wait is bounded and polls the screen.
 */

function isMissing(): boolean {
	try {
		execFileSync('tmux', ['-V'], {stdio: 'ignore'});
		return false;
	} catch {
		return true;
	}
}

export const tmuxMissing = isMissing();

const repoRoot = path.dirname(path.dirname(cliPath));
const pollMs = 50;
export const stepMs = 10_000;

// Ink renders only the last frame when it believes it runs in CI, and a tmux inside tmux
// would inherit the outer one's variables: the dashboard must see a plain terminal.
const tmuxEnv: NodeJS.ProcessEnv = {...process.env};
for (const name of ['CI', 'CONTINUOUS_INTEGRATION', 'TMUX', 'TMUX_PANE', 'NO_COLOR', 'FORCE_COLOR']) {
	delete tmuxEnv[name];
}

function shellQuote(text: string): string {
	return `'${text.replaceAll('\'', '\'\\\'\'')}'`;
}

async function sleep(ms: number): Promise<void> {
	await new Promise<void>(resolve => {
		setTimeout(resolve, ms);
	});
}

export const has = (pattern: RegExp | string) => (lines: string[]): boolean => lines.some(line => (typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line)));
export const hasAll = (...patterns: Array<RegExp | string>) => (lines: string[]): boolean => patterns.every(pattern => has(pattern)(lines));

export type Exit = {status?: number; signal?: number};

export class Terminal {
	readonly workDir = mkdtempSync(path.join(tmpdir(), 'mxdash-tmux-'));
	private readonly configFile = path.join(this.workDir, 'tmux.conf');
	private readonly socket = path.join(this.workDir, `tmux-${process.pid}.sock`);

	constructor() {
		// In the config, so it is set before the program starts and cannot race an early exit.
		writeFileSync(this.configFile, 'set -g remain-on-exit on\nset -g status off\n');
	}

	tmux(...args: string[]): string {
		return execFileSync('tmux', ['-S', this.socket, '-f', this.configFile, ...args], {encoding: 'utf8', env: tmuxEnv, stdio: ['ignore', 'pipe', 'pipe']});
	}

	display(session: string, format: string): string {
		return this.tmux('display-message', '-p', '-t', session, format).trimEnd();
	}

	/** The visible screen, wrapped lines joined (so a line wider than the terminal shows as such). */
	screen(session: string): string[] {
		const text = this.tmux('capture-pane', '-p', '-J', '-t', session);
		return text.replace(/\n$/, '').split('\n').map(line => line.trimEnd());
	}

	/**
	 * Start `mxdash ARGS` in a new session of the given size. With `capture`, every byte the
	 * program writes to the terminal is appended to that file: the program waits for a line
	 * on its input until the capture is in place, so not one byte is missed.
	 */
	start(session: string, width: number, height: number, args: string[], configDir = this.workDir, capture?: string): void {
		const run = `env -u CI -u CONTINUOUS_INTEGRATION MXDASH_CONFIG_DIR=${shellQuote(configDir)} NO_COLOR= node ${shellQuote(cliPath)} ${args.map(arg => shellQuote(arg)).join(' ')}`;
		const command = capture ? `read go; exec ${run}` : run;
		this.tmux('new-session', '-d', '-s', session, '-x', String(width), '-y', String(height), '-c', repoRoot, command);
		if (capture) {
			this.tmux('pipe-pane', '-o', '-t', session, `cat >> ${shellQuote(capture)}`);
			this.press(session, 'Enter');
		}
	}

	stop(session: string): void {
		try {
			this.tmux('kill-session', '-t', session);
		} catch {
			// Already gone with its server.
		}
	}

	/** One key per call: Ink misses keys that arrive together in one chunk. */
	press(session: string, key: string): void {
		this.tmux('send-keys', '-t', session, key);
	}

	/** Polls the screen until `check` holds; on timeout the error shows the last screen. */
	async waitForScreen(session: string, what: string, check: (lines: string[]) => boolean, timeoutMs = stepMs): Promise<string[]> {
		const deadline = performance.now() + timeoutMs;
		for (;;) {
			const lines = this.screen(session);
			if (check(lines)) {
				return lines;
			}

			if (performance.now() > deadline) {
				throw new Error(`waited ${timeoutMs} ms for ${what}; the screen was:\n${lines.join('\n')}`);
			}

			await sleep(pollMs);
		}
	}

	/**
	 * Waits until the program has exited: its exit status, or the signal that ended it. tmux built
	 * with libutempter can miss the SIGCHLD of a pane's process (tmux/tmux#311): the pane is dead
	 * but its status never comes, so a spare SIGCHLD to our own private server makes it reap.
	 */
	async waitForExit(session: string, timeoutMs = stepMs): Promise<Exit> {
		const deadline = performance.now() + timeoutMs;
		for (;;) {
			const [dead = '', status = '', signal = ''] = this.display(session, '#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}').split(':');
			if (dead === '1' && (status !== '' || signal !== '')) {
				return status === '' ? {signal: Number(signal)} : {status: Number(status)};
			}

			if (dead === '1') {
				process.kill(Number(this.display(session, '#{pid}')), 'SIGCHLD');
			}

			if (performance.now() > deadline) {
				throw new Error(`waited ${timeoutMs} ms for the dashboard to exit (pane_dead ${dead}); the screen was:\n${this.screen(session).join('\n')}`);
			}

			await sleep(pollMs);
		}
	}

	close(): void {
		try {
			this.tmux('kill-server');
		} catch {
			// No server left.
		}

		rmSync(this.workDir, {recursive: true, force: true});
	}
}
