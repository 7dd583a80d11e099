#!/usr/bin/env node
// The entry point. `--version` is answered from package.json before anything else loads (a
// monitoring check pays the start-up on every run); a one-shot run's DNS starts next (prefetch.ts);
// everything else is run-cli.tsx, which loads only what its path needs (React and Ink only on a terminal).
import {readFileSync} from 'node:fs';
import process from 'node:process';
import {earlyAnswer} from './early-answer.js';

if (earlyAnswer(process.argv.slice(2)) === 'version') {
	const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string};
	process.stdout.write(`${manifest.version}\n`);
} else {
	if ((await import('./prefetch.js')).prefetch(process.argv.slice(2))) {
		// Loading is one long run of JavaScript: between its parts the event loop turns, so that
		// an MX answer that came meanwhile sends its address questions before the rest loads.
		for (const load of [async () => import('./core/run/monitor.js'), async () => import('meow')]) {
			await load();
			await new Promise(resolve => {
				setImmediate(resolve);
			});
		}
	}

	await import('./run-cli.js');
}
