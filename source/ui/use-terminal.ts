import {useStdout} from 'ink';
import {useEffect, useRef, useState} from 'react';
import type {Size} from './frame.js';

/** The terminal's size now (80x24 when the stream does not know). */
export function terminalSize(stdout: NodeJS.WriteStream): Size {
	return {columns: stdout.columns || 80, rows: stdout.rows || 24};
}

/** The terminal's size, followed on resize. */
export function useTerminalSize(): Size {
	const {stdout} = useStdout();
	const [size, setSize] = useState(() => terminalSize(stdout));
	useEffect(() => {
		const onResize = (): void => {
			setSize(terminalSize(stdout));
		};

		stdout.on('resize', onResize);
		return () => {
			stdout.off('resize', onResize);
		};
	}, [stdout]);
	return size;
}

/** A spinner's step. */
export const spinnerMs = 120;

/** No least time between frames (a stable function: the clock's timer restarts when it changes). */
const noPace = (): number => 0;

/**
 * One clock for the grid's spinners and the countdown: fast while probing, slow when idle. Its
 * value is the time in spinner steps, so any frame (the store's, a key's) moves the spinners
 * on; the timer draws a frame only when none came for a whole step, not a second one beside
 * the store's. `pace`: the least time between frames now (Store.frameInterval), which a step
 * is never shorter than.
 */
export function useClock(running: boolean, pace: () => number = noPace): number {
	const [, setTick] = useState(0);
	const drawn = useRef(0);
	const step = running ? spinnerMs : 1000;
	useEffect(() => {
		drawn.current = performance.now();
	});
	useEffect(() => {
		let timer: NodeJS.Timeout | undefined;
		const wait = (): void => {
			timer = setTimeout(tick, Math.max(step, pace()));
		};

		const tick = (): void => {
			if (performance.now() - drawn.current >= Math.max(step, pace()) - 5) {
				setTick(value => value + 1);
			}

			wait();
		};

		wait();
		return () => {
			clearTimeout(timer);
		};
	}, [step, pace]);
	return Math.floor(Date.now() / spinnerMs);
}
