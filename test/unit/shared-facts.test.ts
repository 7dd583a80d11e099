// What many sessions share is one object: a certificate's facts on a day, a finding word for
// word; a finished session's transcript is kept packed. The knowledge of a 10,000-address round
// depends on it; nothing may tell them apart from what they stand for.
import {X509Certificate} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import {collect, defineCheck} from '../../source/core/checks/registry.js';
import {PackedTranscript} from '../../source/core/run/packed-transcript.js';
import {certInfo} from '../../source/core/tls/certificate.js';
import type {TranscriptLine} from '../../source/core/types.js';

const pem = readFileSync(new URL('../../source/demo/certs/healthy.pem', import.meta.url), 'utf8');
const day = 24 * 60 * 60 * 1000;

describe('a certificate\'s facts', () => {
	it('are the same object for every session on the same day, with or without the DER', () => {
		const now = new Date(Date.parse(new X509Certificate(pem).validFrom) + (1.5 * day));
		// A new X509Certificate per session, as each handshake gives.
		const first = certInfo(new X509Certificate(pem), now);
		expect(certInfo(new X509Certificate(pem), new Date(now.getTime() + 1000))).toBe(first);
		const withDer = certInfo(new X509Certificate(pem), now, true);
		expect(withDer).not.toBe(first);
		expect(withDer.der).toBe(new X509Certificate(pem).raw.toString('base64'));
		expect(certInfo(new X509Certificate(pem), now, true)).toBe(withDer);
		expect({...withDer, der: undefined}).toEqual({...first, der: undefined});
	});

	it('count the days left from each session\'s own date', () => {
		const now = new Date(Date.parse(new X509Certificate(pem).validFrom) + (1.5 * day));
		const today = certInfo(new X509Certificate(pem), now);
		const tomorrow = certInfo(new X509Certificate(pem), new Date(now.getTime() + day));
		expect(tomorrow.daysLeft).toBe(today.daysLeft - 1);
		// Asked for today again: today's count, not the last one handed out.
		expect(certInfo(new X509Certificate(pem), now).daysLeft).toBe(today.daysLeft);
	});
});

describe('findings', () => {
	const check = defineCheck({name: 'greeting', catalogue: {'banner-slow': {severity: 'warning', stage: 'banner', when: 'the greeting is slow', advice: 'Speed it up.'}}});
	const run = (message: string, advice?: string) => collect(check, report => {
		report('banner-slow', message, advice ? {advice} : {});
	})[0]!;

	it('are one object per distinct finding, whichever session reported it', () => {
		expect(run('220 after 9000 ms')).toBe(run('220 after 9000 ms'));
		expect(run('220 after 9000 ms')).toEqual({id: 'banner-slow', severity: 'warning', stage: 'banner', check: 'greeting', message: '220 after 9000 ms', advice: 'Speed it up.'});
	});

	it('differ when any word of them differs', () => {
		expect(run('220 after 9000 ms')).not.toBe(run('220 after 9001 ms'));
		const advised = run('220 after 9000 ms', 'Look at the DNS first.');
		expect(advised).not.toBe(run('220 after 9000 ms'));
		expect(advised.advice).toBe('Look at the DNS first.');
	});
});

describe('a packed transcript', () => {
	it('gives back the very lines it was made of, key for key', () => {
		const lines: TranscriptLine[] = [
			{t: 0, dir: 'info', text: 'connecting to 192.0.2.1 port 25 (up to 10000 ms)'},
			{t: 51.3, dir: 'server', text: '220 mx.example ESMTP'},
			{t: 51.4, dir: 'client', text: 'EHLO probe.example', tls: false},
			{t: 260.7, dir: 'server', text: '250 mx.example', tls: true},
			{t: 1e9 + 0.1, dir: 'client', text: '', tls: true},
		];
		const packed = new PackedTranscript(lines);
		expect(JSON.stringify(packed.lines())).toBe(JSON.stringify(lines));
		expect(new PackedTranscript([]).lines()).toEqual([]);
	});
});
