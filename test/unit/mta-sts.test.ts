// MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) parsing: the records, the policy body and the MX
// pattern matching, rule by rule.
import {describe, expect, it} from 'vitest';
import {matchingPattern, mtaStsDomainName, mxPatternMatches, parsePolicy, parseStsRecord, policyUrl, stsRecords} from '../../source/core/policy/mta-sts.js';
import {parseTlsRpt} from '../../source/core/policy/tlsrpt.js';

describe('stsRecords', () => {
	it.each([
		['v=STSv1; id=20240101', true],
		['v=STSv1;id=1', true],
		['v=STSv1 ; id=1', true],
		['v=STSv1\t;id=1', true],
		['v=STSv1', false],
		['v=STSv1 id=1', false],
		['v=STSv10; id=1', false],
		['V=STSv1; id=1', false],
		['v=stsv1; id=1', false],
		[' v=STSv1; id=1', false],
		['id=1; v=STSv1;', false],
		['v=spf1 -all', false],
	])('%j is an MTA-STS record: %s', (record, kept) => {
		expect(stsRecords([record])).toEqual(kept ? [record] : []);
	});

	it('keeps every MTA-STS record among others, in order', () => {
		expect(stsRecords(['v=spf1 -all', 'v=STSv1; id=a', 'v=STSv1; id=b'])).toEqual(['v=STSv1; id=a', 'v=STSv1; id=b']);
	});
});

describe('parseStsRecord', () => {
	it.each([
		['v=STSv1; id=20240101T000000', '20240101T000000'],
		['v=STSv1; id=abc;', 'abc'],
		['v=STSv1 ;  id=abc  ; ', 'abc'],
		['v=STSv1;\tid=abc', 'abc'],
		['v=STSv1; id=abc; ext_1.x-y=some:value', 'abc'],
		['v=STSv1; ext=1; id=Z9', 'Z9'],
		[`v=STSv1; id=${'a'.repeat(32)}`, 'a'.repeat(32)],
	])('%j is good: id %j', (raw, id) => {
		expect(parseStsRecord(raw)).toEqual({id, errors: []});
	});

	it.each([
		['id=abc; v=STSv1', ['the record starts with "id=abc", not "v=STSv1"', '"v=" must be the first field, not field 2']],
		['v=STSv2; id=abc', ['the version is "STSv2", not "STSv1"']],
		['v=STSv1; id=abc-1', ['id "abc-1" has a character other than letters and digits']],
		['v=STSv1; id=', ['the id is empty']],
		[`v=STSv1; id=${'a'.repeat(33)}`, [`id "${'a'.repeat(33)}" is 33 characters long, more than 32`]],
		['v=STSv1', ['the record has no id']],
		['v=STSv1; ext=1', ['the record has no id']],
		['v=STSv1; id=a; id=b', ['the record has more than one id']],
		['v=STSv1;; id=a', ['field 2 is empty (two ";" in a row)']],
		['v=STSv1; id=a; junk', ['field "junk" has no "="']],
		['v=STSv1; id=a; v=STSv1', ['"v=" must be the first field, not field 3']],
		['v=STSv1; id=a; _bad=1', ['field name "_bad" is not 1–32 letters, digits, "_", "-" or "." starting with a letter or digit']],
		['v=STSv1; id=a; ext=a b', ['the value of "ext" is empty or has a space, "=" or a character that is not printable ASCII']],
		['v=STSv1; id=a; ext=a=b', ['the value of "ext" is empty or has a space, "=" or a character that is not printable ASCII']],
		['v=STSv1; id=a; ext=', ['the value of "ext" is empty or has a space, "=" or a character that is not printable ASCII']],
	])('%j breaks the rules', (raw, errors) => {
		expect(parseStsRecord(raw).errors).toEqual(errors);
	});

	it('keeps no id that breaks the rules', () => {
		expect(parseStsRecord('v=STSv1; id=abc-1').id).toBeUndefined();
	});
});

const good = 'version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.example.net\nmax_age: 86400\n';

