import {X509Certificate} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {describe, expect, it} from 'vitest';
import type {DaneResult, DnsblAnswer, TlsVersionScan} from '../../source/core/policy/types.js';
import {probeKey} from '../../source/core/run/knowledge.js';
import type {MonitorEvent} from '../../source/core/run/monitor.js';
import {isTerminalSafe} from '../../source/core/sanitize.js';
import type {CertInfo} from '../../source/core/types.js';
import {rowHost, Store} from '../../source/ui/store.js';
import {delivery, domainPolicy, policyFinding, roundEvents} from '../helpers/fake-events.js';

const certificate: CertInfo = {
	subject: 'CN=mx.a.test', issuer: 'CN=Test CA', serialNumber: '01', validFrom: '2025-01-01T00:00:00.000Z', validTo: '2099-01-01T00:00:00.000Z', daysLeft: 400,
	san: ['DNS:mx.a.test'], fingerprint256: 'AB:CD', keyType: 'ec', keyBits: 256, signatureAlgorithm: 'ecdsa-with-SHA256', selfSigned: false, ca: false,
};

const hosts = {'a.test': [{exchange: 'mx.a.test', ip: '127.0.0.1'}], 'b.test': [{exchange: 'mx.b.test', ip: '127.0.0.2', open: true}]};

function fed(events: MonitorEvent[], store = new Store(Object.keys(hosts).map(domain => ({domain, input: domain})), 0)): Store {
	for (const event of events) {
		store.apply(event);
	}

	store.flush();
	return store;
}

describe('the dashboard store', () => {
	it('counts what the latest verdicts say, and keeps the objects of what did not change', () => {
		const store = fed(roundEvents(hosts));
		const first = store.getSnapshot();
		expect(first.counts.critical).toBe(first.domains.reduce((sum, domain) => sum + domain.counts.critical, 0));
		expect(first.domains.map(domain => domain.status)).toEqual(['ok', 'critical']);
		fed([], store);
		const second = store.getSnapshot();
		expect(second.hosts).toBe(first.hosts);
		expect(second.rows).toBe(first.rows);
	});

	it('appends transcript lines in place, without copying the array per line', () => {
		const store = fed(roundEvents(hosts));
		const key = [...store.getSnapshot().hosts.keys()][0]!;
		const lines = store.getSnapshot().hosts.get(key)!.transcript;
		store.apply({type: 'probe', key, event: {type: 'line', line: {t: 99, dir: 'info', text: 'one more'}}});
		store.flush();
		const host = store.getSnapshot().hosts.get(key)!;
		expect(host.transcript).toBe(lines);
		expect(host.transcript.at(-1)?.text).toBe('one more');
	});

	it('takes a verdict that comes while a host is probed again as the previous session judged again, not as a session', () => {
		const store = fed(roundEvents(hosts));
		const next = roundEvents({'a.test': hosts['a.test']}, '2026-01-01T00:05:00.000Z');
		const queued = next.findIndex(event => event.type === 'queued');
		const verdict = next.find(event => event.type === 'verdict')!;
		// A late PTR answer re-judges the old session after the new one was queued.
		fed([...next.slice(0, queued + 1), verdict, ...next.slice(queued + 1)], store);
		const host = [...store.getSnapshot().hosts.values()].find(item => item.exchange === 'mx.a.test')!;
		expect(host.history.map(entry => entry.at)).toEqual(['2026-01-01T00:01:00.000Z', '2026-01-01T00:05:00.000Z']);
		expect(host.changes).toEqual([]);
		expect(host.judged).toBe(true);
	});

	it('leaves a host unjudged while its new session runs, keeping the previous verdict', () => {
		const store = fed(roundEvents(hosts));
		const key = [...store.getSnapshot().hosts.values()].find(item => item.exchange === 'mx.b.test')!.key;
		store.apply({type: 'queued', key, target: {exchange: 'mx.b.test', ip: '127.0.0.2', port: 25}});
		store.flush();
		const host = store.getSnapshot().hosts.get(key)!;
		expect(host).toMatchObject({phase: 'queued', judged: false, status: 'critical'});
		expect(host.findings.map(item => item.id)).toContain('open-relay');
		expect(store.getSnapshot().domains.find(domain => domain.domain === 'b.test')?.status).toBe('critical');
	});

	it('says what changed from what to what: greeting, certificate and its expiry, TLS version, status, addresses', () => {
		const store = fed(roundEvents(hosts));
		const banner = 'ESMTP \u001B[31mready Postfix (Debian) on mx.a.test';
		fed(roundEvents({
			'a.test': [{exchange: 'mx.a.test', ip: '127.0.0.1', banner, open: true, fingerprint: '99:88:77:66:55:44', validTo: '2027-03-01T00:00:00.000Z', tlsVersion: 'TLSv1.2'}, {exchange: 'mx.a.test', ip: '127.0.0.9'}],
		}, '2026-01-01T00:05:00.000Z'), store);
		const snapshot = store.getSnapshot();
		const host = [...snapshot.hosts.values()].find(item => item.ip === '127.0.0.1')!;
		expect(host.changes).toEqual([
			'status ok → critical',
			'certificate AB:CD… → 99:88:77:66…',
			'certificate expiry 2099-01-01 → 2027-03-01',
			'TLS TLSv1.3 → TLSv1.2',
			expect.stringMatching(/^greeting "mx\.a\.test ESMTP" → "ESMTP .+…"$/),
		]);
		// Server text is sanitized and cut, so that old → new stays readable at 80 columns.
		expect(host.changes.every(change => isTerminalSafe(change) && change.length <= 80)).toBe(true);
		expect(snapshot.domains.find(domain => domain.domain === 'a.test')?.changes).toEqual(['mx.a.test addresses 127.0.0.1 → 127.0.0.1, 127.0.0.9']);
	});

	it('gives the last finished round\'s Nagios code on quitting, over the domains still in view', () => {
		const store = new Store(Object.keys(hosts).map(domain => ({domain, input: domain})), 0);
		// Nothing judged yet: UNKNOWN, not OK.
		expect(store.exitCode).toBe(3);
		fed(roundEvents(hosts), store);
		expect(store.exitCode).toBe(2);
		// A new round under way leaves the last one's code.
		const next = roundEvents({'b.test': hosts['b.test']}, '2026-01-01T00:05:00.000Z');
		fed(next.slice(0, 3), store);
		expect(store.exitCode).toBe(2);
		store.removeDomain('b.test');
		expect(store.exitCode).toBe(0);
		store.removeDomain('a.test');
		expect(store.exitCode).toBe(0);
	});
});

