// What every section of the hostile suite (test/driver/hostile.test.ts) shares: the engine's
// limits for it, the dialogue's fixed lines, the certificates, and the helpers that start a
// server and probe it. Servers started here are closed after the suite; test 6 reads them.
import {execFile} from 'node:child_process';
import {X509Certificate} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {diagnoseAddress} from '../../../source/core/checks/index.js';
import {reportStages} from '../../../source/core/run/report-model.js';
import type {StageReport} from '../../../source/core/run/report-model.js';
import {defaultLimits} from '../../../source/core/limits.js';
import type {Limits} from '../../../source/core/limits.js';
import {probe} from '../../../source/core/smtp/session.js';
import type {ProbeOptions} from '../../../source/core/smtp/session.js';
import type {ProbeResult, StageName} from '../../../source/core/types.js';
import {bounded, startHostile} from '../../helpers/hostile-servers.js';
import type {Behaviour, HostileOptions, HostileServer, HostileSession} from '../../helpers/hostile-servers.js';
import {startScriptedServer} from '../../helpers/scripted-server.js';
import type {ScriptedServer, ScriptedServerOptions, Session, Step} from '../../helpers/scripted-server.js';

const run = promisify(execFile);

export const limits: Limits = {
	...defaultLimits,
	connectMs: 1500,
	bannerMs: 1500,
	commandMs: 1500,
	tlsMs: 1500,
	quitMs: 500,
	bannerSlowMs: 1000,
	sessionMs: 20_000,
	dnsMs: 1000,
};

export const exchange = 'mx.hostile.test';
export const ehloName = 'probe.mxdash.test';
export const mailFrom = 'probe@mxdash.invalid';
export const rcptTo = 'relay-check@mxdash.invalid';
export const greeting = `220 ${exchange} ESMTP\r\n`;
export const bye = '221 2.0.0 Bye\r\n';
export const ehloLine = /^EHLO probe\.mxdash\.test$/;
export const mailLine = /^MAIL FROM:<probe@mxdash\.invalid>$/;
export const rcptLine = /^RCPT TO:<relay-check@mxdash\.invalid>$/;
export const quitLine = /^QUIT$/;
export const tlsEhlo = `250-${exchange}\r\n250-PIPELINING\r\n250 STARTTLS\r\n`;
export const plainEhlo = `250-${exchange}\r\n250 8BITMIME\r\n`;
/** A TLS record header announcing a 122-byte handshake record, then a ServerHello's first bytes: and nothing more. */
export const partialServerHello = Buffer.from([0x16, 0x03, 0x03, 0x00, 0x7A, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03, 0x5A, 0x5A]);
/** A fatal handshake_failure alert record. */
export const tlsAlert = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);

export type Credentials = {key: string; cert: string};
let dir: string;
export let plainTls: Credentials;
export let hugeChainTls: Credentials;
export let hugeChainBytes = 0;
export let evilTls: Credentials;
/** The CN that the hostile certificate carries (an ESC, OSC 0, BEL, bidi, zero-width, DEL, C1 CSI). */
const evilCommonName = 'evil\u001B]0;pwn\u0007\u202Eflip\u200Bzw\u007F\u009Bc1';
const evilSan = 'DNS:evil\u001B[2J.test';

export const servers: Array<{close(): Promise<void>}> = [];
/** Scripted sessions, for test 6, with the reason a session need not end in QUIT. */
export const scriptedSessions: Array<{server: ScriptedServer; exempt?: string}> = [];