describe('parsePolicy', () => {
	it('reads a policy with LF line ends', () => {
		expect(parsePolicy(good)).toEqual({policy: {version: 'STSv1', mode: 'enforce', maxAge: 86_400, mx: ['mx1.example.com', '*.example.net']}, errors: []});
	});

	it('reads a policy with CRLF line ends, whitespace around the colon, and no final line break', () => {
		expect(parsePolicy('version:STSv1\r\nmode :  testing \r\nmx:\tmx.example.com\r\nmax_age: 0')).toEqual({policy: {version: 'STSv1', mode: 'testing', maxAge: 0, mx: ['mx.example.com']}, errors: []});
	});

	it('ignores unknown keys and needs no mx for mode none', () => {
		expect(parsePolicy('version: STSv1\nmode: none\nmax_age: 31557600\nfuture_key: whatever\n')).toEqual({policy: {version: 'STSv1', mode: 'none', maxAge: 31_557_600, mx: []}, errors: []});
	});

	it.each([
		['mode: enforce\nmx: a\nmax_age: 1\n', 'the policy has no "version" line'],
		['version: STSv2\nmode: enforce\nmx: a\nmax_age: 1\n', 'the version is "STSv2", not "STSv1"'],
		['Version: STSv1\nmode: enforce\nmx: a\nmax_age: 1\n', 'the policy has no "version" line'],
		['version: STSv1\nmx: a\nmax_age: 1\n', 'the policy has no "mode" line'],
		['version: STSv1\nmode: strict\nmx: a\nmax_age: 1\n', 'mode "strict" is not one of enforce, testing or none'],
		['version: STSv1\nmode: enforce\nmx: a\n', 'the policy has no "max_age" line'],
		['version: STSv1\nmode: enforce\nmx: a\nmax_age: one day\n', 'max_age "one day" is not a number of seconds'],
		['version: STSv1\nmode: enforce\nmx: a\nmax_age: -1\n', 'max_age "-1" is not a number of seconds'],
		['version: STSv1\nmode: enforce\nmx: a\nmax_age: 31557601\n', 'max_age 31557601 is more than 31557600 seconds (one year)'],
		['version: STSv1\nmode: enforce\nmax_age: 1\n', 'the policy has no "mx" line, yet its mode is "enforce"'],
		['version: STSv1\nmode: testing\nmax_age: 1\n', 'the policy has no "mx" line, yet its mode is "testing"'],
		['version: STSv1\nmode: enforce\nmode: none\nmx: a\nmax_age: 1\n', '"mode" appears more than once (again on line 3)'],
		['version: STSv1\nversion: STSv1\nmode: enforce\nmx: a\nmax_age: 1\n', '"version" appears more than once (again on line 2)'],
		['version: STSv1\nmode: enforce\nmx: a\nmax_age: 1\nmax_age: 2\n', '"max_age" appears more than once (again on line 5)'],
		['version: STSv1\nmode: enforce\nmx a\nmax_age: 1\n', 'line 3 is not "key: value": "mx a"'],
		['version: STSv1\nmode: enforce\nmx: a\nmx:\nmax_age: 1\n', 'mx "" on line 4 is not a host name, nor "*." and a host name'],
		['version: STSv1\nmode: enforce\nmx: *.*.example.com\nmax_age: 1\n', 'mx "*.*.example.com" on line 3 is not a host name, nor "*." and a host name'],
		['version: STSv1\nmode: enforce\nmx: mx.example.com:25\nmax_age: 1\n', 'mx "mx.example.com:25" on line 3 is not a host name, nor "*." and a host name'],
		['version: STSv1\nmode: enforce\nmx: mx..example.com\nmax_age: 1\n', 'mx "mx..example.com" on line 3 is not a host name, nor "*." and a host name'],
		['version: STSv1\nmode: enforce\nmx: -mx.example.com\nmax_age: 1\n', 'mx "-mx.example.com" on line 3 is not a host name, nor "*." and a host name'],
	])('%j: %s', (body, error) => {
		expect(parsePolicy(body).errors).toContain(error);
	});

	it.each([
		['0', 0],
		['31557600', 31_557_600],
	])('max_age %s is in range', (value, maxAge) => {
		const parsed = parsePolicy(`version: STSv1\nmode: enforce\nmx: a\nmax_age: ${value}\n`);
		expect(parsed).toEqual({policy: {version: 'STSv1', mode: 'enforce', maxAge, mx: ['a']}, errors: []});
	});

	it.each(['mx.example.com', 'MX1.Example.COM.', '*.example.com', 'localhost', 'a-b.c'])('mx %j is a good pattern', pattern => {
		expect(parsePolicy(`version: STSv1\nmode: enforce\nmx: ${pattern}\nmax_age: 1\n`)).toEqual({policy: {version: 'STSv1', mode: 'enforce', maxAge: 1, mx: [pattern]}, errors: []});
	});

	it('keeps the first value of a duplicated key', () => {
		expect(parsePolicy('version: STSv1\nmode: testing\nmode: enforce\nmx: a\nmax_age: 1\n').policy.mode).toBe('testing');
	});

	it('examines at most 512 lines and keeps at most 64 mx patterns', () => {
		const many = Array.from({length: 100}, (_, index) => `mx: mx${index}.example.com`).join('\n');
		const parsed = parsePolicy(`version: STSv1\nmode: enforce\nmax_age: 1\n${many}\n`);
		expect(parsed.errors).toEqual([]);
		expect(parsed.policy.mx).toHaveLength(64);
		expect(parsed.policy.mx.at(-1)).toBe('mx63.example.com');

		const late = parsePolicy(`${'x: y\n'.repeat(600)}version: STSv1\nmode: none\nmax_age: 1\n`);
		expect(late.errors).toContain('the policy has no "version" line');
	});
});

