import {useStdout} from 'ink';
import {useEffect, useState} from 'react';
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

/** One clock for the grid's spinners and the countdown: fast while probing, slow when idle. */
export function useClock(running: boolean): number {
	const [tick, setTick] = useState(0);
	useEffect(() => {
		const timer = setInterval(() => {
			setTick(value => value + 1);
		}, running ? 120 : 1000);
		return () => {
			clearInterval(timer);
		};
	}, [running]);
	return tick;
}
