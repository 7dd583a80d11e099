// DANE matching (RFC 7672, RFC 7671) with the demo certificates. The expected association data is
// made by the openssl command line, not by the code under test.
import {execFileSync} from 'node:child_process';
import {X509Certificate} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {matchTlsa, tlsaData, tlsaUsable} from '../../source/core/policy/dane.js';
import type {TlsaRecord} from '../../source/core/policy/types.js';

const certs = fileURLToPath(new URL('../../source/demo/certs/', import.meta.url));
const file = (name: string): string => path.join(certs, name);
const now = new Date('2026-06-01T00:00:00Z');
const mx = 'mx1.healthy.demo';

const runs = new Map<string, Buffer>();

/** One openssl run, remembered: the same question comes back in many tests. */
function openssl(args: string[], input?: Buffer | string): Buffer {
	const key = JSON.stringify([args, input?.toString('base64')]);
	let output = runs.get(key);
	if (!output) {
		output = execFileSync('openssl', args, {input, timeout: 20_000, stdio: ['pipe', 'pipe', 'ignore']});
		runs.set(key, output);
	}

	return output;
}

/** The certificate's DER, by openssl. */
function derOf(pemFile: string): Buffer {
	return openssl(['x509', '-in', pemFile, '-outform', 'DER']);
}

/** The certificate's SubjectPublicKeyInfo DER, by openssl. */
function spkiOf(pemFile: string): Buffer {
	return openssl(['pkey', '-pubin', '-outform', 'DER'], openssl(['x509', '-in', pemFile, '-pubkey', '-noout']));
}

function digest(data: Buffer, algorithm: 'sha256' | 'sha512'): string {
	return openssl(['dgst', `-${algorithm}`, '-binary'], data).toString('hex');
}

const sent = (...pemFiles: string[]): Array<{der: string}> => pemFiles.map(name => ({der: derOf(name).toString('base64')}));
const record = (usage: number, selector: number, matchingType: number, data: string): TlsaRecord => ({usage, selector, matchingType, data});

const leaf = file('healthy.pem');
const intermediate = file('intermediate.pem');
const root = file('root-ca.pem');
const stray = file('relay.pem');
const expired = file('expired.pem');

describe('tlsaData', () => {
	it('gives what openssl gives for every selector and matching type', () => {
		const der = derOf(leaf);
		expect(tlsaData(der, 1, 1)).toBe(digest(spkiOf(leaf), 'sha256'));
		expect(tlsaData(der, 1, 2)).toBe(digest(spkiOf(leaf), 'sha512'));
		expect(tlsaData(der, 0, 1)).toBe(digest(der, 'sha256'));
		expect(tlsaData(der, 0, 2)).toBe(digest(der, 'sha512'));
		expect(tlsaData(der, 0, 0)).toBe(der.toString('hex'));
		expect(tlsaData(der, 1, 0)).toBe(spkiOf(leaf).toString('hex'));
		// A CA's key too.
		expect(tlsaData(derOf(intermediate), 1, 1)).toBe(digest(spkiOf(intermediate), 'sha256'));
	});

	it('gives an empty string, not a throw, for garbage and unknown parameters', () => {
		expect(tlsaData(Buffer.from('not a certificate'), 1, 1)).toBe('');
		expect(tlsaData(Buffer.alloc(0), 0, 1)).toBe('');
		expect(tlsaData(derOf(leaf), 2, 1)).toBe('');
		expect(tlsaData(derOf(leaf), 1, 3)).toBe('');
	});
});

