import {Box, Text} from 'ink';
import {render} from 'ink-testing-library';
import {describe, expect, it} from 'vitest';
import {coloursOn} from '../helpers/colours.js';
// Imported as the dashboard imports it, before the first frame (app.tsx).
import {inkCachesKept} from '../../source/ui/ink-caches.js';

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
	coloursOn();

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

});
