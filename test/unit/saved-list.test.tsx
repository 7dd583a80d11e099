import {render} from 'ink-testing-library';
import {describe, expect, it, vi} from 'vitest';
import {App} from '../../source/ui/app.js';
import type {Controller} from '../../source/ui/app.js';
import {addToSaved, removeFromSaved, savedStatus} from '../../source/ui/saved-list.js';
import type {SavedList} from '../../source/ui/saved-list.js';
import {Store} from '../../source/ui/store.js';
import {makeTheme} from '../../source/ui/theme.js';
import {roundEvents} from '../helpers/fake-events.js';

/** A saved list in memory, as conf would store it. */
function memoryList(initial: string[]): SavedList & {stored: string[]} {
	const list = {
		stored: [...initial],
		read: () => [...list.stored],
		write(domains: string[]) {
			list.stored = [...domains];
			return undefined;
		},
	};
	return list;
}

describe('the saved list', () => {
	// `mxdash config set domains relay.test,soon.test,self.test`, then `mxdash good.test expired.test`.
	const saved = ['relay.test', 'soon.test', 'self.test'];

	it('a adds just its domain to the list as stored, not the view', () => {
		const list = memoryList(saved);
		expect(addToSaved(list, 'plain.test')).toBeUndefined();
		expect(list.stored).toEqual([...saved, 'plain.test']);
	});

	it('d on a domain not saved writes nothing; on a saved one removes just it', () => {
		const list = memoryList(saved);
		const write = vi.spyOn(list, 'write');
		removeFromSaved(list, 'expired.test');
		expect(write).not.toHaveBeenCalled();
		expect(list.stored).toEqual(saved);
		removeFromSaved(list, 'soon.test');
		expect(list.stored).toEqual(['relay.test', 'self.test']);
	});

	it('reads the list afresh for each change', () => {
		const list = memoryList(saved);
		list.stored.push('elsewhere.test');
		addToSaved(list, 'plain.test');
		expect(list.stored).toEqual([...saved, 'elsewhere.test', 'plain.test']);
	});

	it('says where a domain stands', () => {
		const list = memoryList(saved);
		expect(savedStatus(list, 'relay.test')).toBe('saved');
		expect(savedStatus(list, 'expired.test')).toBe('unsaved');
		expect(savedStatus(undefined, 'relay.test')).toBe('none');
		expect(savedStatus({read() {
			throw new Error('bad file');
		}, write: () => undefined}, 'relay.test')).toBe('unreadable');
	});
});

function setup(status?: Controller['savedStatus']) {
	const domains = {'good.test': [{exchange: 'mx.good.test', ip: '127.0.0.1'}], 'expired.test': [{exchange: 'mx.expired.test', ip: '127.0.0.2'}]};
	const store = new Store(Object.keys(domains).map(domain => ({domain, input: domain})), 0);
	for (const event of roundEvents(domains)) {
		store.apply(event);
	}

	store.flush();
	const controller: Controller = {reprobe: vi.fn(), reprobeAll: vi.fn(), addDomain: vi.fn(() => undefined), removeDomain: vi.fn(), quit: vi.fn(), ...(status ? {savedStatus: status} : {})};
	return render(<App store={store} controller={controller} theme={makeTheme({noColor: true})}/>);
}

async function type(app: ReturnType<typeof render>, ...keys: string[]): Promise<string> {
	for (const key of keys) {
		await new Promise(resolve => {
			setTimeout(resolve, 10);
		});
		app.stdin.write(key);
	}

	const before = app.frames.length;
	for (let waited = 0; app.frames.length === before && waited < 1000; waited += 10) {
		await new Promise(resolve => {
			setTimeout(resolve, 10);
		});
	}

	return app.lastFrame() ?? '';
}

describe('the a and d prompts', () => {
	it('asks to remove a domain from this view when it is not saved', async () => {
		const app = setup(domain => (domain === 'good.test' ? 'saved' : 'unsaved'));
		// Rows: good.test, its host, expired.test.
		const frame = await type(app, 'j', 'j', 'd');
		expect(frame).toContain('Remove expired.test from this view? (it is not on the saved list) y/n');
		expect(frame).not.toContain('from the saved list?');
		await type(app, 'n');
		expect(await type(app, 'g', 'd')).toContain('Remove good.test from this view and the saved list? y/n');
		app.unmount();
	});

	it('says that nothing is saved with --demo', async () => {
		const app = setup();
		expect(await type(app, 'd')).toContain('Remove good.test from this view? (nothing is saved with --demo) y/n');
		await type(app, 'n');
		expect(await type(app, 'a')).toContain('Add domain: _  (adds to this view only: nothing is saved with --demo)');
		app.unmount();
	});
});