describe('the dashboard store\'s policy layer', () => {
	const key = probeKey('mx.a.test', '127.0.0.1', 25);
	const body = 'version: STSv1\nmode: enforce\nmax_age: 86400\nmx: mx.a.test\n';
	const wouldFail = policyFinding('mta-sts-would-fail', 'mta-sts', 'no STARTTLS');
	const listed: DnsblAnswer = {zone: 'zen.example', listed: true, codes: ['127.0.0.2'], meanings: ['SBL'], text: 'listed'};
	const policyHosts = {'a.test': [{exchange: 'mx.a.test', ip: '127.0.0.1', delivery: delivery('deliver', 'fail', 'none'), policyFindings: [wouldFail], dnsbl: [listed], mxPolicy: {tlsaName: '_25._tcp.mx.a.test', dnssec: 'secure' as const, tlsaDnssec: 'secure' as const, tlsa: []}}]};
	const validation = {resolver: '127.0.0.53', validates: true};

	it('records each policy fact where it belongs: per domain, per exchange, per ip, per key, per run', () => {
		const store = fed(roundEvents(policyHosts, undefined, {domains: {'a.test': domainPolicy('a.test', '20260101', body)}, validation}));
		const snapshot = store.getSnapshot();
		const domain = snapshot.domains.find(item => item.domain === 'a.test')!;
		expect(domain.policy?.mtaSts.fetch?.body).toBe(body);
		expect(domain.addresses[key]).toEqual({findings: [wouldFail], delivery: delivery('deliver', 'fail', 'none')});
		expect(snapshot.mxPolicies.get('mx.a.test')?.tlsaName).toBe('_25._tcp.mx.a.test');
		expect(snapshot.validation).toEqual(validation);
		expect(snapshot.hosts.get(key)?.dnsbl).toEqual([listed]);
		// The address's own verdict is not the domain's: the would-fail is that domain's.
		expect(snapshot.hosts.get(key)?.findings.map(item => item.id)).not.toContain('mta-sts-would-fail');
	});

	it('gives a host row its domain\'s policy findings and their status, the same object while nothing changed', () => {
		const store = fed(roundEvents(policyHosts, undefined, {domains: {'a.test': domainPolicy('a.test', '1', body)}}));
		const snapshot = store.getSnapshot();
		const host = snapshot.hosts.get(key)!;
		const domain = snapshot.domains.find(item => item.domain === 'a.test')!;
		const row = rowHost(host, domain);
		expect(host.status).toBe('ok');
		expect(row.status).toBe('critical');
		expect(row.findings.map(item => item.id)).toContain('mta-sts-would-fail');
		expect(rowHost(host, domain)).toBe(row);
		// Another domain with no policy or MX findings for the key sees the host as it is.
		expect(rowHost(host, {...domain, addresses: {}, mxFindings: []})).toBe(host);
		// MX findings are each domain's own (a policy's mx list covers the host under one domain only).
		const mismatch = {...wouldFail, id: 'mta-sts-mx-mismatch' as const};
		expect(rowHost(host, {...domain, addresses: {}, mxFindings: [[mismatch]]}).findings).toEqual([mismatch, ...host.findings]);
		fed([], store);
		expect(store.getSnapshot().hosts).toBe(snapshot.hosts);
	});

	it('keeps the blocklist answers of an ip for a host queued on it later, and a scan until the next one', () => {
		const store = fed(roundEvents(policyHosts));
		const scan: TlsVersionScan = {accepted: {TLSv1: false, 'TLSv1.2': true, 'TLSv1.3': true}, detail: {TLSv1: 'handshake refused'}, untried: ['SSLv3']};
		store.setScanning(key, true);
		store.flush();
		expect(store.getSnapshot().hosts.get(key)?.scanning).toBe(true);
		store.apply({type: 'tls-versions', key, scan});
		store.flush();
		expect(store.getSnapshot().hosts.get(key)).toMatchObject({scanning: false, tlsScan: scan});
		store.apply({type: 'queued', key, target: {exchange: 'mx.a.test', ip: '127.0.0.1', port: 25}});
		store.flush();
		expect(store.getSnapshot().hosts.get(key)).toMatchObject({dnsbl: [listed], tlsScan: scan});
	});

	it('marks a TLSA set that stopped matching, with the leaf\'s SPKI old → new', () => {
		const pem = (name: string): string => readFileSync(new URL(`../../source/demo/certs/${name}.pem`, import.meta.url), 'utf8');
		const der = (name: string): string => new X509Certificate(pem(name)).raw.toString('base64');
		const sentCert = (name: string): CertInfo => ({...certificate, der: der(name)});
		const matched: DaneResult = {checked: true, match: 'matched', depth: 0, records: []};
		const mismatch: DaneResult = {checked: true, match: 'mismatch', reason: 'no usable record matches', records: []};
		const store = fed(roundEvents({'a.test': [{exchange: 'mx.a.test', ip: '127.0.0.1', dane: matched, sent: [sentCert('healthy')]}]}));
		fed(roundEvents({'a.test': [{exchange: 'mx.a.test', ip: '127.0.0.1', dane: mismatch, sent: [sentCert('relay')]}]}, '2026-01-01T00:05:00.000Z'), store);
		const [change, ...rest] = store.getSnapshot().hosts.get(key)!.changes;
		expect(rest).toEqual([]);
		expect(change).toMatch(/^TLSA no longer matches the certificate: leaf SPKI [\da-f]{8}… → [\da-f]{8}…$/);
		const [before, after] = /SPKI (\w+)… → (\w+)…/.exec(change!)!.slice(1);
		expect(before).not.toBe(after);
	});

	it('marks a policy body that changed under the same id, and an MX host the policy stopped covering', () => {
		const store = fed(roundEvents(policyHosts, undefined, {domains: {'a.test': domainPolicy('a.test', '2026A', body)}}));
		const changed = 'version: STSv1\nmode: enforce\nmax_age: 86400\nmx: *.other.test\n';
		fed(roundEvents(policyHosts, '2026-01-01T00:05:00.000Z', {domains: {'a.test': domainPolicy('a.test', '2026A', changed)}}), store);
		expect(store.getSnapshot().domains.find(item => item.domain === 'a.test')?.changes).toEqual([
			'MTA-STS policy changed but id stayed 2026A: senders with a cached policy will not re-fetch it (RFC 8461 §3.1)',
			'MTA-STS policy no longer covers mx.a.test: mx mx.a.test → *.other.test',
		]);
		// A new id with the same coverage is no drift.
		fed(roundEvents(policyHosts, '2026-01-01T00:10:00.000Z', {domains: {'a.test': domainPolicy('a.test', '2026B', `${changed}mx: mx.a.test\n`)}}), store);
		expect(store.getSnapshot().domains.find(item => item.domain === 'a.test')?.changes).toEqual([]);
	});

	it('tells a PTR and a blocklist answer to every host on the address, and only to them', () => {
		const shared = {'a.test': [{exchange: 'mx.a.test', ip: '127.0.0.1'}], 'b.test': [{exchange: 'mx.b.test', ip: '127.0.0.1'}, {exchange: 'mx2.b.test', ip: '127.0.0.2'}]};
		const store = fed(roundEvents(shared), new Store(Object.keys(shared).map(domain => ({domain, input: domain})), 0));
		const listed: DnsblAnswer = {zone: 'bl.test', listed: true, codes: ['127.0.0.2']};
		fed([{type: 'ptr', ip: '127.0.0.1', info: {ptr: 'shared.test', ptrNames: ['shared.test'], fcrdns: true}}, {type: 'dnsbl', ip: '127.0.0.1', answers: [listed]}], store);
		const {hosts: byKey} = store.getSnapshot();
		for (const exchange of ['mx.a.test', 'mx.b.test']) {
			expect(byKey.get(probeKey(exchange, '127.0.0.1', 25))).toMatchObject({ptr: {ptr: 'shared.test'}, dnsbl: [listed]});
		}

		expect(byKey.get(probeKey('mx2.b.test', '127.0.0.2', 25))?.dnsbl).toBeUndefined();
		expect(byKey.get(probeKey('mx2.b.test', '127.0.0.2', 25))?.ptr?.ptr).not.toBe('shared.test');
	});

	it('paces its snapshots by what a frame costs to draw', () => {
		const store = new Store([], 120);
		expect(store.frameInterval()).toBe(120);
		store.framed(100);
		// Three times the frame: the main thread draws at most a quarter of its time.
		expect(store.frameInterval()).toBe(300);
		store.framed(10);
		expect(store.frameInterval()).toBeCloseTo(3 * ((0.7 * 100) + (0.3 * 10)));
	});
});
