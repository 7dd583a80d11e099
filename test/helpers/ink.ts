import type {render} from 'ink-testing-library';
import {vi} from 'vitest';
import type {Controller} from '../../source/ui/app.js';
import {Store} from '../../source/ui/store.js';
import {roundEvents} from './fake-events.js';
import type {FakeHost, FakePolicies} from './fake-events.js';

export type InkApp = ReturnType<typeof render>;

/** Let Ink take a keypress on its own (it reads one chunk as one key). */
export async function tick(): Promise<void> {
	await new Promise(resolve => {
		setTimeout(resolve, 10);
	});
}

/**
 * Type keys, then wait for the frame that follows the last one (Ink writes a frame only when
 * the output changes, so a key that changes nothing just waits out the bound).
 */
export async function press(app: InkApp, ...sequence: string[]): Promise<string> {
	let before = app.frames.length;
	for (const key of sequence) {
		await tick();
		before = app.frames.length;
		app.stdin.write(key);
	}

	for (let waited = 0; app.frames.length === before && waited < 1000; waited += 10) {
		await tick();
	}

	return app.lastFrame() ?? '';
}

/** A store that has seen one finished round over `domains`. */
export function storeAfterRound(domains: Record<string, FakeHost[]>, policies: FakePolicies = {}): Store {
	const store = new Store(Object.keys(domains).map(domain => ({domain, input: domain})), 0);
	for (const event of roundEvents(domains, undefined, policies)) {
		store.apply(event);
	}

	store.flush();
	return store;
}

/** A controller that does nothing (views under test need one). */
export function idleController(): Controller {
	return {reprobe: vi.fn(), reprobeAll: vi.fn(), addDomain: vi.fn(() => undefined), removeDomain: vi.fn(), quit: vi.fn()};
}
