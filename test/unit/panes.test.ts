import {describe, expect, it} from 'vitest';
import {stageNames} from '../../source/core/types.js';
import type {CertInfo, Stage, StageName, TlsInfo} from '../../source/core/types.js';
import {certificateLines} from '../../source/ui/panes.js';
import type {HostState} from '../../source/ui/store.js';
import {makeTheme} from '../../source/ui/theme.js';

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
