// What the scripted-server driver tests share: limits, the dialogue's fixed lines, a test
// certificate, and helpers that start a server and probe it. Nothing outside 127.0.0.0/8 is contacted.
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {afterAll, afterEach, beforeAll, expect} from 'vitest';
import {diagnoseAddress} from '../../source/core/checks/index.js';
import {reportStages} from '../../source/core/run/report-model.js';
import type {StageReport} from '../../source/core/run/report-model.js';
import {defaultLimits} from '../../source/core/limits.js';
import type {Limits} from '../../source/core/limits.js';
import {probe, probeWithFallback} from '../../source/core/smtp/session.js';
import type {ProbeOptions} from '../../source/core/smtp/session.js';
import type {Finding, ProbeResult, StageName} from '../../source/core/types.js';
import {startScriptedServer, within} from '../helpers/scripted-server.js';
import type {ScriptedServer, ScriptedServerOptions, Session, Step} from '../helpers/scripted-server.js';

export const limits: Limits = {
	...defaultLimits,
	connectMs: 2000,
	bannerMs: 1500,
	commandMs: 1500,
	tlsMs: 1500,
	quitMs: 500,
	bannerSlowMs: 300,
	sessionMs: 20_000,
};

export const exchange = 'mx.scripted.test';
export const ehloName = 'probe.mxdash.test';
export const mailFrom = 'probe@mxdash.invalid';
export const rcptTo = 'relay-check@mxdash.invalid';

export const greeting = `220 ${exchange} ESMTP ready\r\n`;
export const ehloLine = /^EHLO probe\.mxdash\.test$/;
export const mailLine = /^MAIL FROM:<probe@mxdash\.invalid>$/;
export const rcptLine = /^RCPT TO:<relay-check@mxdash\.invalid>$/;
export const quitLine = /^QUIT$/;
export const bye = '221 2.0.0 Bye\r\n';

let tlsFiles: {key: string; cert: string; dir: string};
const servers: ScriptedServer[] = [];

/** The test certificate the scripted servers present (PEM). */
export function testCertificate(): string {
	return tlsFiles.cert;
}

/** Make the certificate before the file's tests, and close every server after each test. */
export function useScriptedServers(): void {
	beforeAll(() => {
		const dir = mkdtempSync(path.join(tmpdir(), 'mxdash-scripted-'));
		const key = path.join(dir, 'key.pem');
		const cert = path.join(dir, 'cert.pem');
		execFileSync('openssl', [
			'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
			'-subj', `/CN=${exchange}`, '-addext', `subjectAltName=DNS:${exchange}`, '-days', '30',
			'-keyout', key, '-out', cert,
		], {stdio: 'ignore', timeout: 20_000});
		tlsFiles = {key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8'), dir};
	});

	afterAll(() => {
		if (tlsFiles) {
			rmSync(tlsFiles.dir, {recursive: true, force: true});
		}
	});

	afterEach(async () => {
		await Promise.all(servers.splice(0).map(async server => server.close()));
	});
}

export async function scripted(script: Step[] | ((index: number) => Step[]), options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
	const server = await startScriptedServer(script, {tls: {key: tlsFiles.key, cert: tlsFiles.cert}, ...options});
	servers.push(server);
	return server;
}

export type Run = {result: Omit<ProbeResult, 'stages'> & {stages: Record<StageName, StageReport>}; elapsed: number; findings: Finding[]; ids: string[]};

export async function runProbe(port: number, overrides: Partial<ProbeOptions> & {exchange?: string; fallback?: boolean} = {}): Promise<Run> {
	const {exchange: name = exchange, fallback = false, ...rest} = overrides;
	const started = performance.now();
	const result = await within((fallback ? probeWithFallback : probe)({domain: 'scripted.test', exchange: name, ip: '127.0.0.1', port}, {
		ehloName,
		relay: 'basic',
		mailFrom,
		rcptTo,
		limits,
		...rest,
	}), 15_000, 'the probe did not finish');
	const elapsed = performance.now() - started;
	const findings = diagnoseAddress({result}, {warnDays: 21, bannerSlowMs: limits.bannerSlowMs, now: Date.now});
	checkTranscript(result);
	// Each stage with the status the report gives it: the worst finding that judges it.
	return {result: {...result, stages: reportStages(result.stages, findings)}, elapsed, findings, ids: findings.map(item => item.id)};
}

/** The server's session after the client is gone and the script has ended (bounded). */
export async function finished(server: ScriptedServer): Promise<Session> {
	const session = await server.session();
	await within(Promise.all([session.closed, session.done]), 5000, 'the server session did not end');
	return session;
}

export function checkTranscript(result: ProbeResult): void {
	let last = -Infinity;
	for (const line of result.transcript) {
		expect(['client', 'server', 'info']).toContain(line.dir);
		expect(typeof line.text).toBe('string');
		expect(line.t).toBeGreaterThanOrEqual(last);
		last = line.t;
	}
}

export function statuses(result: {stages: Record<StageName, StageReport>}): Partial<Record<StageName, StageReport['status']>> {
	return Object.fromEntries(Object.entries(result.stages).map(([name, stage]) => [name, stage.status]));
}

export function clientLines(result: ProbeResult): string[] {
	return result.transcript.filter(line => line.dir === 'client').map(line => line.text);
}

export function received(session: Session): string[] {
	return session.lines.map(line => line.text);
}

export const pipeliningEhlo = `250-${exchange} Hello\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250 8BITMIME\r\n`;
export const plainEhlo = `250-${exchange} Hello\r\n250-SIZE 52428800\r\n250 8BITMIME\r\n`;
export const tlsEhlo = `250-${exchange} Hello\r\n250-PIPELINING\r\n250 STARTTLS\r\n`;
