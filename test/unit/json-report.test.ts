// The JSON report written domain by domain (the --json path) is byte for byte the whole report's text.
import {Writable} from 'node:stream';
import {describe, expect, it} from 'vitest';
import {Knowledge, probeKey} from '../../source/core/run/knowledge.js';
import {buildReport, domainParts, reportHead} from '../../source/core/run/report-model.js';
import type {ProbeResult, Stage, StageName} from '../../source/core/types.js';
import {stageNames} from '../../source/core/types.js';
import {jsonReport, jsonReportChunks, writeChunks} from '../../source/report/json.js';

const context = {warnDays: 21, bannerSlowMs: 5000, now: Date.now};
const meta = (domains: string[]) => ({version: '1', domains, startedAt: new Date(0), finishedAt: new Date(1000)});

function session(domain: string, exchange: string, ip: string, bannerText: string): ProbeResult {
	const done = Object.fromEntries(stageNames.map(name => [name, {state: 'done', outcome: 'ok', startedAt: 0, ms: 1}])) as Record<StageName, Stage>;
	return {
		target: {domain, exchange, ip, port: 25}, family: 4, startedAt: new Date(0).toISOString(), ms: 10,
		stages: done,
		banner: {code: 220, text: bannerText, hostname: exchange, delayMs: 1},
		ehlo: {greeting: 'EHLO', hostname: exchange, extensions: [{keyword: 'PIPELINING', params: []}]},
		relay: {tested: true, open: false, attempts: []}, transcript: [{t: 0, dir: 'server', text: bannerText, tls: false}],
	};
}

/** Three domains sharing a provider's MX host, one with a host of its own, one whose MX query failed. */
function knowledge(): Knowledge {
	const known = new Knowledge(context, () => 25);
	const shared = {exchange: 'mx.provider.test', preference: 10, implicit: false, ipLiteral: false, addresses: ['192.0.2.1', '192.0.2.2']};
	known.setPlan({domain: 'a.test', input: 'A.test', query: {answer: 'records', records: 1, nullRecords: 0, hosts: 1}, mx: [shared]});
	known.setPlan({domain: 'b.test', input: 'b.test', query: {answer: 'records', records: 2, nullRecords: 0, hosts: 2}, mx: [shared, {exchange: 'mx.b.test', preference: 20, implicit: false, ipLiteral: false, addresses: ['192.0.2.3']}]});
	known.setPlan({domain: 'c.test', input: 'c.test', query: {answer: 'failed', failure: {kind: 'timeout', code: 'ETIMEOUT', message: 'timed out'}}, mx: [], unknown: true});
	// Server text with a bidi override, a C1 control and DEL: escaped in the text, in every chunk.
	known.setSession(probeKey('mx.provider.test', '192.0.2.1', 25), session('a.test', 'mx.provider.test', '192.0.2.1', 'mx.provider.test ESMTP \u202Eevil\u0085\u007F'));
	known.setSession(probeKey('mx.provider.test', '192.0.2.2', 25), session('a.test', 'mx.provider.test', '192.0.2.2', 'mx.provider.test ESMTP'));
	known.setSession(probeKey('mx.b.test', '192.0.2.3', 25), session('b.test', 'mx.b.test', '192.0.2.3', 'mx.b.test ESMTP'));
	known.judgeRun();
	return known;
}

