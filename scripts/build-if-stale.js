#!/usr/bin/env node
// `npm start` ran the whole build every time before the first frame; this builds only
// when something the build reads is newer than the last build.
import {spawnSync} from 'node:child_process';
import {readdirSync, statSync, utimesSync} from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';

const inputs = ['source', 'tsconfig.json', 'rolldown.config.js', 'package.json'];
// The bundle's entry, stamped with the time the build started (a file saved meanwhile is newer).
const stamp = path.join('dist', 'cli.js');

/** Newest mtime of a file, or of a directory and all in it (adding or deleting a file changes its directory's). */
function newest(file) {
	const stats = statSync(file);
	if (!stats.isDirectory()) {
		return stats.mtimeMs;
	}

	return Math.max(stats.mtimeMs, ...readdirSync(file).map(name => newest(path.join(file, name))));
}

/** Whether dist/ under `root` is missing or older than any of the build's inputs. */
export function isStale(root) {
	let built;
	try {
		built = statSync(path.join(root, stamp)).mtimeMs;
	} catch {
		return true;
	}

	return inputs.some(input => {
		try {
			return newest(path.join(root, input)) > built;
		} catch {
			return false;
		}
	});
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && path.resolve(process.argv[1]) === self) {
	const root = path.dirname(path.dirname(self));
	if (isStale(root)) {
		// The time before the build, so a file saved while tsc runs is still newer next time.
		const started = new Date();
		const rolldown = path.join(root, 'node_modules', 'rolldown', 'bin', 'cli.mjs');
		const run = spawnSync(process.execPath, [rolldown, '-c', 'rolldown.config.js', '--logLevel', 'warn'], {cwd: root, stdio: 'inherit'});
		if (run.status !== 0) {
			process.exit(run.status ?? 1);
		}

		utimesSync(path.join(root, stamp), started, started);
	}
}
