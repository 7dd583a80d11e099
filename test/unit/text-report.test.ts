// The text report built from one session through the real registry and report model.
import {describe, expect, it} from 'vitest';
import {Knowledge, probeKey} from '../../source/core/run/knowledge.js';
import {buildReport} from '../../source/core/run/report-model.js';
import type {Report} from '../../source/core/run/report-model.js';
import {relayPairs} from '../../source/core/smtp/relay-variants.js';
import {describeTlsFailure} from '../../source/core/tls/failure.js';
import type {ProbeResult, Stage, StageName} from '../../source/core/types.js';
import {stageNames} from '../../source/core/types.js';
import {textReport} from '../../source/report/text.js';
import {summaryLines} from '../../source/ui/panes.js';
import type {HostState} from '../../source/ui/store.js';
import {makeTheme} from '../../source/ui/theme.js';

const context = {warnDays: 21, bannerSlowMs: 5000, now: Date.now};
const exchange = 'mx.report.test';
const ip = '192.0.2.25';

function session(overrides: Partial<ProbeResult> = {}, stages: Partial<Record<StageName, Stage>> = {}): ProbeResult {
	const done = Object.fromEntries(stageNames.map(name => [name, {state: 'done', outcome: 'ok', startedAt: 0, ms: 1}])) as Record<StageName, Stage>;
	return {
		target: {domain: 'report.test', exchange, ip, port: 25}, family: 4, startedAt: new Date().toISOString(), ms: 10,
		stages: {...done, ...stages},
		banner: {code: 220, text: `${exchange} ESMTP`, hostname: exchange, delayMs: 1},
		ehlo: {greeting: 'EHLO', hostname: exchange, extensions: [{keyword: 'PIPELINING', params: []}, {keyword: 'STARTTLS', params: []}]},
		relay: {tested: true, open: false, attempts: []}, transcript: [],
		...overrides,
	};
}

function report(result: ProbeResult): Report {
	const knowledge = new Knowledge(context, () => 25);
	knowledge.setPlan({domain: 'report.test', input: 'report.test', query: {answer: 'records', records: 1, nullRecords: 0, hosts: 1}, mx: [{exchange, preference: 10, implicit: false, ipLiteral: false, addresses: [ip]}]});
	knowledge.setSession(probeKey(exchange, ip, 25), result);
	knowledge.judgeRun();
	return buildReport(knowledge, {version: '1', domains: ['report.test'], startedAt: new Date(), finishedAt: new Date()});
}

const addressOf = (built: Report) => built.domains[0]!.mx[0]!.addresses[0]!;

// What Node 20 (OpenSSL 3) says when the server answers the ClientHello with a fatal alert.
const alertError = '807C2484BF7F0000:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 40\n';

describe('a failed TLS handshake', () => {
	it.each([
		[alertError, 'the server sent the TLS alert handshake_failure (40)'],
		['80:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 70\n', 'the server sent the TLS alert protocol_version (70)'],
		['00:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert whatever:ssl/record/rec_layer_s3.c:1601:SSL alert number 199', 'the server sent the TLS alert number 199'],
		['C0:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:355:\n (the server answered the handshake with something that is not TLS: a broken TLS setup, or plaintext sent after 220 to STARTTLS)', 'OpenSSL reported "wrong version number" (the server answered the handshake with something that is not TLS: a broken TLS setup, or plaintext sent after 220 to STARTTLS)'],
		['Client network socket disconnected before secure TLS connection was established', 'Client network socket disconnected before secure TLS connection was established'],
	])('%j is said as %j', (raw, words) => {
		expect(describeTlsFailure(raw)).toBe(words);
	});

	it('is said in words in the finding and the text report; the raw OpenSSL text stays in the stage detail only', () => {
		const built = report(session({}, {tls: {state: 'done', outcome: 'failed', error: 'tls-failed', startedAt: 2, ms: 3, detail: alertError}, ehloTls: {state: 'skipped', detail: 'not reached'}}));
		const address = addressOf(built);
		const finding = address.findings.find(item => item.id === 'starttls-failed');
		expect(finding?.message).toBe('STARTTLS is advertised, but the TLS handshake after the 220 to STARTTLS failed: the server sent the TLS alert handshake_failure (40).');
		expect(address.stages.tls.detail).toBe(alertError);
		const text = textReport(built);
		expect(text).toContain('handshake_failure (40)');
		expect(text).not.toMatch(/rec_layer_s3|deps\/openssl|\\n/);
	});

	it('is said in words in the dashboard Summary too', () => {
		const result = session({}, {tls: {state: 'done', outcome: 'failed', error: 'tls-failed', startedAt: 2, ms: 3, detail: alertError}, ehloTls: {state: 'skipped', detail: 'not reached'}});
		const host: HostState = {key: 'k', exchange, ip, port: 25, phase: 'done', stages: result.stages, transcript: [], result, findings: [], judged: true, history: [], changes: []};
		const texts = summaryLines(host, undefined, 100, makeTheme({noColor: true, ascii: true})).map(line => line.text);
		expect(texts).toContain('the server sent the TLS alert handshake_failure (40)');
		expect(texts.join('\n')).not.toMatch(/rec_layer_s3|\\n/);
	});
});

