// The dashboard as runDashboard mounts it (same App, Store and render options), on a terminal
// that is never seen: it counts what Ink writes and drops it. Keys go in through a fake stdin,
// and the time from a key to the next frame Ink writes is the key's latency.
import {EventEmitter} from 'node:events';
import {performance} from 'node:perf_hooks';
import process from 'node:process';
import {Writable} from 'node:stream';
import {setTimeout as sleep} from 'node:timers/promises';
import type {render as inkRender} from 'ink';
import type {createElement as reactCreateElement} from 'react';
import type {App as DashboardApp, Controller} from '../source/ui/app.js';
import type {Store} from '../source/ui/store.js';
import type {makeTheme as makeDashboardTheme} from '../source/ui/theme.js';
import {terminalSize} from './setup.js';

class FakeTerminal extends Writable {
	readonly isTTY = true;
	readonly columns: number;
	readonly rows: number;
	bytes = 0;
	/** Called at each write (Ink writes a frame in one go, synchronously once it is drawn). */
	onWrite: (() => void) | undefined;

	constructor(size: {columns: number; rows: number} = terminalSize) {
		super();
		this.columns = size.columns;
		this.rows = size.rows;
	}

	override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
		this.bytes += chunk.length;
		this.onWrite?.();
		callback();
	}
}

/** What Ink's useInput asks of stdin (as ink-testing-library builds it): `write` presses a key. */
class FakeStdin extends EventEmitter {
	readonly isTTY = true;
	private data: string | null = null;

	write(data: string): void {
		this.data = data;
		this.emit('readable');
	}

	setRawMode(): this {
		return this;
	}

	setEncoding(): this {
		return this;
	}

	ref(): this {
		return this;
	}

	unref(): this {
		return this;
	}

	resume(): this {
		return this;
	}

	pause(): this {
		return this;
	}

	read(): string | null {
		const {data} = this;
		this.data = null;
		return data;
	}
}

export type Ui = {
	render: typeof inkRender;
	createElement: typeof reactCreateElement;
	App: typeof DashboardApp;
	maxFps: number;
	Store: typeof Store;
	makeTheme: typeof makeDashboardTheme;
};

/**
 * Ink's colours come from chalk, which decides at import time from the real stdout: force them
 * on (as in a terminal) before the UI is loaded, so that piping the bench's output changes nothing.
 */
export async function loadUi(): Promise<Ui> {
	process.env.FORCE_COLOR ??= '1';
	const [ink, react, app, store, theme] = await Promise.all([import('ink'), import('react'), import('../source/ui/app.js'), import('../source/ui/store.js'), import('../source/ui/theme.js')]);
	return {render: ink.render, createElement: react.createElement, App: app.App, maxFps: app.maxFps, Store: store.Store, makeTheme: theme.makeTheme};
}

export type Dashboard = {
	store: Store;
	bytes(): number;
	renders(): number;
	inkMs(): number;
	/** Press a key; resolves with the ms to the next frame written, or undefined if none came within a second. */
	press(key: string): Promise<number | undefined>;
	close(): Promise<void>;
};

/** Mount the dashboard on a new store of `domains`, or on `given` (already fed), on a terminal of `size`. */
export async function mountDashboard(ui: Ui, domains: string[], given?: Store, size = terminalSize): Promise<Dashboard> {
	const store = given ?? new ui.Store(domains.map(domain => ({domain, input: domain})));
	const terminal = new FakeTerminal(size);
	const stdin = new FakeStdin();
	let renders = 0;
	let inkMs = 0;
	const controller: Controller = {
		reprobe: () => undefined,
		reprobeAll: () => undefined,
		addDomain: () => undefined,
		removeDomain: () => undefined,
		quit: () => undefined,
	};
	const app = ui.render(ui.createElement(ui.App, {store, controller, theme: ui.makeTheme()}), {
		stdout: terminal as unknown as NodeJS.WriteStream,
		stderr: new FakeTerminal() as unknown as NodeJS.WriteStream,
		stdin: stdin as unknown as NodeJS.ReadStream,
		exitOnCtrlC: false,
		patchConsole: false,
		maxFps: ui.maxFps,
		onRender({renderTime}) {
			renders++;
			inkMs += renderTime;
			// As runDashboard: the store paces its snapshots by the frames' cost.
			store.framed(renderTime);
		},
	});
	// Mounted and the first frame out before the clock starts.
	await sleep(150);
	return {
		store,
		bytes: () => terminal.bytes,
		renders: () => renders,
		inkMs: () => inkMs,
		async press(key) {
			return new Promise(resolve => {
				const start = performance.now();
				const timer = setTimeout(() => {
					terminal.onWrite = undefined;
					resolve(undefined);
				}, 1000);
				// The first write after the key: the frame drawn from the state the key left (the
				// key's render runs in a microtask after its handler, before any timer).
				terminal.onWrite = () => {
					terminal.onWrite = undefined;
					clearTimeout(timer);
					resolve(performance.now() - start);
				};

				stdin.write(key);
			});
		},
		async close() {
			// Asked before unmount: asked after, Ink leaves a beforeExit listener behind.
			const exited = app.waitUntilExit();
			app.unmount();
			await exited;
			app.cleanup();
		},
	};
}
