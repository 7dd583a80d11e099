#!/usr/bin/env node
// The entry point. `--version` is answered from package.json before anything else loads (a
// monitoring check pays the start-up on every run); everything else is run-cli.tsx, which loads
// only what its path needs (the dashboard's React and Ink only on a terminal).
import {readFileSync} from 'node:fs';
import process from 'node:process';
import {earlyAnswer} from './early-answer.js';

if (earlyAnswer(process.argv.slice(2)) === 'version') {
	const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string};
	process.stdout.write(`${manifest.version}\n`);
} else {
	await import('./run-cli.js');
}
