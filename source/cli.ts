#!/usr/bin/env node
// The entry point. `--version` is answered from package.json before anything else loads (a
// monitoring check pays the start-up on every run); everything else is run-cli.tsx, which loads
// only what its path needs (the dashboard's React and Ink only on a terminal).
import {readFileSync} from 'node:fs';
import process from 'node:process';

const argv = process.argv.slice(2);
const end = argv.indexOf('--');
const flags = end === -1 ? argv : argv.slice(0, end);
// Help wins over the version, as in run-cli.tsx's earlyAnswer.
if (flags.includes('--version') && !flags.some(arg => arg === '--help' || arg === '-h')) {
	const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {version: string};
	process.stdout.write(`${manifest.version}\n`);
} else {
	await import('./run-cli.js');
}
