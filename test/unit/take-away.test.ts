import {Buffer} from 'node:buffer';
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterEach, describe, expect, it} from 'vitest';
import {isTerminalSafe} from '../../source/core/sanitize.js';
import {Store} from '../../source/ui/store.js';
import {makeTakeAway, processIo} from '../../source/ui/take-away-io.js';
import type {TakeAwayIo} from '../../source/ui/take-away-io.js';
import {clip, numbered, osc52, reportFileName, transcriptFileName, transcriptText} from '../../source/ui/take-away.js';
import {makeTheme} from '../../source/ui/theme.js';
import {roundEvents} from '../helpers/fake-events.js';

/** The text an OSC 52 sequence carries (`ESC ] 52 ; c ; <base64> BEL`). */
const payload = (sequence: string): string => sequence.slice('\u001B]52;c;'.length, -1);

const now = new Date('2026-12-02T00:05:42.123Z');
const theme = makeTheme({noColor: true});

function hosts(banner = 'mx.a.test ESMTP') {
	const store = new Store([{domain: 'a.test', input: 'a.test'}], 0);
	for (const event of roundEvents({'a.test': [{exchange: 'mx.a.test', ip: '2001:db8::1', banner, fingerprint: 'AA:BB:CC'}]})) {
		store.apply(event);
	}

	store.flush();
	const map = store.getSnapshot().hosts;
	return {map, key: [...map.keys()][0]!, host: [...map.values()][0]!};
}

describe('take-away: the pure parts', () => {
	it('names files by host, address and UTC time, fit for any file system', () => {
		expect(transcriptFileName({exchange: 'mx.a.test', ip: '2001:db8::1'}, now)).toBe('mxdash-mx.a.test-2001_db8_1-2026-12-02T00-05-42Z.txt');
		expect(transcriptFileName({exchange: '../../etc/x', ip: '127.0.0.1'}, now)).toBe('mxdash-_._.._etc_x-127.0.0.1-2026-12-02T00-05-42Z.txt');
		expect(reportFileName(now)).toBe('mxdash-report-2026-12-02T00-05-42Z.json');
		expect(numbered('mxdash-report-x.json', 0)).toBe('mxdash-report-x.json');
		expect(numbered('mxdash-report-x.json', 2)).toBe('mxdash-report-x-2.json');
	});

	it('writes the transcript with a header, time offsets, arrows and the TLS mark, server text sanitized', () => {
		const {host} = hosts('evil \u001B[2J\u202Etext');
		const text = transcriptText(host, now, theme);
		const lines = text.split('\n');
		expect(lines[0]).toBe('mxdash transcript of mx.a.test [2001:db8::1] port 25');
		expect(lines).toContain('saved 2026-12-02T00:05:42.123Z');
		expect(text).toContain('  +0.001s · connected to 2001:db8::1 port 25');
		expect(text).toContain('  +0.002s ← 220 evil \\x1b[2J\\u202etext');
		expect(text).toContain('  +0.003s → EHLO probe.mxdash.test');
		expect(text).toMatch(/─+ TLS TLSv1\.3 ─+\n {2}\+0\.020s → EHLO/);
		expect(isTerminalSafe(text.replaceAll('\n', ''))).toBe(true);
	});

	it('makes the OSC 52 sequence, wrapped for tmux with every ESC doubled', () => {
		const base64 = Buffer.from('héllo').toString('base64');
		expect(osc52('héllo', false)).toBe(`\u001B]52;c;${base64}\u0007`);
		expect(osc52('héllo', true)).toBe(`\u001BPtmux;\u001B\u001B]52;c;${base64}\u0007\u001B\\`);
	});

	it('cuts what is copied to the limit at a line end, never inside a character', () => {
		expect(clip('short', 10)).toEqual({text: 'short', cut: false, bytes: 5});
		expect(clip('one\ntwo\nthree', 10)).toEqual({text: 'one\ntwo\n', cut: true, bytes: 13});
		expect(clip('ééééé', 5)).toEqual({text: 'éé', cut: true, bytes: 10});
	});
});

