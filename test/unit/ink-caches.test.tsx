import chalk from 'chalk';
import {Box, Text} from 'ink';
import {render} from 'ink-testing-library';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {App} from '../../source/ui/app.js';
import {inkCachesKept} from '../../source/ui/ink-caches.js';
import {makeTheme} from '../../source/ui/theme.js';
import {idleController, press, storeAfterRound} from '../helpers/ink.js';

const keys = {down: '\u001B[B', up: '\u001B[A'};

/** Two lines whose cells trade places, colours and highlight from one frame to the next. */
function Lines({swapped}: {swapped: boolean}) {
	const cells = [<Text key="ok" color="green" inverse={swapped}>✓27ms </Text>, <Text key="bad" color="red">✗refused </Text>];
	return (
		<Box flexDirection="column">
			<Box>{swapped ? [...cells].reverse() : cells}</Box>
			<Box><Text inverse={!swapped}>mx.a.test </Text>{cells[0]}</Box>
		</Box>
	);
}

describe('Ink\'s line caches kept across frames', () => {
	// Colours on (Ink's chalk), so that the frames compare the styles too.
	const level = chalk.level;
	beforeAll(() => {
		chalk.level = 1;
	});
	afterAll(() => {
		chalk.level = level;
	});

	it('are in place for the Ink we ship', () => {
		expect(inkCachesKept).toBe(true);
	});

	it('draw a cell drawn before at its new place, with its own colours and highlight', () => {
		const app = render(<Lines swapped={false}/>);
		const first = app.lastFrame();
		app.rerender(<Lines swapped/>);
		const second = app.lastFrame();
		app.rerender(<Lines swapped={false}/>);
		expect(app.lastFrame()).toBe(first);
		app.unmount();
		expect(first).toBe('\u001B[32m✓27ms \u001B[31m✗refused \u001B[39m\n\u001B[7mmx.a.test \u001B[27m\u001B[32m✓27ms \u001B[39m');
		expect(second).toBe('\u001B[31m✗refused \u001B[7m\u001B[32m✓27ms \u001B[39m\u001B[27m\nmx.a.test \u001B[7m\u001B[32m✓27ms \u001B[39m\u001B[27m');
	});

	it('leave the grid\'s colours and highlight as they were: the highlight moves, the ✓ stays green', async () => {
		const app = render(<App store={storeAfterRound({'a.test': [{exchange: 'mx1.a.test', ip: '127.0.0.1'}, {exchange: 'mx2.a.test', ip: '127.0.0.2'}]})} controller={idleController()} theme={makeTheme()}/>);
		const row = (frame: string, host: string): string => frame.split('\n').find(line => line.includes(host)) ?? '';
		for (const [key, selected, other] of [[keys.down, 'mx1.a.test', 'mx2.a.test'], [keys.down, 'mx2.a.test', 'mx1.a.test'], [keys.up, 'mx1.a.test', 'mx2.a.test']] as const) {
			const frame = await press(app, key);
			// Highlighted from its first column to its last, its passed stages still green.
			expect(row(frame, selected).startsWith('\u001B[7m› ')).toBe(true);
			expect(row(frame, selected).endsWith('\u001B[27m')).toBe(true);
			expect(row(frame, selected)).toContain(' 127.0.0.');
			expect(row(frame, selected)).toContain('\u001B[32m✓');
			expect(row(frame, other).startsWith('  ')).toBe(true);
			expect(row(frame, other)).not.toContain('\u001B[7m');
			expect(row(frame, other)).toContain('\u001B[32m✓');
		}

		app.unmount();
	});
});