describe('MX patterns', () => {
	it.each([
		['mx.example.com', 'mx.example.com', true],
		['MX.Example.COM', 'mx.example.com', true],
		['mx.example.com.', 'MX.EXAMPLE.COM', true],
		['mx.example.com', 'mx.example.com.', true],
		['mx.example.com', 'mx2.example.com', false],
		['mx.example.com', 'example.com', false],
		['*.example.com', 'mx.example.com', true],
		['*.example.com', 'MX.example.com.', true],
		['*.Example.com.', 'mx.example.com', true],
		['*.example.com', 'a.mx.example.com', false],
		['*.example.com', 'example.com', false],
		['*.example.com', 'mx.example.org', false],
		['*.example.com', 'mxexample.com', false],
		['*.mx.example.com', 'mx.example.com', false],
		['', 'mx.example.com', false],
	])('%j matches %j: %s', (pattern, host, matches) => {
		expect(mxPatternMatches(pattern, host)).toBe(matches);
	});

	it('finds the first matching pattern', () => {
		expect(matchingPattern(['mx1.example.com', '*.example.net', 'mx.example.net'], 'mx.example.net')).toBe('*.example.net');
		expect(matchingPattern(['mx1.example.com'], 'mx2.example.com')).toBeUndefined();
		expect(matchingPattern([], 'mx.example.com')).toBeUndefined();
	});

	it('names the policy host and URL', () => {
		expect(mtaStsDomainName('Example.COM.')).toBe('mta-sts.example.com');
		expect(policyUrl('example.com')).toBe('https://mta-sts.example.com/.well-known/mta-sts.txt');
	});
});

describe('parseTlsRpt', () => {
	it('reads a good record with two URIs among other TXT records', () => {
		const record = 'v=TLSRPTv1; rua=mailto:tlsrpt@example.com, https://reports.example.com/tlsrpt';
		expect(parseTlsRpt(['v=spf1 -all', record])).toEqual({record, rua: ['mailto:tlsrpt@example.com', 'https://reports.example.com/tlsrpt'], errors: [], multiple: false});
	});

	it('allows whitespace around ";", a trailing ";" and extension fields', () => {
		expect(parseTlsRpt(['v=TLSRPTv1 ;rua=mailto:a@example.com ; ext=1;'])).toMatchObject({rua: ['mailto:a@example.com'], errors: []});
	});

	it('finds nothing without a v=TLSRPTv1 record', () => {
		expect(parseTlsRpt(['v=spf1 -all', 'v=TLSRPTv1', 'v=TLSRPTv2; rua=mailto:a@example.com'])).toEqual({rua: [], errors: [], multiple: false});
	});

	it('reports more than one record', () => {
		expect(parseTlsRpt(['v=TLSRPTv1; rua=mailto:a@example.com', 'v=TLSRPTv1; rua=mailto:b@example.com'])).toEqual({rua: [], errors: ['there are 2 TLS-RPT records; senders use none of them'], multiple: true});
	});

	it.each([
		['v=TLSRPTv1; rua=http://reports.example.com/', 'report URI "http://reports.example.com/" uses "http:", not mailto: or https:'],
		['v=TLSRPTv1; rua=ftp://example.com/', 'report URI "ftp://example.com/" uses "ftp:", not mailto: or https:'],
		['v=TLSRPTv1; rua=tlsrpt@example.com', 'report URI "tlsrpt@example.com" has no scheme (mailto: or https:)'],
		['v=TLSRPTv1; rua=mailto:', 'report address "mailto:" has no valid mail address after "mailto:"'],
		['v=TLSRPTv1; rua=mailto:nobody', 'report address "mailto:nobody" has no valid mail address after "mailto:"'],
		['v=TLSRPTv1; rua=https://', 'report URI "https://" is not a valid https URL'],
		['v=TLSRPTv1; rua=mailto:a@example.com,', 'rua has an empty URI'],
		['v=TLSRPTv1;', 'the record has no rua (where reports go)'],
		['v=TLSRPTv1; ext=1', 'the record has no rua (where reports go)'],
		['v=TLSRPTv1; rua', 'field "rua" has no "="'],
		['v=TLSRPTv1;; rua=mailto:a@example.com', 'the record has an empty field (two ";" in a row)'],
		['v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com', 'the record has more than one rua'],
	])('%j: %s', (record, error) => {
		expect(parseTlsRpt([record]).errors).toContain(error);
	});

	it('keeps the good URIs beside a bad one', () => {
		expect(parseTlsRpt(['v=TLSRPTv1; rua=http://a.example.com/,mailto:b@example.com'])).toMatchObject({rua: ['mailto:b@example.com'], errors: ['report URI "http://a.example.com/" uses "http:", not mailto: or https:']});
	});

	it('looks at no more than 16 URIs', () => {
		const uris = Array.from({length: 20}, (_, index) => `mailto:r${index}@example.com`).join(',');
		const parsed = parseTlsRpt([`v=TLSRPTv1; rua=${uris}`]);
		expect(parsed.rua).toHaveLength(16);
		expect(parsed.errors).toEqual(['rua has 20 URIs; only the first 16 were looked at']);
	});
});