describe('the software and its version', () => {
	const sendmail = session({
		banner: {code: 220, text: `${exchange} ESMTP Sendmail 8.17.1.9/8.17.1.9; Tue, 1 Dec 2026 23:00:00 GMT`, hostname: exchange, software: 'Sendmail 8.17.1.9/8.17.1.9', softwareVersion: '8.17.1.9', delayMs: 1},
		software: 'Sendmail 8.17.1.9/8.17.1.9', softwareVersion: '8.17.1.9', softwareDisclosed: true,
	});

	it('shows the version in the text report', () => {
		expect(textReport(report(sendmail))).toMatch(/\(no ptr, Sendmail 8\.17\.1\.9\/8\.17\.1\.9, version 8\.17\.1\.9,/);
	});

	it('shows the version in the dashboard Summary, or says none was disclosed', () => {
		const host = (result: ProbeResult): HostState => ({key: 'k', exchange, ip, port: 25, phase: 'done', stages: result.stages, transcript: [], result, findings: [], judged: true, history: [], changes: []});
		const texts = (result: ProbeResult) => summaryLines(host(result), undefined, 80, makeTheme({noColor: true, ascii: true})).map(line => line.text);
		expect(texts(sendmail)).toEqual(expect.arrayContaining(['Software: Sendmail 8.17.1.9/8.17.1.9', 'Version: 8.17.1.9']));
		expect(texts(session({software: 'chasquid', softwareDisclosed: true}))).toEqual(expect.arrayContaining(['Software: chasquid', 'Version: not disclosed']));
	});
});

describe('the greeting', () => {
	it('is shown whole, every line with its code, sanitized (a postscreen pre-greeting)', () => {
		const text = 'mx.report.test postscreen: wait for it\nthere is \u001B[31mmore\nmx.report.test ESMTP Postfix';
		const lines = textReport(report(session({banner: {code: 220, text, hostname: exchange, delayMs: 6100}}))).split('\n');
		const at = lines.findIndex(line => line.includes('banner: '));
		expect(lines.slice(at, at + 3)).toEqual([
			'             banner: 220-mx.report.test postscreen: wait for it',
			'                     220-there is \\x1b[31mmore',
			'                     220 mx.report.test ESMTP Postfix',
		]);
	});
});

describe('long evidence', () => {
	it('is wrapped, never cut: the open-relay finding of --relay thorough keeps every variant', () => {
		const attempts = relayPairs('thorough', 'probe@mxdash.invalid', 'relay-check@mxdash.invalid', exchange, ip).map(pair => ({...pair, mailCode: 250, code: 250, text: '2.1.5 Ok', accepted: true}));
		const built = report(session({relay: {tested: true, open: true, attempts}}));
		const finding = addressOf(built).findings.find(item => item.id === 'open-relay')!;
		expect(finding.message.length).toBeGreaterThan(1500);

		const lines = textReport(built).split('\n');
		const first = lines.findIndex(line => line.includes('open-relay ['));
		const last = lines.findIndex((line, index) => index > first && line.trimStart().startsWith('-> '));
		const wrapped = lines.slice(first, last);
		expect(wrapped.length).toBeGreaterThan(10);
		expect(wrapped.every(line => line.length <= 100)).toBe(true);
		expect(wrapped.join('\n')).not.toContain('…');
		// Every word of the message is there, in order: the lines rejoined give it back.
		const head = wrapped[0]!.slice(wrapped[0]!.indexOf(']: ') + 3);
		expect([head, ...wrapped.slice(1).map(line => line.trimStart())].join(' ')).toBe(finding.message);
	});

	it('breaks a word longer than a line where it must, dropping nothing (a 300-character greeting)', () => {
		const word = 'x'.repeat(300);
		const lines = textReport(report(session({banner: {code: 554, text: word, delayMs: 1}}))).split('\n');
		const at = lines.findIndex(line => line.includes('banner: '));
		// The code stays on the first line (the break falls on the space after it); the word follows in pieces.
		const pieces = lines.slice(at, at + 5);
		expect(pieces.every(line => line.length <= 100)).toBe(true);
		expect(pieces[0]).toBe('             banner: 554');
		expect(pieces.slice(1).map(line => line.trimStart()).join('')).toBe(word);
	});
});

describe('--min-severity', () => {
	const built = (): Report => report(session({banner: {code: 220, text: `${exchange} ESMTP`, hostname: exchange, delayMs: 6100}, relay: {tested: true, open: true, attempts: relayPairs('basic', 'a@mxdash.invalid', 'b@mxdash.invalid', exchange, ip).map(pair => ({...pair, mailCode: 250, code: 250, text: 'Ok', accepted: true}))}}));
	const listed = (text: string, severity: string): number => text.split('\n').filter(line => line.trimStart().startsWith(`${severity.toUpperCase().padEnd(8)} `) && line.includes(': ')).length;

	it('lists every finding by default and says nothing about leaving any out', () => {
		const whole = built();
		const text = textReport(whole);
		expect(whole.summary.findings.info).toBeGreaterThan(0);
		expect(whole.summary.findings.warning).toBeGreaterThan(0);
		expect(listed(text, 'info')).toBe(whole.summary.findings.info);
		expect(text).not.toContain('left out');
	});

	it('lists only findings at or above it, says how many were left out, and keeps the summary and exit code', () => {
		const whole = built();
		const {info, warning, critical} = whole.summary.findings;
		const text = textReport(whole, {minSeverity: 'warning'});
		expect(listed(text, 'info')).toBe(0);
		expect(listed(text, 'warning')).toBe(warning);
		expect(listed(text, 'critical')).toBe(critical);
		expect(text).toContain(`${info} info finding${info === 1 ? '' : 's'} left out (--min-severity warning; --json lists them all)`);
		expect(text).toContain(`; ${critical} critical, ${warning} warning, ${info} info; exit ${whole.summary.exitCode}`);

		const criticalOnly = textReport(whole, {minSeverity: 'critical'});
		expect(listed(criticalOnly, 'warning')).toBe(0);
		expect(listed(criticalOnly, 'critical')).toBe(critical);
		expect(criticalOnly).toContain(`${info + warning} info and warning findings left out (--min-severity critical`);	});
});

describe('counts in words', () => {
	it('says "1 domain, 1 MX host, 1 address", not "domain(s)" or "1 domains"', () => {
		const text = textReport(report(session()));
		expect(text).toMatch(/: OK - 1 domain, 1 MX host, 1 address; /);
		expect(text).toContain('(1 MX, 1 address)');
		expect(text).not.toMatch(/\(s\)|\(es\)|\b1 (domains|MX hosts|addresses|extensions)\b/);
	});
});

describe('an address with a port', () => {
	it('brackets an IPv6 address before its port, and leaves IPv4 plain', () => {
		const text = (address: string): string => {
			const knowledge = new Knowledge(context, () => 2526);
			knowledge.setPlan({domain: 'report.test', input: 'report.test', query: {answer: 'records', records: 1, nullRecords: 0, hosts: 1}, mx: [{exchange, preference: 10, implicit: false, ipLiteral: false, addresses: [address]}]});
			knowledge.setSession(probeKey(exchange, address, 2526), session({target: {domain: 'report.test', exchange, ip: address, port: 2526}, family: address.includes(':') ? 6 : 4}));
			knowledge.judgeRun();
			return textReport(buildReport(knowledge, {version: '1', domains: ['report.test'], startedAt: new Date(), finishedAt: new Date()}));
		};

		expect(text('::1')).toMatch(/^ {4}OK {7}\[::1\]:2526 {2}\(/m);
		expect(text('::1')).not.toContain(' ::1:2526');
		expect(text('192.0.2.25')).toMatch(/^ {4}OK {7}192\.0\.2\.25:2526 {2}\(/m);
	});
});

describe('an IDN', () => {
	it('is named in Unicode and in its ASCII form', () => {
		const domain = 'xn--bcher-kva.example';
		const knowledge = new Knowledge(context, () => 25);
		knowledge.setPlan({domain, input: 'Bücher.example', query: {answer: 'records', records: 1, nullRecords: 0, hosts: 1}, mx: [{exchange, preference: 10, implicit: false, ipLiteral: false, addresses: [ip]}]});
		knowledge.setSession(probeKey(exchange, ip, 25), session());
		knowledge.judgeRun();
		const text = textReport(buildReport(knowledge, {version: '1', domains: [domain], startedAt: new Date(), finishedAt: new Date()}));
		expect(text).toMatch(/^bücher\.example \(xn--bcher-kva\.example\) {2}OK {2}\(1 MX/m);
	});
});

describe('the policy layer in the text report', () => {
	it('says the domain\'s MTA-STS and TLS-RPT, the MX host\'s DNSSEC and TLSA, and each address\'s delivery, blocklists and TLS versions', () => {
		const knowledge = new Knowledge(context, () => 25);
		knowledge.setPlan({domain: 'report.test', input: 'report.test', query: {answer: 'records', records: 1, nullRecords: 0, hosts: 1}, mx: [{exchange, preference: 10, implicit: false, ipLiteral: false, addresses: [ip]}]});
		knowledge.setValidation({resolver: '127.0.0.1', validates: true});
		knowledge.setDomainPolicy('report.test', {
			mtaSts: {txt: {records: ['v=STSv1; id=7;']}, fetch: {url: 'https://mta-sts.report.test/.well-known/mta-sts.txt', ms: 3, status: 200, contentType: 'text/plain', body: `version: STSv1\nmode: enforce\nmx: ${exchange}\nmax_age: 604800\n`, certificate: {authorized: true}}},
			tlsRpt: {txt: {failure: {kind: 'nxdomain', code: 'ENOTFOUND', message: 'none'}}},
		});
		knowledge.setMxPolicy({exchange, tlsaName: `_25._tcp.${exchange}`, dnssec: 'secure', tlsaDnssec: 'secure', tlsa: []});
		const key = probeKey(exchange, ip, 25);
		knowledge.setSession(key, session({tls: {version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', authorized: true, hostnameMatch: true, chain: [], chainIncomplete: false}}));
		knowledge.setDnsbl(ip, [{zone: 'bl.report.test', listed: true, codes: ['127.0.0.2'], text: 'listed\u001B[2J'}]);
		knowledge.setTlsVersions(key, {accepted: {TLSv1: true, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true}, detail: {}, untried: []});
		knowledge.judgeRun();
		const text = textReport(buildReport(knowledge, {version: '1', domains: ['report.test'], startedAt: new Date(), finishedAt: new Date()}));
		expect(text).toContain(`MTA-STS enforce (id 7, mx ${exchange}, max_age 604800); no TLS-RPT`);
		expect(text).toContain(`MX 10 ${exchange}, DNSSEC secure`);
		expect(text).toContain('delivery: opportunistic deliver, MTA-STS deliver, DANE none');
		expect(text).toContain('blocklists: listed on bl.report.test');
		expect(text).toContain('TLS versions: TLSv1 yes, TLSv1.1 no, TLSv1.2 yes, TLSv1.3 yes (SSLv3 cannot be tried');
		expect(text).toMatch(/dnsbl-listed .*"listed\\x1b\[2J"/s);
		expect(text).not.toContain('\u001B');
		expect(text).toContain('tls-legacy-accepted');
	});
});
