import {describe, expect, it} from 'vitest';
import type {MxPolicy} from '../../source/core/policy/types.js';
import {isTerminalSafe} from '../../source/core/sanitize.js';
import {stageNames} from '../../source/core/types.js';
import type {CertInfo, MxPlan, Stage, StageName, TlsInfo} from '../../source/core/types.js';
import {certificateLines, chainSummary} from '../../source/ui/panes.js';
import {policyLines} from '../../source/ui/policy-pane.js';
import type {DomainState, HostState} from '../../source/ui/store.js';
import {makeTheme} from '../../source/ui/theme.js';
import {delivery, domainPolicy} from '../helpers/fake-events.js';

const fingerprint = Array.from({length: 32}, (_, index) => index.toString(16).padStart(2, '0').toUpperCase()).join(':');
const leaf: CertInfo = {
	subject: 'CN=other.test', issuer: 'CN=Test CA', serialNumber: '01', validFrom: '2024-01-01T00:00:00.000Z', validTo: '2024-03-01T00:00:00.000Z', daysLeft: -700,
	san: ['DNS:other.test'], fingerprint256: fingerprint, keyType: 'ec', keyBits: 256, signatureAlgorithm: 'ecdsa-with-SHA256', selfSigned: false, ca: false,
};

function host(tls: Partial<TlsInfo>): HostState {
	const stages = Object.fromEntries(stageNames.map(name => [name, {state: 'pending'}])) as Record<StageName, Stage>;
	return {
		key: 'mx.a.test|127.0.0.1|25', exchange: 'mx.a.test', ip: '127.0.0.1', port: 25, phase: 'done', stages, transcript: [], findings: [], judged: true, history: [], changes: [],
		tls: {version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', authorized: true, hostnameMatch: true, chain: [leaf], chainIncomplete: false, ...tls},
	};
}

const theme = makeTheme({noColor: true});

describe('the Certificates pane', () => {
	// Node reports a name mismatch on a trusted chain as its authorization error.
	const mismatch = host({authorized: false, authorizationError: 'ERR_TLS_CERT_ALTNAME_INVALID', hostnameMatch: false, hostnameError: 'Hostname/IP does not match'});

	it('shows chain trust and the name match as two facts', () => {
		const texts = certificateLines(mismatch, 80, theme).map(line => line.text);
		expect(texts).toContain('✓ chain verified: trusted');
		expect(texts).toContain('! names do not cover mx.a.test');
		expect(texts.join('\n')).not.toContain('ERR_TLS_CERT_ALTNAME_INVALID');
		const untrusted = certificateLines(host({authorized: false, authorizationError: 'SELF_SIGNED_CERT_IN_CHAIN'}), 80, theme).map(line => line.text);
		expect(untrusted).toContain('! chain not verified: SELF_SIGNED_CERT_IN_CHAIN');
		expect(untrusted).toContain('✓ names cover mx.a.test');
	});

	it('says how long ago an expired certificate expired', () => {
		const texts = certificateLines(mismatch, 80, theme).map(line => line.text);
		expect(texts).toContain('Valid: 2024-01-01 → 2024-03-01 (expired 700 days ago)');
		expect(texts.join('\n')).not.toContain('-700');
	});

	it('highlights the SAN line on a name mismatch only', () => {
		const san = (item: HostState) => certificateLines(item, 80, theme).find(line => line.text.startsWith('SAN:'));
		expect(san(mismatch)?.tone).toBe('warning');
		expect(san(host({}))?.tone).toBeUndefined();
	});

	it('keeps the SHA-256 fingerprint whole on one line', () => {
		for (const width of [80, 120]) {
			const lines = certificateLines(mismatch, width, theme).map(line => line.text);
			expect(lines.filter(text => text.includes(fingerprint))).toHaveLength(1);
		}

		expect(certificateLines(mismatch, 120, theme).map(line => line.text)).toContain(`SHA-256: ${fingerprint}`);
		expect(certificateLines(mismatch, 80, theme).map(line => line.text)).toEqual(expect.arrayContaining(['SHA-256:', fingerprint]));
	});
});

describe('the Certificates pane\'s two chains', () => {
	const intermediate: CertInfo = {...leaf, subject: 'CN=Test Intermediate', issuer: 'CN=Test Root', fingerprint256: '11:22', ca: true};
	const root: CertInfo = {...leaf, subject: 'CN=Test Root', issuer: 'CN=Test Root', fingerprint256: '33:44', ca: true, selfSigned: true};

	it.each([
		{name: 'a root from the trust store', tls: {chain: [leaf, intermediate, root], sent: [leaf, intermediate]}, expected: 'sent 2 certificates; verified path 3 (root from the trust store)'},
		{name: 'a root the server sent too', tls: {chain: [leaf, root], sent: [root, leaf]}, expected: 'sent 2 certificates; verified path 2 (root sent by the server)'},
		{name: 'one sent, no root known', tls: {chain: [leaf], sent: [leaf]}, expected: 'sent 1 certificate; verified path 1'},
		{name: 'no chain as sent (an older engine)', tls: {chain: [leaf]}, expected: '1 certificate(s), leaf to root; verified path 1'},
	])('says $name plainly', ({tls, expected}) => {
		expect(chainSummary(tls)).toBe(expected);
	});

	it('numbers the chain as sent in the server\'s order, then the verified path leaf to root', () => {
		const texts = certificateLines(host({chain: [leaf, intermediate, root], sent: [intermediate, leaf]}), 80, theme).map(line => line.text);
		const sent = texts.indexOf('As sent (the server\'s order):');
		const verified = texts.indexOf('Verified path, leaf to root:');
		expect(sent).toBeGreaterThan(0);
		expect(texts.slice(sent + 1, verified).filter(text => text.startsWith('#'))).toEqual(['#1 CN=Test Intermediate', '#2 CN=other.test']);
		expect(texts.slice(verified + 1).filter(text => text.startsWith('['))).toEqual(['[0] leaf: CN=other.test', '[1] intermediate: CN=Test Intermediate', '[2] root: CN=Test Root']);
	});
});

describe('the Policy pane', () => {
	const plan: MxPlan = {domain: 'a.test', input: 'a.test', query: {answer: 'records', records: 2, nullRecords: 0, hosts: 2}, mx: [
		{exchange: 'mx.a.test', preference: 10, implicit: false, ipLiteral: false, addresses: ['127.0.0.1']},
		{exchange: 'backup.elsewhere.test', preference: 20, implicit: false, ipLiteral: false, addresses: ['127.0.0.2']},
	]};
	const key = 'mx.a.test|127.0.0.1|25';
	const body = 'version: STSv1\nmode: enforce\nmax_age: 604800\nmx: *.a.test\n';
	const domain: DomainState = {
		domain: 'a.test', input: 'a.test', plan, findings: [], mxFindings: [], counts: {info: 0, warning: 0, critical: 0}, changes: [],
		policy: domainPolicy('a.test', '20260101', body),
		addresses: {[key]: {findings: [], delivery: {...delivery('deliver', 'deliver', 'fail'), reasons: {opportunistic: 'STARTTLS works', mtaSts: 'the certificate is valid for mx.a.test', dane: 'no TLSA record matches the chain'}}}},
	};
	const mxPolicy: MxPolicy = {exchange: 'mx.a.test', tlsaName: '_25._tcp.mx.a.test', dnssec: 'secure', tlsaDnssec: 'secure', tlsa: [
		{usage: 3, selector: 1, matchingType: 1, data: 'ab'.repeat(32)},
		{usage: 2, selector: 0, matchingType: 1, data: 'cd'.repeat(32)},
		{usage: 0, selector: 0, matchingType: 1, data: 'ef'.repeat(32)},
	]};
	const probed: HostState = {
		...host({}),
		dane: {checked: true, match: 'matched', depth: 1, records: [
			{record: mxPolicy.tlsa[0]!, usable: true, reason: 'the leaf\'s SPKI differs'},
			{record: mxPolicy.tlsa[1]!, usable: true, matchedDepth: 1},
			{record: mxPolicy.tlsa[2]!, usable: false, reason: 'usage 0 is not for SMTP (RFC 7672 §3.1.3)'},
		]},
		dnsbl: [
			{zone: 'zen.example', listed: true, codes: ['127.0.0.2'], meanings: ['SBL'], text: 'see \u001B[31mhttps://zen.example/q'},
			{zone: 'clean.example', listed: false, codes: []},
			{zone: 'busy.example', listed: false, codes: ['127.255.255.254'], error: 'refused: public resolver'},
		],
		tlsScan: {accepted: {TLSv1: true, 'TLSv1.2': true, 'TLSv1.3': false}, detail: {'TLSv1.3': 'handshake failure'}, untried: ['SSLv3']},
	};
	const texts = policyLines(probed, domain, {mxPolicy, validation: {resolver: '127.0.0.53', validates: true}}, 80, theme).map(line => line.text);

	it('starts with what each sender would do and why', () => {
		expect(texts.slice(0, 4)).toEqual([
			'Delivery',
			'✓ opportunistic deliver: STARTTLS works',
			'✓ MTA-STS       deliver: the certificate is valid for mx.a.test',
			'✗ DANE          fail: no TLSA record matches the chain',
		]);
	});

	it('shows the MTA-STS record raw, the fetch, the policy and how each MX host matched', () => {
		expect(texts).toEqual(expect.arrayContaining([
			'_mta-sts.a.test: "v=STSv1; id=20260101"',
			'Fetch: https://mta-sts.a.test/.well-known/mta-sts.txt [127.0.0.1]',
			'  HTTP 200, text/plain, 12ms',
			'  version STSv1  mode enforce  max_age 604800',
			'  mx: *.a.test',
			'  ✓ mx.a.test: matches *.a.test',
			'  ✗ backup.elsewhere.test: no pattern matches',
			'_smtp._tls.a.test: "v=TLSRPTv1; rua=mailto:tls@a.test"',
			'  rua: mailto:tls@a.test',
		]));
	});

	it('lists each TLSA record with whether it was usable and where it matched', () => {
		expect(texts).toEqual(expect.arrayContaining([
			'Resolver 127.0.0.53: validates DNSSEC',
			'MX host DNSSEC: secure',
			'TLSA _25._tcp.mx.a.test: 3 records, DNSSEC secure',
			'  3 1 1 abababababababab… ! no match: the leaf\'s SPKI differs',
			'  2 0 1 cdcdcdcdcdcdcdcd… ✓ matched at depth 1',
			'  0 0 1 efefefefefefefef… – unusable: usage 0 is not for SMTP (RFC 7672',
			'      §3.1.3)',
			'DANE: matched at depth 1',
		]));
	});

	it('says what each blocklist answered, its TXT made visible', () => {
		expect(texts).toEqual(expect.arrayContaining([
			'  ✗ zen.example: LISTED 127.0.0.2 (SBL)',
			'  ✓ clean.example: not listed',
			'  – busy.example: no verdict: refused: public resolver',
		]));
		expect(texts.every(text => isTerminalSafe(text))).toBe(true);
		expect(texts.some(text => text.includes('TXT "see '))).toBe(true);
	});

	it('shows each TLS version accepted, refused or not tried, and what Node cannot try', () => {
		expect(texts).toEqual(expect.arrayContaining([
			'  ! TLSv1   accepted',
			'  – TLSv1.1 not tried',
			'  ✓ TLSv1.2 accepted',
			'  – TLSv1.3 refused: handshake failure',
			'  not tried (Node\'s OpenSSL cannot): SSLv3',
		]));
	});

	it('says what is not known yet, and that t scans', () => {
		const bare = policyLines(host({}), undefined, {}, 80, theme).map(line => line.text);
		expect(bare).toEqual(expect.arrayContaining(['not judged', 'TLSA not looked up yet', 'not scanned: press t to try each version']));
		const scanning = policyLines({...host({}), scanning: true}, undefined, {}, 80, theme).map(line => line.text);
		expect(scanning).toContain('scanning…');
	});

	it('fits 60 columns and makes hostile DNS text visible', () => {
		const hostile: DomainState = {...domain, policy: {...domain.policy!, tlsRpt: {txt: {records: ['v=TLSRPTv1; rua=mailto:\u001B]52;c;AAAA\u0007x@a.test']}}}};
		const lines = policyLines(probed, hostile, {mxPolicy}, 60, theme).map(line => line.text);
		expect(lines.every(text => isTerminalSafe(text) && [...text].length <= 60)).toBe(true);
	});
});