describe('take-away: the controller\'s I/O', () => {
	const directories: string[] = [];
	afterEach(() => {
		for (const directory of directories.splice(0)) {
			rmSync(directory, {recursive: true, force: true});
		}
	});

	function setup(report: () => Promise<string> = async () => '{"schema": 1}\n') {
		const directory = mkdtempSync(path.join(tmpdir(), 'mxdash-take-away-'));
		directories.push(directory);
		const written: string[] = [];
		const io: TakeAwayIo = {...processIo(), directory, tmux: false, now: () => now, writeTerminal(sequence) {
			written.push(sequence);
		}};
		const {map, key} = hosts();
		return {directory, written, key, io, takeAway: makeTakeAway({hosts: () => map, report, theme, io})};
	}

	it('saves the transcript in the directory, never over an existing file', () => {
		const {directory, key, takeAway} = setup();
		const name = 'mxdash-mx.a.test-2001_db8_1-2026-12-02T00-05-42Z.txt';
		writeFileSync(path.join(directory, name), 'mine');
		expect(takeAway.saveTranscript(key)).toBe(`saved to ${path.join(directory, 'mxdash-mx.a.test-2001_db8_1-2026-12-02T00-05-42Z-1.txt')}`);
		expect(takeAway.saveTranscript(key)).toMatch(/-2\.txt$/);
		expect(readFileSync(path.join(directory, name), 'utf8')).toBe('mine');
		expect(readFileSync(path.join(directory, name.replace('.txt', '-1.txt')), 'utf8')).toContain('→ EHLO probe.mxdash.test');
		expect(readdirSync(directory)).toHaveLength(3);
	});

	it('saves the report as JSON, and says why not in one line', async () => {
		const {directory, takeAway} = setup();
		expect(await takeAway.saveReport()).toBe(`saved to ${path.join(directory, 'mxdash-report-2026-12-02T00-05-42Z.json')}`);
		expect(readFileSync(path.join(directory, 'mxdash-report-2026-12-02T00-05-42Z.json'), 'utf8')).toBe('{"schema": 1}\n');
		const failing = setup(async () => {
			throw new Error('the engine stopped');
		});
		expect(await failing.takeAway.saveReport()).toBe('not saved: the engine stopped');
		const missing = setup();
		rmSync(missing.directory, {recursive: true});
		expect(missing.takeAway.saveTranscript(missing.key)).toMatch(/^not saved: ENOENT/);
	});

	it('copies the transcript and the leaf\'s fingerprint with OSC 52, written to the terminal', () => {
		const {key, written, takeAway, io} = setup();
		expect(takeAway.copy(key, 'transcript')).toBe('copied the transcript, 9 lines (OSC 52)');
		expect(Buffer.from(payload(written[0]!), 'base64').toString()).toContain('→ EHLO probe.mxdash.test');
		expect(takeAway.copy(key, 'fingerprint')).toBe('copied the leaf certificate\'s SHA-256 fingerprint (OSC 52)');
		expect(written[1]).toBe(osc52('AA:BB:CC', false));
		const tmux = makeTakeAway({hosts: () => hosts().map, report: async () => '', theme, io: {...io, tmux: true}});
		tmux.copy(key, 'fingerprint');
		expect(written[2]).toBe(osc52('AA:BB:CC', true));
		expect(takeAway.copy('gone', 'transcript')).toBe('nothing copied: this host is no longer probed');
	});

	it('says when what is copied was cut', () => {
		const {key, written, io} = setup();
		const long = hosts(`mx ${'x'.repeat(120_000)}`);
		const takeAway = makeTakeAway({hosts: () => long.map, report: async () => '', theme, io});
		expect(takeAway.copy(key, 'transcript')).toMatch(/^copied the transcript, cut to 100 KB of 120\.\d KB \(OSC 52\)$/);
		expect(Buffer.from(payload(written[0]!), 'base64').length).toBeLessThanOrEqual(100_000);
	});
});
