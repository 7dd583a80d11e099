import {describe, expect, it} from 'vitest';
import {diagnoseAddress} from '../../source/core/checks/index.js';
import {cipherWeakness} from '../../source/core/checks/starttls.js';
import {Knowledge, probeKey} from '../../source/core/run/knowledge.js';
import {buildReport} from '../../source/core/run/report-model.js';
import {detectSoftware} from '../../source/core/smtp/software.js';
import type {CertInfo, EhloInfo, Finding, MxPlan, ProbeResult, Stage, StageName, TlsInfo} from '../../source/core/types.js';
import {stageNames} from '../../source/core/types.js';

const ids = (items: Array<{id: string}>): string[] => items.map(item => item.id);

function cert(overrides: Partial<CertInfo> = {}): CertInfo {
	return {
		subject: 'CN=mx.test', issuer: 'CN=CA', serialNumber: '01', validFrom: '2020-01-01T00:00:00.000Z', validTo: '2099-01-01T00:00:00.000Z',
		daysLeft: 900, san: ['DNS:mx.test'], fingerprint256: 'AA', keyType: 'rsa', keyBits: 2048, signatureAlgorithm: 'sha256WithRSAEncryption', selfSigned: false, ca: false,
		...overrides,
	};
}

function tls(overrides: Partial<TlsInfo> = {}): TlsInfo {
	return {version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', authorized: true, hostnameMatch: true, chain: [cert(), cert({subject: 'CN=CA', ca: true})], chainIncomplete: false, ...overrides};
}

const context = {warnDays: 21, bannerSlowMs: 5000, now: Date.now};

function session(overrides: Partial<ProbeResult> = {}): ProbeResult {
	const stages = Object.fromEntries(stageNames.map(name => [name, {state: 'done', outcome: 'ok', startedAt: 0, ms: 1}])) as Record<StageName, Stage>;
	return {
		target: {exchange: 'mx.test', ip: '192.0.2.1', port: 25}, family: 4, startedAt: new Date().toISOString(), ms: 10, stages,
		banner: {code: 220, text: 'mx.test ESMTP', hostname: 'mx.test', delayMs: 1},
		ehlo: {greeting: 'EHLO', hostname: 'mx.test', extensions: [{keyword: 'PIPELINING', params: []}, {keyword: 'STARTTLS', params: []}]},
		relay: {tested: true, open: false, attempts: []}, transcript: [],
		...overrides,
	};
}

/** What the registry says of a session that used this TLS session, from the TLS and certificate checks. */
function tlsFindings(info: TlsInfo, _exchange: string, warnDays: number): Finding[] {
	return diagnoseAddress({result: session({tls: info})}, {...context, warnDays}).filter(item => item.check === 'starttls' || item.check === 'certificate');
}

describe('TLS and certificate diagnosis', () => {
	it('is silent on a good session', () => {
		expect(tlsFindings(tls(), 'mx.test', 21)).toEqual([]);
	});

	it.each([
		[{version: 'TLSv1', cipher: 'ECDHE-RSA-AES128-GCM-SHA256'}, ['tls-old-version', 'tls-no-1.3']],
		[{version: 'TLSv1.2', cipher: 'AES128-GCM-SHA256'}, ['tls-no-1.3', 'tls-weak-cipher']],
		[{version: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-SHA384'}, ['tls-no-1.3', 'tls-weak-cipher']],
		[{version: 'TLSv1.2', cipher: 'ECDHE-RSA-DES-CBC3-SHA'}, ['tls-no-1.3', 'tls-weak-cipher']],
		[{chain: [cert({daysLeft: 5})]}, ['cert-expiring']],
		[{chain: [cert({daysLeft: -3, validTo: '2020-06-01T00:00:00.000Z'})], authorized: false, authorizationError: 'CERT_HAS_EXPIRED'}, ['cert-expired']],
		[{chain: [cert({validFrom: '2098-01-01T00:00:00.000Z'})]}, ['cert-not-yet-valid']],
		[{hostnameMatch: false, authorized: false, authorizationError: 'ERR_TLS_CERT_ALTNAME_INVALID'}, ['cert-hostname-mismatch']],
		[{chain: [cert({selfSigned: true, issuer: 'CN=mx.test'})], authorized: false, authorizationError: 'DEPTH_ZERO_SELF_SIGNED_CERT'}, ['cert-self-signed']],
		[{chain: [cert()], chainIncomplete: true, authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'}, ['cert-chain-incomplete']],
		[{authorized: false, authorizationError: 'SELF_SIGNED_CERT_IN_CHAIN'}, ['cert-untrusted']],
		[{chain: [cert({keyBits: 1024})]}, ['cert-weak-key']],
		[{chain: [cert({keyType: 'ec', keyBits: 224})]}, ['cert-weak-key']],
		[{chain: [cert({signatureAlgorithm: 'sha1WithRSAEncryption'})]}, ['cert-weak-signature']],
	] as Array<[Partial<TlsInfo>, string[]]>)('%j gives %j', (overrides, expected) => {
		// The registry lists findings worst first; which ones is what counts here.
		expect(ids(tlsFindings(tls(overrides), 'mx.test', 21)).sort()).toEqual([...expected].sort());
	});

	it('says why a cipher is weak', () => {
		expect(cipherWeakness('ECDHE-ECDSA-CHACHA20-POLY1305')).toBeUndefined();
		expect(cipherWeakness('AES256-SHA')).toMatch(/forward secrecy/);
		expect(cipherWeakness('ECDHE-RSA-AES128-SHA')).toMatch(/AEAD/);
		expect(cipherWeakness('RC4-MD5')).toMatch(/broken/);
	});
});

describe('PIPELINING', () => {
	const extensions = (...keywords: string[]) => keywords.map(keyword => ({keyword, params: []}));
	it.each<[string, EhloInfo, string[]]>([
		['EHLO with PIPELINING', {greeting: 'EHLO', extensions: extensions('PIPELINING', 'STARTTLS')}, []],
		['EHLO without it', {greeting: 'EHLO', extensions: extensions('STARTTLS')}, ['ehlo-no-pipelining']],
		['PIPELINING before TLS only', {greeting: 'EHLO', extensions: extensions('PIPELINING', 'STARTTLS'), extensionsAfterTls: extensions('SIZE')}, ['ehlo-no-pipelining']],
		['HELO only (ehlo-no-esmtp says it all)', {greeting: 'HELO', extensions: []}, []],
	])('%s', (_name, ehlo, expected) => {
		const found = diagnoseAddress({result: session({ehlo})}, context).filter(item => item.check === 'pipelining');
		expect(ids(found)).toEqual(expected);
		expect(found.every(item => item.severity === 'info' && item.stage === (ehlo.extensionsAfterTls ? 'ehloTls' : 'ehlo'))).toBe(true);
	});
});

describe('session-ended-after-errors', () => {
	it('counts an accepted variant as accepted, not refused, and names it', () => {
		const attempts = [
			{label: 'one', mailFrom: 'a@x.test', rcptTo: 'b@y.test', mailCode: 250, code: 550, accepted: false},
			{label: 'two', mailFrom: 'a@x.test', rcptTo: 'c@y.test', mailCode: 250, code: 250, accepted: true},
			{label: 'three', mailFrom: 'a@x.test', rcptTo: 'd@y.test', mailCode: 250, code: 421, accepted: false},
			{label: 'four', mailFrom: 'a@x.test', rcptTo: 'e@y.test', accepted: false},
		];
		const stages = {relay: {state: 'done', outcome: 'failed', error: 'rate-limited', reply: {code: 421, text: '4.5.0 Too many errors, bye'}, startedAt: 0, ms: 1} as Stage};
		const result = session({relay: {tested: true, open: false, inconclusive: true, attempts}, rateLimited: '421 4.5.0 Too many errors, bye'});
		const found = diagnoseAddress({result: {...result, stages: {...result.stages, ...stages}}}, context).find(item => item.id === 'session-ended-after-errors');
		expect(found?.message).toBe('The server ended the session after errors (421 4.5.0 Too many errors, bye) once 1 of 4 relay variant(s) had been refused (accepted before it: two → 250); not tried (or cut off by the 421): three; four.');
	});
});

describe('software detection', () => {
	it.each([
		['mx.example.org ESMTP Sendmail 8.17.1.9/8.17.1.9; Tue, 1 Dec 2026 23:00:00 GMT', 'Sendmail 8.17.1.9/8.17.1.9', '8.17.1.9'],
		['mx.example.com ESMTP Haraka/3.3.4 ready', 'Haraka 3.3.4', '3.3.4'],
		['mail.example.org ESMTP Exim 4.96 Mon, 01 Jan 2024', 'Exim 4.96', '4.96'],
		['mx.example.com ESMTP chasquid', 'chasquid', undefined],
		['mx.example.com ESMTP Postfix (Debian/GNU)', 'Postfix', undefined],
	])('%s → %s, version %s', (banner, name, version) => {
		const found = detectSoftware(banner);
		expect(found?.name).toBe(name);
		expect(found?.version).toBe(version);
		expect(found?.disclosed).toBe(true);
	});

	it.each([
		['mx.example.com ESMTP Postfix (Debian/GNU)', 'Postfix', true],
		['mail.example.org ESMTP Exim 4.96 Mon, 01 Jan 2024', 'Exim 4.96', true],
		['host ESMTP Sendmail 8.15.2/8.15.2; Mon', 'Sendmail 8.15.2/8.15.2', true],
		['mx.google.com ESMTP a1si123 - gsmtp', 'Google', false],
		['AM0PR01MB.eurprd01.prod.outlook.com Microsoft ESMTP MAIL Service ready', 'Microsoft Exchange', true],
		['mx.example.net ESMTP OpenSMTPD', 'OpenSMTPD', true],
		['mx.example.net ESMTP', undefined, undefined],
	])('%s → %s', (banner, name, disclosed) => {
		const found = detectSoftware(banner);
		expect(found?.name).toBe(name);
		expect(found?.disclosed).toBe(disclosed);
	});
});

function timedOut(ip: string): ProbeResult {
	const stages = Object.fromEntries(stageNames.map(name => [name, {state: 'skipped'}])) as Record<StageName, Stage>;
	stages.connect = {state: 'done', outcome: 'failed', startedAt: 0, ms: 10_000, error: 'timeout', detail: 'no answer within 10000 ms'};
	return {target: {exchange: `mx.${ip}.test`, ip, port: 25}, family: 4, startedAt: new Date().toISOString(), ms: 10_000, stages, relay: {tested: false, open: false, attempts: []}, transcript: []};
}

describe('the report', () => {
	const plan = (ips: string[]): MxPlan => ({domain: 'a.test', input: 'a.test', query: {answer: 'records', records: ips.length, nullRecords: 0, hosts: ips.length}, mx: ips.map((ip, index) => ({exchange: `mx.${ip}.test`, preference: index, implicit: false, ipLiteral: false, addresses: [ip]}))});
	const build = (ips: string[]) => {
		const knowledge = new Knowledge(context, () => 25);
		knowledge.setPlan(plan(ips));
		for (const ip of ips) {
			knowledge.setSession(probeKey(`mx.${ip}.test`, ip, 25), timedOut(ip));
		}

		knowledge.judgeRun();
		return buildReport(knowledge, {version: '1', domains: ['a.test'], startedAt: new Date(), finishedAt: new Date()});
	};
	it('blames this machine, not every server, when every connection timed out (egress-blocked, exit 3)', () => {
		const report = build(['127.0.9.1', '127.0.9.2']);
		expect(ids(report.findings)).toEqual(['egress-blocked']);
		expect(report.summary).toMatchObject({status: 'unknown', exitCode: 3});
		expect(report.domains[0]!.mx.flatMap(mx => mx.addresses.flatMap(address => ids(address.findings)))).not.toContain('tcp-timeout');
	});

	it('blames the server when a single address timed out', () => {
		const report = build(['127.0.9.1']);
		expect(report.findings).toEqual([]);
		expect(ids(report.domains[0]!.mx[0]!.addresses[0]!.findings)).toEqual(['tcp-timeout']);
		expect(report.summary.exitCode).toBe(2);
	});
});
