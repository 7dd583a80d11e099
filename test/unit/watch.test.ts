import {describe, expect, it} from 'vitest';
import {Watch} from '../../source/core/run/watch.js';
import type {WatchState} from '../../source/core/run/watch.js';

/** A runner whose rounds the test ends by hand, recording what each round was asked. */
function manualRunner() {
	const calls: Array<{only?: string[]}> = [];
	const finishers: Array<() => void> = [];
	let active = 0;
	let maxActive = 0;
	const run = async (request: {only?: string[]}): Promise<void> => {
		calls.push(request);
		active++;
		maxActive = Math.max(maxActive, active);
		await new Promise<void>(resolve => {
			finishers.push(resolve);
		});
		active--;
	};

	const finish = async (): Promise<void> => {
		finishers.shift()?.();
		await new Promise(resolve => {
			setImmediate(resolve);
		});
	};

	return {run, calls, finish, get maxActive() {
		return maxActive;
	}};
}

describe('Watch', () => {
	it('never overlaps rounds and merges requests made during one', async () => {
		const runner = manualRunner();
		const watch = new Watch(runner.run, undefined);
		watch.request();
		watch.request(['a']);
		watch.request(['b']);
		expect(runner.calls).toEqual([{}]);
		await runner.finish();
		expect(runner.calls).toEqual([{}, {only: ['a', 'b']}]);
		watch.request();
		await runner.finish();
		expect(runner.calls).toEqual([{}, {only: ['a', 'b']}, {}]);
		await runner.finish();
		expect(runner.maxActive).toBe(1);
		expect(watch.state).toMatchObject({running: false, rounds: 3});
		expect(watch.state.nextAt).toBeUndefined();
	});

	it('runs again after the interval, and stops', async () => {
		const runner = manualRunner();
		const states: WatchState[] = [];
		let second: () => void = () => undefined;
		const secondStarted = new Promise<void>(resolve => {
			second = resolve;
		});
		const watch = new Watch(async request => {
			if (runner.calls.length === 1) {
				second();
			}

			await runner.run(request);
		}, 40, state => states.push(state));
		const started = Date.now();
		watch.request();
		await runner.finish();
		expect(states.at(-1)?.nextAt).toBeGreaterThanOrEqual(started + 40);
		await secondStarted;
		expect(Date.now() - started).toBeGreaterThanOrEqual(35);
		watch.stop();
		await runner.finish();
		expect(runner.calls).toHaveLength(2);
		expect(watch.state.nextAt).toBeUndefined();
	});
});
