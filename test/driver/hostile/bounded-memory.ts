// Section 1 of the hostile suite (test/driver/hostile.test.ts): bounded memory.
import {describe, expect, it} from 'vitest';
import type {Limits} from '../../../source/core/limits.js';
import type {Behaviour, HostileOptions} from '../../helpers/hostile-servers.js';
import {bigEhlo, budgetAcrossTls, endlessReply, hugeChain, lineWithoutEnd, longLineFlood, replyFlood} from './behaviours.js';
import {ended, failedStage, hostile, hugeChainBytes, limits, probeAt, received, serverLines} from './fixtures.js';

// ---------------------------------------------------------------------------------------------
// 1. Bounded memory
// ---------------------------------------------------------------------------------------------

describe('1. bounded memory', () => {
	const memoryLimits: Limits = {...limits, bannerMs: 5000, commandMs: 5000, tlsMs: 5000};

	it('a line with no end: line-too-long after 2 KB, long before the deadline, and the socket is closed under a server that ignores FIN [guards ReplyReader maxLineBytes, close() linger]', async () => {
		const server = await hostile('line without end', lineWithoutEnd, {allowHalfOpen: true});
		const {result, elapsed, ids} = await probeAt(server, {limits: memoryLimits});
		const session = await ended(await server.session());

		expect(failedStage(result)).toEqual(['banner', 'line-too-long']);
		expect(ids).toEqual(['protocol-error']);
		// Decided as soon as the limit was crossed; the socket then gets one second to close.
		expect(result.ms).toBeLessThan(500);
		expect(elapsed).toBeLessThan(2500);
		expect(session.clientGone).toBe(true);
		expect(session.serverClosedFirst).toBe(false);
		// What is shown of the line is a short head, not the line.
		const [shown] = serverLines(result);
		expect(shown!.length).toBeLessThan(100);
		expect(shown!.endsWith('…')).toBe(true);
		expect(received(session)).toEqual([]);
	});

	it('an endless multi-line reply: reply-too-large at maxReplyLines, then QUIT [guards ReplyReader maxReplyLines]', async () => {
		const server = await hostile('endless multi-line reply', endlessReply);
		const {result, elapsed, ids} = await probeAt(server, {limits: memoryLimits});
		const session = await ended(await server.session());

		expect(failedStage(result)).toEqual(['ehlo', 'reply-too-large']);
		expect(ids).toContain('protocol-error');
		expect(result.ms).toBeLessThan(1000);
		expect(elapsed).toBeLessThan(2500);
		expect(serverLines(result).length).toBeLessThanOrEqual(limits.maxReplyLines + 1);
		expect(result.relay.tested).toBe(false);
		expect(received(session)).toEqual(['EHLO probe.mxdash.test', 'QUIT']);
		expect(session.clientGone).toBe(true);
	});

	it('legal lines forever: session-too-large at maxSessionBytes (each line and the line count alone are legal) [guards ReplyReader maxSessionBytes]', async () => {
		const server = await hostile('long line flood', longLineFlood);
		const {result, elapsed, ids} = await probeAt(server, {limits: memoryLimits});
		const session = await ended(await server.session());

		expect(failedStage(result)).toEqual(['ehlo', 'session-too-large']);
		expect(ids).toContain('protocol-error');
		expect(result.ms).toBeLessThan(1000);
		expect(elapsed).toBeLessThan(2500);
		expect(session.clientGone).toBe(true);
		// The transcript holds at most what the session limit let in.
		const kept = result.transcript.reduce((sum, line) => sum + line.text.length, 0);
		expect(kept).toBeLessThanOrEqual(limits.maxSessionBytes + 4096);
	});

	it('the byte budget spans STARTTLS: 200 KB before and 80 KB after, each legal alone, end in session-too-large [guards the reader budget carried over in upgrade()]', async () => {
		expect(Buffer.byteLength(bigEhlo(100)) + Buffer.byteLength(bigEhlo(40))).toBeGreaterThan(limits.maxSessionBytes);
		expect(Buffer.byteLength(bigEhlo(100))).toBeLessThan(limits.maxSessionBytes);
		const server = await hostile('budget across TLS', budgetAcrossTls);
		const {result, elapsed} = await probeAt(server, {limits: memoryLimits});
		await ended(await server.session());

		expect(result.stages.ehlo.status).toBe('ok');
		expect(result.stages.tls.status).toBe('ok');
		expect(failedStage(result)).toEqual(['ehloTls', 'session-too-large']);
		expect(elapsed).toBeLessThan(2000);
	});

	it('complete replies nobody asked for, forever: unexpected-reply on the first [guards the owed-replies count in probe.ts onData]', async () => {
		const server = await hostile('reply flood', replyFlood);
		const {result, elapsed, ids} = await probeAt(server, {limits: memoryLimits});
		const session = await ended(await server.session());

		expect(failedStage(result)?.[1]).toBe('unexpected-reply');
		expect(ids).toContain('protocol-error');
		expect(result.relay.open).toBe(false);
		expect(elapsed).toBeLessThan(2500);
		expect(session.clientGone).toBe(true);
		expect(received(session)).toContain('QUIT');
	});

	it('a certificate chain of 40 certificates (> 200 KiB): the TLS stage fails promptly, nothing is buffered [guards OpenSSL max_cert_list, the tls stage failure path]', async () => {
		expect(hugeChainBytes).toBeGreaterThan(200 * 1024);
		const server = await hostile('huge certificate chain', hugeChain);
		const {result, elapsed, ids} = await probeAt(server, {limits: memoryLimits});
		const session = await ended(await server.session());

		expect(result.stages.starttls.status).toBe('ok');
		expect(failedStage(result)).toEqual(['tls', 'tls-failed']);
		expect(result.stages.tls.detail).toMatch(/excessive message size/i);
		expect(ids).toContain('starttls-failed');
		expect(result.tls).toBeUndefined();
		expect(result.injectedBytes).toBeUndefined();
		expect(elapsed).toBeLessThan(2000);
		expect(session.clientGone).toBe(true);
	});

	it('20 hostile sessions at once leave RSS within 50 MB of where it was [guards every bound above together]', async () => {
		const behaviours: Array<[string, Behaviour, HostileOptions, string]> = [
			['line without end (rss)', lineWithoutEnd, {allowHalfOpen: true}, 'line-too-long'],
			['endless multi-line reply (rss)', endlessReply, {}, 'reply-too-large'],
			['long line flood (rss)', longLineFlood, {}, 'session-too-large'],
			['huge certificate chain (rss)', hugeChain, {}, 'tls-failed'],
		];
		const targets = await Promise.all(behaviours.map(async ([name, behaviour, options, error]) => ({server: await hostile(name, behaviour, options), error})));
		const gc = (globalThis as {gc?: () => void}).gc;
		gc?.();
		const before = process.memoryUsage().rss;
		let peak = before;
		const sample = setInterval(() => {
			peak = Math.max(peak, process.memoryUsage().rss);
		}, 20);
		const started = performance.now();
		const runs = await Promise.all(Array.from({length: 20}, async (_, index) => {
			const {server, error} = targets[index % targets.length]!;
			const {result} = await probeAt(server, {limits: memoryLimits});
			return {error, got: failedStage(result)?.[1]};
		})).finally(() => {
			clearInterval(sample);
		});
		const elapsed = performance.now() - started;
		gc?.();
		const after = process.memoryUsage().rss;
		peak = Math.max(peak, after);
		const mb = (value: number): string => `${(value / 1024 / 1024).toFixed(1)} MB`;
		expect(after - before, `RSS grew by ${mb(after - before)} (peak +${mb(peak - before)})`).toBeLessThan(50 * 1024 * 1024);
		expect(peak - before, `RSS peaked ${mb(peak - before)} above the start`).toBeLessThan(100 * 1024 * 1024);
		expect(runs.map(({got}) => got)).toEqual(runs.map(({error}) => error));
		expect(elapsed).toBeLessThan(4000);
		const sessions = targets.flatMap(({server}) => server.sessions);
		expect(sessions).toHaveLength(20);
		await Promise.all(sessions.map(async session => ended(session)));
		expect(sessions.every(session => session.clientGone)).toBe(true);
	});
});