/** Before the suite: the certificates its TLS servers present. */
export async function makeCertificates(): Promise<void> {
	dir = mkdtempSync(path.join(tmpdir(), 'mxdash-hostile-'));
	const file = (name: string): string => path.join(dir, name);
	// One EC key serves every certificate here: only the certificates' contents matter.
	await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file('key.pem')], {timeout: 20_000});
	const key = readFileSync(file('key.pem'), 'utf8');
	const selfSigned = async (out: string, extra: string[]): Promise<string> => {
		await run('openssl', ['req', '-x509', '-key', file('key.pem'), '-days', '30', '-out', file(out), ...extra], {timeout: 20_000});
		return readFileSync(file(out), 'utf8');
	};

	plainTls = {key, cert: await selfSigned('plain.pem', ['-subj', `/CN=${exchange}`, '-addext', `subjectAltName=DNS:${exchange}`])};
	// 40 chain certificates of ~5.5 KB each: ~220 KB, twice OpenSSL's client max_cert_list (100 KiB).
	const comment = 'x'.repeat(5000);
	const chain = await Promise.all(Array.from({length: 40}, async (_, index) => selfSigned(`chain${index}.pem`, ['-subj', `/CN=chain${index}.hostile.test`, '-addext', `nsComment=${comment}`])));
	hugeChainBytes = chain.reduce((sum, pem) => sum + new X509Certificate(pem).raw.length, 0);
	hugeChainTls = {key, cert: [plainTls.cert, ...chain].join('')};
	// The argument is built here, so the ESC, BEL and the rest reach openssl as raw bytes.
	evilTls = {key, cert: await selfSigned('evil.pem', ['-utf8', '-subj', `/CN=${evilCommonName}/O=Org\u001B[2J`, '-addext', `subjectAltName=${evilSan},DNS:mxh.evil.test`])};
}

/** After the suite: every server closed, the certificates gone. */
export async function cleanUp(): Promise<void> {
	await Promise.all(servers.splice(0).map(async server => server.close()));
	if (dir) {
		rmSync(dir, {recursive: true, force: true});
	}
}

export async function hostile(name: string, behaviour: Behaviour, options: HostileOptions = {}): Promise<HostileServer> {
	const server = await startHostile(name, behaviour, options);
	servers.push(server);
	return server;
}

export async function scripted(script: Step[], options: ScriptedServerOptions = {}, exempt?: string): Promise<ScriptedServer> {
	const server = await startScriptedServer(script, {tls: plainTls, ...options});
	servers.push(server);
	scriptedSessions.push({server, ...(exempt ? {exempt} : {})});
	return server;
}

export type Run = {result: Omit<ProbeResult, 'stages'> & {stages: Record<StageName, StageReport>}; elapsed: number; ids: string[]};

/** What the checks may depend on besides the facts. */
export const context = {warnDays: 21, bannerSlowMs: defaultLimits.bannerSlowMs, now: Date.now};

export async function probeAt(server: {host?: string; port: number}, overrides: Partial<ProbeOptions> & {exchange?: string} = {}): Promise<Run> {
	const {exchange: name = exchange, ...rest} = overrides;
	const started = performance.now();
	const result = await bounded(probe({domain: 'hostile.test', exchange: name, ip: server.host ?? '127.0.0.1', port: server.port}, {
		ehloName,
		relay: 'basic',
		mailFrom,
		rcptTo,
		limits,
		...rest,
	}), 25_000, 'the probe did not finish');
	const elapsed = performance.now() - started;
	const findings = diagnoseAddress({result}, context);
	// Each stage with the status the report gives it: the worst finding that judges it.
	return {result: {...result, stages: reportStages(result.stages, findings)}, elapsed, ids: findings.map(item => item.id)};
}

export function serverLines(result: ProbeResult): string[] {
	return result.transcript.filter(line => line.dir === 'server').map(line => line.text);
}

/** The stage that ended the session and why (a missing STARTTLS is a finding, not a failure). */
export function failedStage(result: Pick<ProbeResult, 'stages'>): [StageName, string | undefined] | undefined {
	const entry = Object.entries(result.stages).find(([name, stage]) => stage.outcome === 'failed' && stage.error !== 'missing' && name !== 'quit');
	return entry ? [entry[0] as StageName, entry[1].error] : undefined;
}

export async function ended(session: HostileSession, ms = 5000): Promise<HostileSession> {
	await bounded(session.closed, ms, `the ${session.behaviour} connection did not close`);
	return session;
}

export function received(session: Session | HostileSession): string[] {
	return 'lines' in session ? session.lines.map(line => line.text) : session.commands.map(line => line.text);
}
