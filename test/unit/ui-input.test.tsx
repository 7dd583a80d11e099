import {render} from 'ink-testing-library';
import {describe, expect, it, vi} from 'vitest';
import {App} from '../../source/ui/app.js';
import type {Controller} from '../../source/ui/app.js';
import {Store} from '../../source/ui/store.js';
import {makeTheme} from '../../source/ui/theme.js';
import {roundEvents} from '../helpers/fake-events.js';

/**
 * Keys that come before the frame that hands the keys from one useInput to another (the
 * grid's to a prompt's and back): each must still be read by the latest state.
 */

function setup() {
	const domains = {'a.test': [{exchange: 'mx1.a.test', ip: '127.0.0.1'}, {exchange: 'mx2.a.test', ip: '127.0.0.2'}], 'b.test': [{exchange: 'mx.b.test', ip: '127.0.0.3'}]};
	const store = new Store(Object.keys(domains).map(domain => ({domain, input: domain})), 0);
	for (const event of roundEvents(domains)) {
		store.apply(event);
	}

	store.flush();
	const controller = {
		reprobe: vi.fn<Controller['reprobe']>(),
		reprobeAll: vi.fn<Controller['reprobeAll']>(),
		addDomain: vi.fn<Controller['addDomain']>((input: string) => (input.includes(' ') ? 'not a valid domain name' : undefined)),
		removeDomain: vi.fn<Controller['removeDomain']>(),
		quit: vi.fn<Controller['quit']>(),
	} satisfies Controller;
	const app = render(<App store={store} controller={controller} theme={makeTheme({noColor: true})}/>);
	return {controller, app};
}

/** Write every chunk at once (no frame between them), then wait for the frame after. */
async function burst(app: ReturnType<typeof render>, ...chunks: string[]): Promise<string> {
	await new Promise(resolve => {
		setTimeout(resolve, 10);
	});
	const before = app.frames.length;
	for (const chunk of chunks) {
		app.stdin.write(chunk);
	}

	for (let waited = 0; app.frames.length === before && waited < 1000; waited += 10) {
		await new Promise(resolve => {
			setTimeout(resolve, 10);
		});
	}

	return app.lastFrame() ?? '';
}

describe('keys faster than frames', () => {
	it('types into the add prompt that the key before opened', async () => {
		const {app, controller} = setup();
		const frame = await burst(app, 'a', 'c.test\r', 'j');
		expect(controller.addDomain).toHaveBeenCalledWith('c.test');
		// The key after the prompt closed moves the selection again.
		expect(frame).toMatch(/› (?:\d+ )?mx1\.a\.test/);
		expect(frame).not.toContain('Add domain');
		app.unmount();
	});

	it('answers the remove question that the key before asked', async () => {
		const {app, controller} = setup();
		await burst(app, 'j', 'd', 'y');
		expect(controller.removeDomain).toHaveBeenCalledWith('a.test');
		app.unmount();
	});

	it('closes the help that the key before opened, then moves', async () => {
		const {app} = setup();
		const frame = await burst(app, '?', 'x', 'j', 'j');
		expect(frame).not.toMatch(/^Keys\b/m);
		expect(frame).toMatch(/› (?:\d+ )?mx2\.a\.test/);
		app.unmount();
	});

	it('keeps a refused domain in the prompt, then takes the next keys there', async () => {
		const {app, controller} = setup();
		const frame = await burst(app, 'a', 'bad domain', '\r', '\u007F', 'x');
		expect(controller.addDomain).toHaveBeenCalledWith('bad domain');
		expect(frame).toContain('Add domain: bad domaix_  not a valid domain name');
		app.unmount();
	});

	it('sets a filter, then edits it and moves, each in one burst', async () => {
		const {app} = setup();
		let frame = await burst(app, '/', 'b.test', '\r');
		expect(frame).toContain('filter "b.test"');
		frame = await burst(app, '/', ...Array.from({length: 6}, () => '\u007F'), 'a.test\r', '\u001B[B');
		expect(frame).toContain('filter "a.test"');
		expect(frame).toMatch(/› (?:\d+ )?mx1\.a\.test/);
		app.unmount();
	});

	it('erases one character for each Backspace of a run in one chunk (a held key, SSH)', async () => {
		const {app, controller} = setup();
		const frame = await burst(app, '/', 'abcd', '\u007F\u007F\u007F');
		expect(frame).toContain('Filter: a_');
		await burst(app, '\u001B');
		await burst(app, 'a', 'c.texxx', '\u007F\u007F', '\b', 'st\r');
		expect(controller.addDomain).toHaveBeenCalledWith('c.test');
		app.unmount();
	});
});
