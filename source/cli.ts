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
	(await import('./prefetch.js')).prefetch(process.argv.slice(2));
	await import('./run-cli.js');
}
