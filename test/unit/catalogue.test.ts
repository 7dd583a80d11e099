import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {catalogue} from '../../source/core/checks/index.js';
import {stageErrors} from '../../source/core/types.js';

const doc = readFileSync(new URL('../../docs/checks.md', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The table row of a catalogue entry, as docs/checks.md must have it. */
function row(entry: (typeof catalogue)[number]): string {
	return `| \`${entry.id}\` | ${entry.severity} | ${entry.stage ?? '—'} | ${entry.check} | ${entry.when} |`;
}

function section(title: string): string {
	const start = doc.indexOf(`## ${title}`);
	expect(start, `section "${title}" in docs/checks.md`).toBeGreaterThan(-1);
	const end = doc.indexOf('\n## ', start + 1);
	return doc.slice(start, end === -1 ? undefined : end);
}

describe('the catalogue document', () => {
	it('has the row of every finding the registry can emit, exactly', () => {
		const table = section('The catalogue');
		const missing = catalogue.filter(entry => !table.includes(`${row(entry)}\n`)).map(entry => row(entry));
		expect(missing, 'rows to put in docs/checks.md').toEqual([]);
	});

	it('names no finding the registry does not have, and no id twice', () => {
		const documented = [...section('The catalogue').matchAll(/^\| `([a-z\d.-]+)` \|/gm)].map(match => match[1]);
		expect(documented).toEqual(catalogue.map(entry => entry.id));
		expect(new Set(documented).size).toBe(documented.length);
	});

	it('explains every stage error code, and only those', () => {
		const codes = [...section('Why a stage failed').matchAll(/^\| `([a-z-]+)` \|/gm)].map(match => match[1]);
		expect(codes).toEqual([...stageErrors]);
	});

	it('is what the README points at; the README refers to nothing outside the repository', () => {
		expect(readme).toContain('docs/checks.md');
		expect(readme).not.toMatch(/\.\.\/shared|\]\(\.\.\//);
	});
});
