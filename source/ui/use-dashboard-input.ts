import {useApp, useInput, useStdin} from 'ink';
import type {Key} from 'ink';
import {useEffect, useMemo, useState, useSyncExternalStore} from 'react';
import type {Controller} from './controller.js';
import {createDashboardStore} from './dashboard-store.js';
import type {DashboardState, View} from './dashboard-state.js';

/**
 * The main keys: owns the grid's and detail screen's useInput, inactive while a prompt or the
 * help is open (they listen with their own useInput, handing keys to the returned `onKey`).
 * `viewFor` should be stable: the store is made once.
 */
export function useDashboardInput(controller: Controller, viewFor: (state: DashboardState) => View): {state: DashboardState; onKey: (input: string, key: Key) => void} {
	const {exit} = useApp();
	const [store] = useState(() => createDashboardStore({controller, viewFor, exit}));
	const state = useSyncExternalStore(store.subscribe, store.get);
	useRawModeHeld();
	useInput(store.onKey, {isActive: state.overlay.kind === 'none'});
	return useMemo(() => ({state, onKey: store.onKey}), [state, store]);
}

/**
 * Raw mode held for the dashboard's whole life: handing the keys from one useInput to another
 * would otherwise let Ink's count drop to zero for an instant, leaving raw mode and dropping a
 * half-read escape sequence.
 */
function useRawModeHeld(): void {
	const {setRawMode} = useStdin();
	useEffect(() => {
		setRawMode(true);
		return () => {
			setRawMode(false);
		};
	}, [setRawMode]);
}
