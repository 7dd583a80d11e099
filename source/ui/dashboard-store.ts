import type {Key} from 'ink';
import type {Controller} from './controller.js';
import type {DashboardAction, DashboardState, Effect, View} from './dashboard-state.js';
import {initialState, reduce} from './dashboard-state.js';
import {keyActions, splitKeys} from './key-actions.js';
import type {TakeAway} from './take-away-io.js';

/**
 * The dashboard's state lives in a tiny store outside React: keys arrive faster than frames
 * (renders are throttled), so each key must build on the state the previous key left, which
 * only a store updated synchronously by dispatch has; React reads it with useSyncExternalStore.
 */
export type DashboardStore = {
	get: () => DashboardState;
	subscribe: (listener: () => void) => () => void;
	/** Reduce one action against the latest state and carry out its effects. */
	dispatch: (action: DashboardAction) => void;
	/** One key (or a run of them) as Ink's useInput gives it. */
	onKey: (input: string, key: Key) => void;
};

export type DashboardStoreOptions = {
	controller: Controller;
	/** The frame the state would be shown in, worked out afresh for each action. */
	viewFor: (state: DashboardState) => View;
	exit: () => void;
	initial?: DashboardState;
};

/** A save or copy; its notice may come later (the report is asked of the engine's thread). */
function runTakeAway(takeAway: TakeAway | undefined, effect: Extract<Effect, {type: 'saveTranscript' | 'saveReport' | 'copy'}>, notify: (text: string) => void): void {
	if (!takeAway) {
		notify('saving and copying are not available here');
	} else if (effect.type === 'saveReport') {
		void takeAway.saveReport().then(notify);
	} else {
		notify(effect.type === 'copy' ? takeAway.copy(effect.key, effect.what) : takeAway.saveTranscript(effect.key));
	}
}

export function createDashboardStore({controller, viewFor, exit, initial = initialState}: DashboardStoreOptions): DashboardStore {
	let state = initial;
	const listeners = new Set<() => void>();

	const run = (effect: Effect): void => {
		switch (effect.type) {
			case 'reprobe': {
				controller.reprobe(effect.keys);
				break;
			}

			case 'reprobeAll': {
				controller.reprobeAll();
				break;
			}

			case 'scanTls': {
				if (controller.scanTls) {
					controller.scanTls(effect.key);
				} else {
					dispatch({type: 'notice', text: 'TLS scans are not available here'});
				}

				break;
			}

			case 'add': {
				const error = controller.addDomain(effect.text);
				if (error) {
					dispatch({type: 'addFailed', text: effect.text, error});
				}

				break;
			}

			case 'remove': {
				controller.removeDomain(effect.domain);
				break;
			}

			case 'saveTranscript':
			case 'saveReport':
			case 'copy': {
				runTakeAway(controller.takeAway, effect, text => {
					dispatch({type: 'notice', text});
				});
				break;
			}

			case 'quit': {
				controller.quit();
				exit();
				break;
			}
		}
	};

	const dispatch = (action: DashboardAction): void => {
		const result = reduce(state, action, viewFor(state));
		if (result.state !== state) {
			state = result.state;
			for (const listener of listeners) {
				listener();
			}
		}

		for (const effect of result.effects) {
			run(effect);
		}
	};

	const onKey = (input: string, key: Key): void => {
		for (const single of splitKeys(state.overlay, input, key)) {
			// Each key is read by the state the previous one left (a prompt it opened, say).
			for (const action of keyActions(state, single.input, single.key)) {
				dispatch(action);
			}
		}
	};

	return {
		get: () => state,
		subscribe(listener) {
			listeners.add(listener);
			return () => {
				listeners.delete(listener);
			};
		},
		dispatch,
		onKey,
	};
}