describe('tlsaUsable', () => {
	const sha256 = 'ab'.repeat(32);
	it.each([
		[record(0, 0, 1, sha256), /usage 0 \(PKIX-TA\) must not be used for SMTP/],
		[record(1, 1, 1, sha256), /usage 1 \(PKIX-EE\) must not be used for SMTP/],
		[record(4, 1, 1, sha256), /unknown usage 4/],
		[record(3, 2, 1, sha256), /unknown selector 2/],
		[record(3, 1, 3, sha256), /unknown matching type 3/],
		[record(3, 1, 1, 'ab'.repeat(31)), /SHA-256 digest has 32 bytes, this record's data has 31/],
		[record(3, 1, 2, sha256), /SHA-512 digest has 64 bytes, this record's data has 32/],
		[record(3, 0, 0, ''), /empty/],
		[record(3, 1, 1, 'zz'.repeat(32)), /not hexadecimal/],
		[record(3, 1, 1, 'abc'), /not hexadecimal/],
	])('finds %o unusable', (tlsa, reason) => {
		const verdict = tlsaUsable(tlsa);
		expect(verdict.usable).toBe(false);
		expect(verdict.usable ? '' : verdict.reason).toMatch(reason);
	});

	it('takes DANE-EE and DANE-TA with every selector and matching type', () => {
		for (const usage of [2, 3]) {
			for (const selector of [0, 1]) {
				expect(tlsaUsable(record(usage, selector, 0, 'ab'))).toEqual({usable: true});
				expect(tlsaUsable(record(usage, selector, 1, 'AB'.repeat(32)))).toEqual({usable: true});
				expect(tlsaUsable(record(usage, selector, 2, 'ab'.repeat(64)))).toEqual({usable: true});
			}
		}
	});
});

describe('DANE-EE(3)', () => {
	it.each([
		['3 1 1', 1, 1, () => digest(spkiOf(leaf), 'sha256')],
		['3 0 1', 0, 1, () => digest(derOf(leaf), 'sha256')],
		['3 1 2', 1, 2, () => digest(spkiOf(leaf), 'sha512')],
		['3 0 0', 0, 0, () => derOf(leaf).toString('hex')],
	])('%s matches the leaf at depth 0', (_name, selector, matchingType, data) => {
		const result = matchTlsa([record(3, selector, matchingType, data())], sent(leaf, intermediate), [mx], now);
		expect(result).toMatchObject({checked: true, match: 'matched', depth: 0, usable: 1});
		expect(result.records).toEqual([{record: record(3, selector, matchingType, data()), usable: true, matchedDepth: 0}]);
	});

	it('matches upper-case data too', () => {
		const result = matchTlsa([record(3, 1, 1, digest(spkiOf(leaf), 'sha256').toUpperCase())], sent(leaf), [mx], now);
		expect(result.match).toBe('matched');
	});

	it('ignores the name and the dates (RFC 7672 §3.1.1)', () => {
		const result = matchTlsa([record(3, 1, 1, digest(spkiOf(expired), 'sha256'))], sent(expired, intermediate), ['mx.somewhere-else.demo'], now);
		expect(result).toMatchObject({match: 'matched', depth: 0});
	});

	it('matches the leaf only, never a certificate after it', () => {
		const result = matchTlsa([record(3, 1, 1, digest(spkiOf(intermediate), 'sha256'))], sent(leaf, intermediate), [mx], now);
		expect(result.match).toBe('mismatch');
	});

	it('says what it tried when nothing matches', () => {
		const spki = digest(spkiOf(leaf), 'sha256');
		const result = matchTlsa([record(3, 1, 1, 'ab'.repeat(32)), record(3, 0, 1, 'cd'.repeat(32))], sent(leaf, intermediate), [mx], now);
		expect(result).toMatchObject({checked: true, match: 'mismatch', usable: 2});
		expect(result.depth).toBeUndefined();
		expect(result.reason).toContain('2 usable records');
		expect(result.reason).toContain(`the leaf's SPKI SHA-256 is ${spki.slice(0, 16)}`);
		expect(result.reason).toContain('no record matched');
		expect(result.records.every(match => match.usable && match.reason && match.matchedDepth === undefined)).toBe(true);
	});
});

describe('DANE-TA(2)', () => {
	const intermediateDigest = (): string => digest(derOf(intermediate), 'sha256');

	it('2 0 1 on the intermediate matches at depth 1 with the right name', () => {
		const result = matchTlsa([record(2, 0, 1, intermediateDigest())], sent(leaf, intermediate), [mx], now);
		expect(result).toMatchObject({checked: true, match: 'matched', depth: 1, usable: 1});
		expect(result.records[0]).toMatchObject({usable: true, matchedDepth: 1});
	});

	it('2 1 1 on the root sent by the server matches at depth 2, through the intermediate', () => {
		const result = matchTlsa([record(2, 1, 1, digest(spkiOf(root), 'sha256'))], sent(leaf, intermediate, root), [mx], now);
		expect(result).toMatchObject({match: 'matched', depth: 2});
	});

	it('takes the TLSA base name as a second reference name', () => {
		const result = matchTlsa([record(2, 0, 1, intermediateDigest())], sent(leaf, intermediate), ['mail.alias.demo', `${mx}.`], now);
		expect(result.match).toBe('matched');
	});

	it('is a mismatch with a wrong name, and the reason names the name', () => {
		const result = matchTlsa([record(2, 0, 1, intermediateDigest())], sent(leaf, intermediate), ['mx2.healthy.demo'], now);
		expect(result.match).toBe('mismatch');
		expect(result.reason).toContain('mx2.healthy.demo');
		expect(result.records[0]!.reason).toMatch(/leaf's names \(mx1\.healthy\.demo\) match none of mx2\.healthy\.demo/);
	});

	it('is a mismatch when the intermediate was not sent', () => {
		const result = matchTlsa([record(2, 0, 1, intermediateDigest())], sent(leaf), [mx], now);
		expect(result.match).toBe('mismatch');
		expect(result.records[0]!.reason).toMatch(/no certificate sent after the leaf matches \(0 sent after it\)/);
	});

	it('is a mismatch when the leaf does not chain to the anchor through what was sent', () => {
		// The root is sent, the intermediate between it and the leaf is not.
		const result = matchTlsa([record(2, 0, 1, digest(derOf(root), 'sha256'))], sent(leaf, root), [mx], now);
		expect(result.match).toBe('mismatch');
		expect(result.records[0]!.reason).toMatch(/does not chain to it by signatures/);
	});

	it('never takes the leaf itself as the trust anchor', () => {
		const result = matchTlsa([record(2, 0, 1, digest(derOf(leaf), 'sha256'))], sent(leaf, intermediate), [mx], now);
		expect(result.match).toBe('mismatch');
	});

	it('finds the anchor past an unrelated certificate sent in between', () => {
		const result = matchTlsa([record(2, 0, 1, intermediateDigest())], sent(leaf, stray, intermediate), [mx], now);
		expect(result).toMatchObject({match: 'matched', depth: 2});
	});

	it('refuses a matching certificate that is not a CA', () => {
		const result = matchTlsa([record(2, 0, 1, digest(derOf(stray), 'sha256'))], sent(leaf, stray, intermediate), [mx], now);
		expect(result.match).toBe('mismatch');
		expect(result.records[0]!.reason).toMatch(/depth 1 \(mx\.relay\.demo\) matches but is not a CA/);
	});

	it('is a mismatch when the leaf has expired, and says so', () => {
		const result = matchTlsa([record(2, 0, 1, intermediateDigest())], sent(expired, intermediate), ['www.elsewhere.demo'], now);
		expect(result.match).toBe('mismatch');
		expect(result.records[0]!.reason).toMatch(/leaf expired on 2021-01-01/);
	});

	it('is a mismatch before the leaf is valid', () => {
		const result = matchTlsa([record(2, 0, 1, intermediateDigest())], sent(leaf, intermediate), [mx], new Date('2024-06-01T00:00:00Z'));
		expect(result.match).toBe('mismatch');
		expect(result.records[0]!.reason).toMatch(/not valid before 2025-01-01/);
	});
});

describe('names for DANE-TA (RFC 7672 §3.2.3)', () => {
	let dir: string;
	let ca: string;
	let wildcard: string;
	let cnOnly: string;

	beforeAll(() => {
		dir = mkdtempSync(path.join(tmpdir(), 'mxdash-dane-'));
		const at = (name: string): string => path.join(dir, name);
		openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=test CA', '-days', '30', '-addext', 'basicConstraints=critical,CA:TRUE', '-keyout', at('ca-key.pem'), '-out', at('ca.pem')]);
		const issue = (name: string, subject: string, extensions: string): void => {
			openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', subject, '-keyout', at(`${name}-key.pem`), '-out', at(`${name}.csr`)]);
			writeFileSync(at(`${name}.ext`), extensions);
			openssl(['x509', '-req', '-in', at(`${name}.csr`), '-CA', at('ca.pem'), '-CAkey', at('ca-key.pem'), '-CAcreateserial', '-days', '30', '-extfile', at(`${name}.ext`), '-out', at(`${name}.pem`)]);
		};

		issue('wildcard', '/CN=ignored.example', 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:*.wild.example\n');
		issue('cn-only', '/CN=mx.cn.example', 'basicConstraints=CA:FALSE\n');
		ca = at('ca.pem');
		wildcard = at('wildcard.pem');
		cnOnly = at('cn-only.pem');
	});

	afterAll(() => {
		rmSync(dir, {recursive: true, force: true});
	});

	const judge = (leafFile: string, name: string): string => {
		const valid = new Date(new X509Certificate(readFileSync(leafFile)).validFrom);
		return matchTlsa([record(2, 1, 1, digest(spkiOf(ca), 'sha256'))], sent(leafFile, ca), [name], new Date(valid.getTime() + 60_000)).match;
	};

	it('a wildcard stands for exactly one left-most label', () => {
		expect(judge(wildcard, 'mx.wild.example')).toBe('matched');
		expect(judge(wildcard, 'MX.Wild.Example.')).toBe('matched');
		expect(judge(wildcard, 'wild.example')).toBe('mismatch');
		expect(judge(wildcard, 'a.mx.wild.example')).toBe('mismatch');
		// With a SAN, the CN is not a name.
		expect(judge(wildcard, 'ignored.example')).toBe('mismatch');
	});

	it('the CN counts only when there is no SAN', () => {
		expect(judge(cnOnly, 'mx.cn.example')).toBe('matched');
		expect(judge(cnOnly, 'mx2.cn.example')).toBe('mismatch');
	});
});

describe('the set as a whole', () => {
	const spki = (): string => digest(spkiOf(leaf), 'sha256');

	it('is none without records', () => {
		expect(matchTlsa([], sent(leaf), [mx], now)).toMatchObject({checked: true, match: 'none', records: []});
	});

	it('is unusable when no record is usable, each with its reason', () => {
		const result = matchTlsa([record(1, 1, 1, spki()), record(3, 1, 1, 'ab'.repeat(31))], sent(leaf, intermediate), [mx], now);
		expect(result).toMatchObject({checked: true, match: 'unusable', usable: 0});
		expect(result.records.map(match => match.usable)).toEqual([false, false]);
		expect(result.records[0]!.reason).toMatch(/must not be used for SMTP/);
		expect(result.records[1]!.reason).toMatch(/32 bytes/);
	});

	it('counts the usable records of a rollover and matches on the new key', () => {
		const result = matchTlsa([
			record(3, 1, 1, 'ab'.repeat(32)),
			record(3, 1, 1, spki()),
			record(2, 0, 1, digest(derOf(intermediate), 'sha256')),
			record(0, 0, 1, spki()),
		], sent(leaf, intermediate), [mx], now);
		expect(result).toMatchObject({match: 'matched', depth: 0, usable: 3});
		expect(result.reason).toContain('3 usable records of 4');
		expect(result.records.map(match => match.matchedDepth)).toEqual([undefined, 0, 1, undefined]);
		expect(result.records[0]!.reason).toMatch(/the leaf's SPKI SHA-256 is/);
		expect(result.records[3]!.usable).toBe(false);
	});

	it('is a mismatch, not a throw, when the server sent nothing or garbage', () => {
		const records = [record(3, 1, 1, spki())];
		expect(matchTlsa(records, [], [mx], now)).toMatchObject({match: 'mismatch', records: [{usable: true, reason: 'the server sent no certificate'}]});
		expect(matchTlsa(records, [{der: 'bm90IGEgY2VydA=='}], [mx], now)).toMatchObject({match: 'mismatch', records: [{usable: true, reason: 'the leaf certificate could not be read'}]});
	});
});
