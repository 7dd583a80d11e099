import {describe, expect, it} from 'vitest';
import {cipherWeakness, tlsFindings} from '../../source/core/checks/diagnose.js';
import {buildReport, probeKey} from '../../source/core/run/report-model.js';
import {detectSoftware} from '../../source/core/smtp/software.js';
import type {CertInfo, MxPlan, ProbeResult, Stage, StageName, TlsInfo} from '../../source/core/types.js';
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
		expect(ids(tlsFindings(tls(overrides), 'mx.test', 21))).toEqual(expected);
	});

	it('says why a cipher is weak', () => {
		expect(cipherWeakness('ECDHE-ECDSA-CHACHA20-POLY1305')).toBeUndefined();
		expect(cipherWeakness('AES256-SHA')).toMatch(/forward secrecy/);
		expect(cipherWeakness('ECDHE-RSA-AES128-SHA')).toMatch(/AEAD/);
		expect(cipherWeakness('RC4-MD5')).toMatch(/broken/);
	});
});

describe('software detection', () => {
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
	const stages = Object.fromEntries(stageNames.map(name => [name, {status: 'skipped'}])) as Record<StageName, Stage>;
	stages.connect = {status: 'critical', startedAt: 0, ms: 10_000, error: 'timeout', detail: 'no answer within 10000 ms'};
	return {target: {exchange: `mx.${ip}.test`, ip, port: 25}, family: 4, startedAt: new Date().toISOString(), ms: 10_000, stages, relay: {tested: false, open: false, attempts: []}, transcript: []};
}

describe('the report', () => {
	const plan = (ips: string[]): MxPlan => ({domain: 'a.test', input: 'a.test', findings: [], mx: ips.map((ip, index) => ({exchange: `mx.${ip}.test`, preference: index, implicit: false, ipLiteral: false, addresses: [ip], findings: []}))});
	const build = (ips: string[]) => buildReport({
		version: '1', startedAt: new Date(), finishedAt: new Date(), plans: [plan(ips)], warnDays: 21, port: () => 25, ptrs: new Map(),
		results: new Map(ips.map(ip => [probeKey(`mx.${ip}.test`, ip, 25), timedOut(ip)])),
	});

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