describe('the JSON report in chunks', () => {
	it('is byte for byte the whole report, head and summary included', () => {
		const known = knowledge();
		const domains = ['a.test', 'b.test', 'c.test'];
		const whole = buildReport(known, meta(domains));
		const head = reportHead(known, meta(domains), domainParts(known, domains));
		expect({...head, domains: whole.domains}).toEqual(whole);
		// Address entries come as UTF-8 bytes, the rest as strings: join() reads both as text.
		const chunks = [...jsonReportChunks(head, domainParts(known, domains))];
		expect(chunks.some(chunk => Buffer.isBuffer(chunk))).toBe(true);
		// One piece at least per address entry (4 here): no piece holds a domain's whole text.
		expect(chunks.length).toBeGreaterThan(4);
		expect(chunks.join('')).toBe(jsonReport(whole));
		// The contract's own formatting: indented by 2, invisible characters escaped, one final newline.
		expect(chunks.join('')).toBe(`${JSON.stringify(whole, null, 2).replaceAll('\u202E', '\\u202e').replaceAll('\u0085', '\\u0085').replaceAll('\u007F', '\\u007f')}\n`);
		expect(chunks.join('')).not.toMatch(/[\u202E\u0085\u007F]/);
	});

	it('makes an address shared by several domains once, and again when what it is made of differs', () => {
		const known = knowledge();
		const domains = ['a.test', 'b.test', 'c.test'];
		const made: string[] = [];
		// Every address part counted as it is made; b.test's second shared address told apart.
		const parts = [...domainParts(known, domains)].map(domain => ({...domain, mx: domain.mx.map(mx => ({...mx, addresses: mx.addresses.map(address => ({
			...address,
			depends: domain.domain === 'b.test' && address.key.includes('192.0.2.2') ? [...address.depends, 'b.test'] : address.depends,
			report() {
				made.push(`${domain.domain} ${address.key}`);
				return address.report();
			},
		}))}))}));
		const text = [...jsonReportChunks(reportHead(known, meta(domains), parts), parts)].join('');
		expect(text).toBe(jsonReport(buildReport(known, meta(domains))));
		// 192.0.2.1 once for both domains; 192.0.2.2 again for b.test; 192.0.2.3 (b.test's own) once.
		expect(made.map(item => item.replace(/ .*(192\.0\.2\.\d).*/, ' $1'))).toEqual(['a.test 192.0.2.1', 'a.test 192.0.2.2', 'b.test 192.0.2.2', 'b.test 192.0.2.3']);
	});

	it('with no domain is the whole report too', () => {
		const known = new Knowledge(context, () => 25);
		const head = reportHead(known, meta([]), domainParts(known, []));
		expect([...jsonReportChunks(head, [])].join('')).toBe(jsonReport({...head, domains: []}));
	});

	it('waits for the reader to drain before each next write', async () => {
		const chunks = Array.from({length: 10}, (_, index) => String(index).repeat(40_000));
		const received: string[] = [];
		let writes = 0;
		let waiting = 0;
		const reader = new Writable({
			highWaterMark: 1,
			write(chunk: Buffer, _encoding, done) {
				received.push(chunk.toString());
				setImmediate(done);
			},
		});
		const write = reader.write.bind(reader);
		reader.write = ((chunk: string) => {
			writes++;
			const ok = write(chunk);
			waiting += ok ? 0 : 1;
			// The writer never writes while the reader still holds its previous write.
			expect(reader.writableLength).toBe(chunk.length);
			return ok;
		}) as typeof reader.write;
		await writeChunks(chunks, reader);
		expect(writes).toBeGreaterThanOrEqual(5);
		expect(waiting).toBe(writes);
		expect(received.join('')).toBe(chunks.join(''));
	});

	it('reuses its buffer only for a stream that has taken the last write whole', async () => {
		const chunks = Array.from({length: 12}, (_, index) => `${String(index).repeat(30_000)}é`);
		// Takes each write at once (copied out before write() returns), as stdout does a file.
		const taken: string[] = [];
		const atOnce = new Writable({
			write(chunk: Buffer, _encoding, done) {
				taken.push(chunk.toString());
				done();
			},
		});
		// Holds each write's bytes until later, as a pipe whose reader is slow.
		const held: Buffer[] = [];
		const later = new Writable({
			highWaterMark: 1,
			write(chunk: Buffer, _encoding, done) {
				held.push(chunk);
				setImmediate(done);
			},
		});
		await writeChunks(chunks, atOnce, {reuse: true});
		await writeChunks(chunks, later, {reuse: true});
		expect(taken.length).toBeGreaterThan(3);
		expect(taken.join('')).toBe(chunks.join(''));
		expect(Buffer.concat(held).toString()).toBe(chunks.join(''));
	});
});

