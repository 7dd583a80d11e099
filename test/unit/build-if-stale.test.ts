import {mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {isStale} from '../../scripts/build-if-stale.js';

const made: string[] = [];
afterEach(() => {
	for (const dir of made.splice(0)) {
		rmSync(dir, {recursive: true, force: true});
	}
});

/** A project with one source file and a build, each at the given time (seconds since 1970). */
function project(sourceAt: number, builtAt: number): string {
	const root = mkdtempSync(path.join(tmpdir(), 'mxdash-stale-'));
	made.push(root);
	mkdirSync(path.join(root, 'source'));
	mkdirSync(path.join(root, 'dist'));
	for (const [file, at] of [['source/cli.tsx', sourceAt], ['tsconfig.json', sourceAt], ['rolldown.config.js', sourceAt], ['dist/cli.js', builtAt]] as const) {
		writeFileSync(path.join(root, file), '');
		utimesSync(path.join(root, file), at, at);
	}

	utimesSync(path.join(root, 'source'), sourceAt, sourceAt);
	return root;
}

describe('npm start builds only when a source changed', () => {
	it('is the prestart step', () => {
		const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {scripts: Record<string, string>};
		expect(manifest.scripts.prestart).toBe('node scripts/build-if-stale.js');
	});

	it('skips the build when dist is newer than every source', () => {
		expect(isStale(project(1000, 2000))).toBe(false);
	});

	it('builds when a source is newer, a file was added, or dist is missing', () => {
		expect(isStale(project(2000, 1000))).toBe(true);
		const added = project(1000, 2000);
		writeFileSync(path.join(added, 'source', 'new.ts'), '');
		expect(isStale(added)).toBe(true);
		const missing = project(1000, 2000);
		rmSync(path.join(missing, 'dist', 'cli.js'));
		expect(isStale(missing)).toBe(true);
	});
});
