import chalk from 'chalk';
import {afterAll, beforeAll} from 'vitest';

/** Colours on (Ink's chalk) for the tests of this describe, so that frames hold the styles. */
export function coloursOn(): void {
	const level = chalk.level;
	beforeAll(() => {
		chalk.level = 1;
	});
	afterAll(() => {
		chalk.level = level;
	});
}
