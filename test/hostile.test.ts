// The property: a mail admin can point mxdash at anything — a tarpit, a broken appliance, a
// malicious host — and get a clear result in bounded time and memory, with the terminal intact.
// Every server here is hostile on purpose (test/helpers/hostile-servers.ts: one raw listener per
// behaviour on its own 127.0.66.x address; test/helpers/scripted-server.ts for scripted
// dialogues). Each test names the protection it guards; removing that protection fails it.
import {execFile, spawn, spawnSync} from 'node:child_process';
import type {ChildProcess} from 'node:child_process';
import {X509Certificate} from 'node:crypto';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import net from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {diagnoseAddress} from '../source/core/checks/diagnose.js';
import {defaultLimits} from '../source/core/limits.js';
import type {Limits} from '../source/core/limits.js';
import {runRound} from '../source/core/run/monitor.js';
import type {RoundOptions} from '../source/core/run/monitor.js';
import {probe} from '../source/core/smtp/session.js';
import type {ProbeOptions} from '../source/core/smtp/session.js';
import type {AddressReport, Report} from '../source/core/run/report-model.js';
import type {ProbeResult, StageName} from '../source/core/types.js';
import {reverseName, startDnsServer} from '../source/peers/dns-server.js';
import type {DnsServer, Zone} from '../source/peers/dns-server.js';
import {allHostileSessions, bounded, bytes, dialogue, hostileAddress, startHostile} from './helpers/hostile-servers.js';
import type {Behaviour, HostileOptions, HostileServer, HostileSession} from './helpers/hostile-servers.js';
import {cliPath, runCli} from './helpers/run-cli.js';
import {Terminal, has, tmuxMissing} from './helpers/tmux.js';
import {batch, close, expectLine, pause, send, serve, smtpResponder, startScriptedServer, startTls} from './helpers/scripted-server.js';
import type {ScriptedServer, ScriptedServerOptions, Session, Step} from './helpers/scripted-server.js';

const run = promisify(execFile);

const limits: Limits = {
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

const exchange = 'mx.hostile.test';
const ehloName = 'probe.mxdash.test';
const mailFrom = 'probe@mxdash.invalid';
const rcptTo = 'relay-check@mxdash.invalid';
const greeting = `220 ${exchange} ESMTP\r\n`;
const bye = '221 2.0.0 Bye\r\n';
const ehloLine = /^EHLO probe\.mxdash\.test$/;
const mailLine = /^MAIL FROM:<probe@mxdash\.invalid>$/;
const rcptLine = /^RCPT TO:<relay-check@mxdash\.invalid>$/;
const quitLine = /^QUIT$/;
const tlsEhlo = `250-${exchange}\r\n250-PIPELINING\r\n250 STARTTLS\r\n`;
const plainEhlo = `250-${exchange}\r\n250 8BITMIME\r\n`;
/** A TLS record header announcing a 122-byte handshake record, then a ServerHello's first bytes: and nothing more. */
const partialServerHello = Buffer.from([0x16, 0x03, 0x03, 0x00, 0x7A, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03, 0x5A, 0x5A]);
/** A fatal handshake_failure alert record. */
const tlsAlert = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);

type Credentials = {key: string; cert: string};
let dir: string;
let plainTls: Credentials;
let hugeChainTls: Credentials;
let hugeChainBytes = 0;
let evilTls: Credentials;
/** The CN that the hostile certificate carries (an ESC, OSC 0, BEL, bidi, zero-width, DEL, C1 CSI). */
const evilCommonName = 'evil\u001B]0;pwn\u0007\u202Eflip\u200Bzw\u007F\u009Bc1';
const evilSan = 'DNS:evil\u001B[2J.test';

const servers: Array<{close(): Promise<void>}> = [];
/** Scripted sessions, for test 6, with the reason a session need not end in QUIT. */
const scriptedSessions: Array<{server: ScriptedServer; exempt?: string}> = [];

beforeAll(async () => {
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
}, 60_000);

afterAll(async () => {
	await Promise.all(servers.splice(0).map(async server => server.close()));
	if (dir) {
		rmSync(dir, {recursive: true, force: true});
	}
});

async function hostile(name: string, behaviour: Behaviour, options: HostileOptions = {}): Promise<HostileServer> {
	const server = await startHostile(name, behaviour, options);
	servers.push(server);
	return server;
}

async function scripted(script: Step[], options: ScriptedServerOptions = {}, exempt?: string): Promise<ScriptedServer> {
	const server = await startScriptedServer(script, {tls: plainTls, ...options});
	servers.push(server);
	scriptedSessions.push({server, ...(exempt ? {exempt} : {})});
	return server;
}

type Run = {result: ProbeResult; elapsed: number; ids: string[]};

async function probeAt(server: {host?: string; port: number}, overrides: Partial<ProbeOptions> & {exchange?: string} = {}): Promise<Run> {
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
	return {result, elapsed, ids: diagnoseAddress(result, {warnDays: 21}).map(item => item.id)};
}

function serverLines(result: ProbeResult): string[] {
	return result.transcript.filter(line => line.dir === 'server').map(line => line.text);
}

/** The stage that ended the session and why (a missing STARTTLS is a finding, not a failure). */
function failedStage(result: Pick<ProbeResult, 'stages'>): [StageName, string | undefined] | undefined {
	const entry = Object.entries(result.stages).find(([, stage]) => stage.status === 'critical' && stage.error && stage.error !== 'missing');
	return entry ? [entry[0] as StageName, entry[1].error] : undefined;
}

async function ended(session: HostileSession, ms = 5000): Promise<HostileSession> {
	await bounded(session.closed, ms, `the ${session.behaviour} connection did not close`);
	return session;
}

function received(session: Session | HostileSession): string[] {
	return 'lines' in session ? session.lines.map(line => line.text) : session.commands.map(line => line.text);
}

// ---------------------------------------------------------------------------------------------
// Behaviours
// ---------------------------------------------------------------------------------------------

const aChunk = Buffer.alloc(64 * 1024, 0x41);
const continuationChunk = Buffer.from('250-x\r\n'.repeat(Math.floor(65_536 / 7)), 'latin1');
/** Continuation lines of exactly 2048 bytes (maxLineBytes, CRLF included): each alone is legal. */
const longLine = `250-${'x'.repeat(2042)}\r\n`;
const longLinesChunk = Buffer.from(longLine.repeat(32), 'latin1');

/** `220 ` and then `A` forever, ignoring the client's FIN, until the client destroys the socket. */
const lineWithoutEnd: Behaviour = async conn => {
	conn.write('220 ');
	await conn.flood(aChunk);
};

/** A greeting, then `250-x` forever as the answer to EHLO. */
const endlessReply: Behaviour = async conn => {
	conn.write(greeting);
	conn.session.greeted = true;
	if (await conn.nextLine()) {
		await conn.flood(continuationChunk);
	}
};

/** A greeting, then legal 2048-byte continuation lines forever as the answer to EHLO. */
const longLineFlood: Behaviour = async conn => {
	conn.write(greeting);
	conn.session.greeted = true;
	conn.session.quitExempt = 'a flood the client cut (session-too-large)';
	if (await conn.nextLine()) {
		await conn.flood(longLinesChunk);
	}
};

/** A greeting, then complete `250 ok` replies forever: nobody asked for them. */
const replyFlood: Behaviour = async conn => {
	conn.write(greeting);
	conn.session.greeted = true;
	if (await conn.nextLine()) {
		await conn.flood(Buffer.from('250 ok\r\n'.repeat(8192), 'latin1'));
	}
};

/** A full STARTTLS dialogue whose handshake sends ~220 KB of certificates. */
const hugeChain: Behaviour = async conn => {
	conn.write(greeting);
	conn.session.greeted = true;
	conn.session.quitExempt = 'the TLS handshake failed: nothing can be said after it';
	if (await conn.nextLine()) {
		conn.write(tlsEhlo);
	}

	if (await conn.nextLine()) {
		conn.write('220 2.0.0 Ready to start TLS\r\n');
		conn.startTls(hugeChainTls);
	}
};

/** A legal multi-line answer of `lines` lines of 2000 bytes, STARTTLS advertised. */
function bigEhlo(lines: number): string {
	const keywords = Array.from({length: lines - 2}, (_, index) => `X-${String(index).padStart(3, '0')} ${'p'.repeat(1988)}`);
	return [exchange, ...keywords, 'STARTTLS'].map((text, index) => `250${index === lines - 1 ? ' ' : '-'}${text}\r\n`).join('');
}

/** ~200 KB of legal EHLO answer before STARTTLS, ~80 KB after: within the limit apart, over it together. */
const budgetAcrossTls: Behaviour = async conn => {
	conn.write(greeting);
	conn.session.greeted = true;
	conn.session.quitExempt = 'a flood the client cut (session-too-large)';
	if (await conn.nextLine()) {
		conn.write(bigEhlo(100));
	}

	if (await conn.nextLine()) {
		conn.write('220 2.0.0 Ready to start TLS\r\n');
		conn.startTls(plainTls);
	}

	if (await conn.nextLine()) {
		conn.write(bigEhlo(40));
	}
};

const drip = (data: string, everyMs: number): Behaviour => async conn => {
	await conn.drip(data, everyMs);
};

/** A greeting, then the answer to EHLO one byte every 300 ms. */
const ehloDrip: Behaviour = async conn => {
	conn.write(greeting);
	conn.session.greeted = true;
	if (await conn.nextLine()) {
		await conn.drip(plainEhlo, 300);
	}
};

/** STARTTLS, then a TLS record that never completes. */
const tlsStall: Behaviour = async conn => {
	conn.write(greeting);
	conn.session.greeted = true;
	conn.session.quitExempt = 'the TLS handshake stalled: nothing can be said after it';
	if (await conn.nextLine()) {
		conn.write(tlsEhlo);
	}

	if (await conn.nextLine()) {
		conn.write('220 2.0.0 Ready to start TLS\r\n');
		conn.hold();
		if (await conn.peekRaw()) {
			conn.writeRaw(partialServerHello);
		}
	}

	await conn.waitGone(10_000);
};

const mute: Behaviour = async conn => {
	await conn.waitGone(10_000);
};

// ---------------------------------------------------------------------------------------------
// 1. Bounded memory
// ---------------------------------------------------------------------------------------------

describe('1. bounded memory', () => {
	const memoryLimits: Limits = {...limits, bannerMs: 5000, commandMs: 5000, tlsMs: 5000};

	it('a line with no end: line-too-long after 2 KB, long before the deadline, and the socket is closed under a server that ignores FIN [guards ReplyReader maxLineBytes, close() linger]', async () => {
		const server = await hostile('line without end', lineWithoutEnd, {allowHalfOpen: true});
		const {result, elapsed, ids} = await probeAt(server, {limits: memoryLimits});
		const session = await ended(await server.session());

		expect(failedStage(result)).toEqual(['banner', 'line-too-long']);
		expect(ids).toEqual(['protocol-error']);
		// Decided as soon as the limit was crossed; the socket then gets one second to close.
		expect(result.ms).toBeLessThan(500);
		expect(elapsed).toBeLessThan(2500);
		expect(session.clientGone).toBe(true);
		expect(session.serverClosedFirst).toBe(false);
		// What is shown of the line is a short head, not the line.
		const [shown] = serverLines(result);
		expect(shown!.length).toBeLessThan(100);
		expect(shown!.endsWith('…')).toBe(true);
		expect(received(session)).toEqual([]);
	});

	it('an endless multi-line reply: reply-too-large at maxReplyLines, then QUIT [guards ReplyReader maxReplyLines]', async () => {
		const server = await hostile('endless multi-line reply', endlessReply);
		const {result, elapsed, ids} = await probeAt(server, {limits: memoryLimits});
		const session = await ended(await server.session());

		expect(failedStage(result)).toEqual(['ehlo', 'reply-too-large']);
		expect(ids).toContain('protocol-error');
		expect(result.ms).toBeLessThan(1000);
		expect(elapsed).toBeLessThan(2500);
		expect(serverLines(result).length).toBeLessThanOrEqual(limits.maxReplyLines + 1);
		expect(result.relay.tested).toBe(false);
		expect(received(session)).toEqual(['EHLO probe.mxdash.test', 'QUIT']);
		expect(session.clientGone).toBe(true);
	});

	it('legal lines forever: session-too-large at maxSessionBytes (each line and the line count alone are legal) [guards ReplyReader maxSessionBytes]', async () => {
		const server = await hostile('long line flood', longLineFlood);
		const {result, elapsed, ids} = await probeAt(server, {limits: memoryLimits});
		const session = await ended(await server.session());

		expect(failedStage(result)).toEqual(['ehlo', 'session-too-large']);
		expect(ids).toContain('protocol-error');
		expect(result.ms).toBeLessThan(1000);
		expect(elapsed).toBeLessThan(2500);
		expect(session.clientGone).toBe(true);
		// The transcript holds at most what the session limit let in.
		const kept = result.transcript.reduce((sum, line) => sum + line.text.length, 0);
		expect(kept).toBeLessThanOrEqual(limits.maxSessionBytes + 4096);
	});

	it('the byte budget spans STARTTLS: 200 KB before and 80 KB after, each legal alone, end in session-too-large [guards the reader budget carried over in upgrade()]', async () => {
		expect(Buffer.byteLength(bigEhlo(100)) + Buffer.byteLength(bigEhlo(40))).toBeGreaterThan(limits.maxSessionBytes);
		expect(Buffer.byteLength(bigEhlo(100))).toBeLessThan(limits.maxSessionBytes);
		const server = await hostile('budget across TLS', budgetAcrossTls);
		const {result, elapsed} = await probeAt(server, {limits: memoryLimits});
		await ended(await server.session());

		expect(result.stages.ehlo.status).toBe('ok');
		expect(result.stages.tls.status).toBe('ok');
		expect(failedStage(result)).toEqual(['ehloTls', 'session-too-large']);
		expect(elapsed).toBeLessThan(2000);
	});

	it('complete replies nobody asked for, forever: unexpected-reply on the first [guards the owed-replies count in probe.ts onData]', async () => {
		const server = await hostile('reply flood', replyFlood);
		const {result, elapsed, ids} = await probeAt(server, {limits: memoryLimits});
		const session = await ended(await server.session());

		expect(failedStage(result)?.[1]).toBe('unexpected-reply');
		expect(ids).toContain('protocol-error');
		expect(result.relay.open).toBe(false);
		expect(elapsed).toBeLessThan(2500);
		expect(session.clientGone).toBe(true);
		expect(received(session)).toContain('QUIT');
	});

	it('a certificate chain of 40 certificates (> 200 KiB): the TLS stage fails promptly, nothing is buffered [guards OpenSSL max_cert_list, the tls stage failure path]', async () => {
		expect(hugeChainBytes).toBeGreaterThan(200 * 1024);
		const server = await hostile('huge certificate chain', hugeChain);
		const {result, elapsed, ids} = await probeAt(server, {limits: memoryLimits});
		const session = await ended(await server.session());

		expect(result.stages.starttls.status).toBe('ok');
		expect(failedStage(result)).toEqual(['tls', 'tls-failed']);
		expect(result.stages.tls.detail).toMatch(/excessive message size/i);
		expect(ids).toContain('starttls-failed');
		expect(result.tls).toBeUndefined();
		expect(result.injectedBytes).toBeUndefined();
		expect(elapsed).toBeLessThan(2000);
		expect(session.clientGone).toBe(true);
	});

	it('20 hostile sessions at once leave RSS within 50 MB of where it was [guards every bound above together]', async () => {
		const behaviours: Array<[string, Behaviour, HostileOptions, string]> = [
			['line without end (rss)', lineWithoutEnd, {allowHalfOpen: true}, 'line-too-long'],
			['endless multi-line reply (rss)', endlessReply, {}, 'reply-too-large'],
			['long line flood (rss)', longLineFlood, {}, 'session-too-large'],
			['huge certificate chain (rss)', hugeChain, {}, 'tls-failed'],
		];
		const targets = await Promise.all(behaviours.map(async ([name, behaviour, options, error]) => ({server: await hostile(name, behaviour, options), error})));
		const gc = (globalThis as {gc?: () => void}).gc;
		gc?.();
		const before = process.memoryUsage().rss;
		let peak = before;
		const sample = setInterval(() => {
			peak = Math.max(peak, process.memoryUsage().rss);
		}, 20);
		const started = performance.now();
		const runs = await Promise.all(Array.from({length: 20}, async (_, index) => {
			const {server, error} = targets[index % targets.length]!;
			const {result} = await probeAt(server, {limits: memoryLimits});
			return {error, got: failedStage(result)?.[1]};
		})).finally(() => {
			clearInterval(sample);
		});
		const elapsed = performance.now() - started;
		gc?.();
		const after = process.memoryUsage().rss;
		peak = Math.max(peak, after);
		const mb = (value: number): string => `${(value / 1024 / 1024).toFixed(1)} MB`;
		expect(after - before, `RSS grew by ${mb(after - before)} (peak +${mb(peak - before)})`).toBeLessThan(50 * 1024 * 1024);
		expect(peak - before, `RSS peaked ${mb(peak - before)} above the start`).toBeLessThan(100 * 1024 * 1024);
		expect(runs.map(({got}) => got)).toEqual(runs.map(({error}) => error));
		expect(elapsed).toBeLessThan(4000);
		const sessions = targets.flatMap(({server}) => server.sessions);
		expect(sessions).toHaveLength(20);
		await Promise.all(sessions.map(async session => ended(session)));
		expect(sessions.every(session => session.clientGone)).toBe(true);
	});
});

// ---------------------------------------------------------------------------------------------
// 2. Bounded time
// ---------------------------------------------------------------------------------------------

const pythonMissing = ((): string | undefined => {
	const check = spawnSync('python3', ['-c', 'import socket'], {timeout: 10_000});
	return check.status === 0 ? undefined : 'python3 is not available';
})();

type Blackhole = {host: string; port: number; stop(): void};

/** A listener that never accepts, with a full backlog: the kernel drops new SYNs (python3, since Node always accepts). */
async function blackhole(): Promise<Blackhole> {
	const host = hostileAddress();
	const script = 'import socket,sys\ns=socket.socket()\ns.bind((sys.argv[1],0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()\n';
	const child: ChildProcess = spawn('python3', ['-c', script, host], {stdio: ['pipe', 'pipe', 'ignore']});
	const port = await bounded(new Promise<number>((resolve, reject) => {
		child.stdout!.once('data', (data: Buffer) => {
			resolve(Number(data.toString().trim()));
		});
		child.once('error', reject);
	}), 10_000, 'python3 listener');
	// Fill the accept queue (backlog 0 holds one connection); later SYNs are dropped.
	const fillers = [net.connect({host, port}), net.connect({host, port})];
	for (const filler of fillers) {
		filler.on('error', () => undefined);
	}

	await bounded(new Promise(resolve => {
		fillers[0]!.once('connect', resolve);
	}), 3000, 'the first filler connection');
	return {
		host,
		port,
		stop() {
			for (const filler of fillers) {
				filler.destroy();
			}

			child.stdin?.end();
			child.kill();
		},
	};
}

describe.concurrent('2. bounded time', () => {
	it('a tarpit dripping a valid greeting, one byte per 300 ms: banner-timeout at the absolute bannerMs [guards the stage deadline being absolute, not idle]', async ({expect}) => {
		const server = await hostile('greeting tarpit', drip(greeting, 300));
		const {result, elapsed, ids} = await probeAt(server);
		const session = await ended(await server.session());

		expect(failedStage(result)).toEqual(['banner', 'timeout']);
		expect(ids).toEqual(['banner-timeout']);
		expect(elapsed).toBeGreaterThanOrEqual(limits.bannerMs);
		expect(elapsed).toBeLessThanOrEqual(limits.bannerMs + 700);
		expect(result.stages.banner.ms).toBeGreaterThanOrEqual(limits.bannerMs - 5);
		// The server did talk all along: an idle timer would have been reset five times.
		expect(session.bytesWritten).toBeGreaterThanOrEqual(4);
		expect(session.bytesWritten).toBeLessThan(greeting.length);
		expect(received(session)).toEqual([]);
	});

	it('a greeting, then the EHLO answer one byte per 300 ms: ehlo-timeout at commandMs, then QUIT [guards the command deadline]', async ({expect}) => {
		const server = await hostile('EHLO tarpit', ehloDrip);
		const {result, elapsed, ids} = await probeAt(server);
		const session = await ended(await server.session());

		expect(failedStage(result)).toEqual(['ehlo', 'timeout']);
		expect(ids).toContain('ehlo-timeout');
		expect(result.stages.ehlo.ms).toBeGreaterThanOrEqual(limits.commandMs - 5);
		expect(result.stages.ehlo.ms).toBeLessThanOrEqual(limits.commandMs + 700);
		expect(elapsed).toBeLessThanOrEqual(limits.commandMs + 1200);
		expect(session.bytesWritten - greeting.length).toBeGreaterThanOrEqual(4);
		expect(received(session)).toEqual(['EHLO probe.mxdash.test', 'QUIT']);
	});

	it('a TLS handshake that stalls after the first bytes of a ServerHello: tls-timeout at tlsMs [guards the tls deadline]', async ({expect}) => {
		const server = await hostile('TLS stall', tlsStall);
		const {result, ids} = await probeAt(server);
		await ended(await server.session());

		expect(result.stages.starttls.status).toBe('ok');
		expect(failedStage(result)).toEqual(['tls', 'timeout']);
		expect(ids).toContain('tls-timeout');
		expect(result.stages.tls.ms).toBeGreaterThanOrEqual(limits.tlsMs - 5);
		expect(result.stages.tls.ms).toBeLessThanOrEqual(limits.tlsMs + 700);
	});

	it('a listener whose backlog is full: tcp-timeout at connectMs [guards the connect deadline]', async ({expect, skip}) => {
		if (pythonMissing) {
			process.stderr.write(`*** connect-timeout test skipped: ${pythonMissing} ***\n`);
			skip();
		}

		const hole = await blackhole();
		try {
			const {result, elapsed, ids} = await probeAt(hole);
			expect(failedStage(result)).toEqual(['connect', 'timeout']);
			expect(ids).toEqual(['tcp-timeout']);
			expect(elapsed).toBeGreaterThanOrEqual(limits.connectMs);
			expect(elapsed).toBeLessThanOrEqual(limits.connectMs + 700);
		} finally {
			hole.stop();
		}
	});

	it('a resolver that never answers: dns-error by dnsMs, for the domain and for an MX host [guards Dns.query deadline]', async ({expect}) => {
		const dns = await startDnsServer({
			'mute.test': {mute: true},
			'mutehost.test': {MX: [[10, 'mx.mutehost.test']]},
			'mx.mutehost.test': {mute: true},
		}, hostileAddress());
		servers.push(dns);
		const options = roundOptions({resolvers: [dns.address]});

		let started = performance.now();
		const domain = await runRound(['mute.test'], options);
		let elapsed = performance.now() - started;
		expect(domain.domains[0]!.findings.map(item => item.id)).toEqual(['dns-error']);
		expect(domain.summary.exitCode).toBe(3);
		expect(elapsed).toBeGreaterThanOrEqual(limits.dnsMs - 5);
		expect(elapsed).toBeLessThanOrEqual(limits.dnsMs + 500);

		started = performance.now();
		const host = await runRound(['mutehost.test'], options);
		elapsed = performance.now() - started;
		expect(host.domains[0]!.mx[0]!.findings.map(item => item.id)).toContain('dns-error');
		// The CNAME lookup and then the A/AAAA lookups, each bounded by dnsMs: two in a row.
		expect(elapsed).toBeLessThanOrEqual(2 * limits.dnsMs + 500);
	});

	it('a whole round over a tarpit, a mute server, an EHLO tarpit, a stalled TLS, a black hole and a mute domain ends within the longest deadline plus slack [guards every deadline at once, in runRound]', async ({expect}) => {
		const targets = await Promise.all([
			hostile('round: greeting tarpit', drip(greeting, 300)),
			hostile('round: mute', mute),
			hostile('round: EHLO tarpit', ehloDrip),
			hostile('round: TLS stall', tlsStall),
		]);
		const hole = pythonMissing ? undefined : await blackhole();
		try {
			const all = [...targets, ...(hole ? [hole] : [])];
			const zone: Zone = {
				'mute.round.test': {mute: true},
				...Object.fromEntries(all.flatMap((target, index) => [
					[`d${index}.round.test`, {MX: [[10, `mx${index}.round.test`]]}],
					[`mx${index}.round.test`, {A: [target.host]}],
				])),
			};
			const dns = await startDnsServer(zone, hostileAddress());
			servers.push(dns);
			const options = roundOptions({resolvers: [dns.address], ports: Object.fromEntries(all.map(target => [target.host, target.port]))});
			const started = performance.now();
			const report = await runRound([...all.map((_, index) => `d${index}.round.test`), 'mute.round.test'], options);
			const elapsed = performance.now() - started;

			const stageErrors = report.domains.flatMap(domain => domain.mx.flatMap(mx => mx.addresses.map(address => failedStage(address))));
			expect(stageErrors).toEqual([
				['banner', 'timeout'],
				['banner', 'timeout'],
				['ehlo', 'timeout'],
				['tls', 'timeout'],
				...(hole ? [['connect', 'timeout']] : []),
			]);
			expect(report.domains.at(-1)!.findings.map(item => item.id)).toEqual(['dns-error']);
			const longest = Math.max(limits.connectMs, limits.bannerMs, limits.commandMs, limits.tlsMs, limits.dnsMs);
			expect(elapsed).toBeLessThan(longest + 1500);
		} finally {
			hole?.stop();
		}
	});
});

function roundOptions(overrides: Partial<RoundOptions>): RoundOptions {
	return {
		version: 'test',
		port: 25,
		ehloName,
		relay: 'basic',
		mailFrom,
		rcptTo,
		concurrency: 16,
		warnDays: 21,
		limits,
		...overrides,
	};
}

// ---------------------------------------------------------------------------------------------
// 3. STARTTLS and protocol abuse (NO STARTTLS, Poddebniak et al., USENIX Security 2021)
// ---------------------------------------------------------------------------------------------

describe('3. STARTTLS and protocol abuse', () => {
	const realEhloAfterTls = `250-${exchange} Hello again\r\n250-SIZE 52428800\r\n250 8BITMIME\r\n`;

	it.each([
		{name: 'a multi-line 250 block advertising AUTH and PIPELINING', injected: '250-evil.example\r\n250-AUTH PLAIN LOGIN\r\n250-PIPELINING\r\n250 STARTTLS\r\n'},
		{name: 'a partial line', injected: '250-PIPELI'},
		{name: 'a second 220 and a 250', injected: '220 2.0.0 go ahead\r\n250 AUTH PLAIN\r\n'},
	])('response injection in the 220 segment ($name): discarded, and the capabilities after TLS are the real ones only [guards the rest>0 discard in onData]', async ({injected}) => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, tlsEhlo),
			expectLine(/^STARTTLS$/, `220 2.0.0 Ready to start TLS\r\n${injected}`),
			startTls(),
			expectLine(ehloLine, realEhloAfterTls, {tls: true}),
			expectLine(mailLine, '250 2.1.0 Ok\r\n', {tls: true}),
			expectLine(rcptLine, '554 5.7.1 Relay access denied\r\n', {tls: true}),
			expectLine(quitLine, bye, {tls: true}),
		], {oneCommandPerChunk: true});
		const {result, ids} = await probeAt(server);
		const session = await server.session();
		await bounded(Promise.all([session.closed, session.done]), 5000, 'scripted session');

		expect(session.failures).toEqual([]);
		expect(result.injectedBytes).toBe(Buffer.byteLength(injected));
		expect(ids).toContain('starttls-injection');
		expect(result.ehlo?.extensions.map(extension => extension.keyword)).toEqual(['PIPELINING', 'STARTTLS']);
		expect(result.ehlo?.extensionsAfterTls).toEqual([{keyword: 'SIZE', params: ['52428800']}, {keyword: '8BITMIME', params: []}]);
		expect(result.transcript.filter(line => line.tls && line.dir === 'server').map(line => line.text)).toEqual([
			`250-${exchange} Hello again`, '250-SIZE 52428800', '250 8BITMIME', '250 2.1.0 Ok', '554 5.7.1 Relay access denied', '221 2.0.0 Bye',
		]);
		expect(result.relay).toMatchObject({tested: true, open: false});
		// The injected PIPELINING did not make the relay test pipelined (the server saw one command per read).
		expect(new Set(session.lines.map(line => line.chunk)).size).toBe(session.lines.length);
	});

	it('injection in a separate segment after the 220, before the ClientHello arrives: never read as a reply [guards upgrade() handing the socket to TLS at once]', async () => {
		const server = await hostile('injection after 220', async conn => {
			conn.write(greeting);
			conn.session.greeted = true;
			if (await conn.nextLine()) {
				conn.write(tlsEhlo);
			}

			if (await conn.nextLine()) {
				conn.write('220 2.0.0 Ready to start TLS\r\n');
				conn.hold();
				// The client has started its handshake by now; then the plaintext comes.
				await conn.peekRaw(2000);
				conn.writeRaw('250-evil.example\r\n250-AUTH PLAIN\r\n250 PIPELINING\r\n');
				conn.startTls(plainTls);
				conn.session.quitExempt = 'the TLS handshake failed on the injected bytes';
			}

			await dialogue({ehlo: realEhloAfterTls})(conn).catch(() => undefined);
		});
		const {result, ids} = await probeAt(server);
		await ended(await server.session());

		expect(result.stages.starttls.status).toBe('ok');
		// The handshake cannot survive plaintext in its stream.
		expect(failedStage(result)?.[0]).toBe('tls');
		expect(ids).toContain('starttls-failed');
		expect(result.stages.tls.detail).toMatch(/not TLS|plaintext/);
		expect(result.tls).toBeUndefined();
		expect(result.ehlo?.extensionsAfterTls).toBeUndefined();
		expect(result.transcript.some(line => line.tls)).toBe(false);
		expect(serverLines(result).some(line => /evil|AUTH/.test(line))).toBe(false);
		expect(result.relay.tested).toBe(false);
	});

	it.each([
		{name: 'replaced by XXXXXXXA', ehlo: `250-${exchange}\r\n250-PIPELINING\r\n250-XXXXXXXA\r\n250 8BITMIME\r\n`},
		{name: 'moved to the greeting line', ehlo: `250-${exchange} STARTTLS\r\n250 8BITMIME\r\n`},
		{name: 'as a parameter of another keyword', ehlo: `250-${exchange}\r\n250 X-EXTENSIONS STARTTLS\r\n`},
	])('STARTTLS stripped ($name): starttls-missing, critical, never a silent plaintext pass [guards startTls() in probe-machine]', async ({ehlo}) => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, ehlo),
			serve(quitLine, smtpResponder()),
		]);
		const {result, ids} = await probeAt(server);
		const session = await server.session();
		await bounded(session.closed, 5000, 'scripted session');

		expect(result.stages.starttls).toMatchObject({status: 'critical', error: 'missing'});
		expect(ids).toContain('starttls-missing');
		expect(diagnoseAddress(result, {warnDays: 21}).find(item => item.id === 'starttls-missing')?.severity).toBe('critical');
		expect(received(session)).not.toContain('STARTTLS');
		expect(result.tls).toBeUndefined();
	});

	it.each([
		{code: '502', reply: '502 5.5.1 Command not implemented\r\n'},
		{code: '554', reply: '554 5.3.3 TLS not available\r\n'},
	])('STARTTLS answered $code: no TLS attempted, starttls-failed, the relay test in clear text [guards the starttls reply branch]', async ({reply}) => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, tlsEhlo),
			expectLine(/^STARTTLS$/, reply),
			batch([mailLine, rcptLine, quitLine], `250 Ok\r\n554 Relay access denied\r\n${bye}`),
		]);
		const {result, ids} = await probeAt(server);
		const session = await server.session();
		await bounded(Promise.all([session.closed, session.done]), 5000, 'scripted session');

		expect(session.failures).toEqual([]);
		expect(result.stages.starttls).toMatchObject({status: 'critical', error: 'refused'});
		expect(result.stages.tls.status).toBe('skipped');
		expect(result.stages.ehloTls.status).toBe('skipped');
		expect(ids).toContain('starttls-failed');
		expect(session.lines.some(line => line.tls)).toBe(false);
		expect(session.log).not.toContain('-- tls start');
	});

	it('STARTTLS answered 221 (closing): no TLS, no further command into a closing channel, no blame on the relay stage [guards the starttls reply branch]', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, tlsEhlo),
			expectLine(/^STARTTLS$/, '221 2.0.0 Bye\r\n'),
			close(),
		]);
		const {result, ids} = await probeAt(server);
		const session = await server.session();
		await bounded(session.closed, 5000, 'scripted session');

		expect(result.stages.starttls.status).toBe('critical');
		expect(result.stages.tls.status).toBe('skipped');
		expect(ids).toContain('starttls-failed');
		expect(result.relay.open).toBe(false);
		// 221 closes the channel (RFC 5321 §3.8, §4.2.2): a MAIL FROM after it goes nowhere, and the
		// relay test did not fail, it never ran.
		expect(received(session).slice(2).filter(line => line !== 'QUIT')).toEqual([]);
		expect(ids).not.toContain('connection-lost');
	});

	it('capabilities tampered before TLS (PIPELINING before, not after): the relay test is not pipelined [guards pipelining re-read from the EHLO after TLS]', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, tlsEhlo),
			expectLine(/^STARTTLS$/, '220 2.0.0 Ready\r\n'),
			startTls(),
			expectLine(ehloLine, realEhloAfterTls, {tls: true}),
			expectLine(mailLine, '250 2.1.0 Ok\r\n', {tls: true}),
			expectLine(rcptLine, '554 5.7.1 Relay access denied\r\n', {tls: true}),
			expectLine(quitLine, bye, {tls: true}),
		], {oneCommandPerChunk: true});
		const {result} = await probeAt(server);
		const session = await server.session();
		await bounded(Promise.all([session.closed, session.done]), 5000, 'scripted session');

		expect(session.failures).toEqual([]);
		expect(result.ehlo?.extensions.some(extension => extension.keyword === 'PIPELINING')).toBe(true);
		expect(result.ehlo?.extensionsAfterTls?.some(extension => extension.keyword === 'PIPELINING')).toBe(false);
		const inside = session.lines.filter(line => line.tls);
		expect(inside.map(line => line.text)).toEqual(['EHLO probe.mxdash.test', `MAIL FROM:<${mailFrom}>`, `RCPT TO:<${rcptTo}>`, 'QUIT']);
		expect(new Set(inside.map(line => line.chunk)).size).toBe(4);
	});

	it.each([
		{name: 'in one segment', steps: [expectLine(/^STARTTLS$/, '220-2.0.0 Ready\r\n220 2.0.0 go ahead\r\n')]},
		{name: 'split over two segments', steps: [expectLine(/^STARTTLS$/, '220-2.0.0 Ready\r\n'), pause(60), send('220 2.0.0 go ahead\r\n')]},
	])('a multi-line 220 to STARTTLS ($name): TLS starts after its last line, nothing counts as injected [guards the reader finishing a reply before start-tls]', async ({steps}) => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, tlsEhlo),
			...steps,
			startTls(),
			expectLine(ehloLine, realEhloAfterTls, {tls: true}),
			serve(quitLine, smtpResponder()),
		]);
		const {result} = await probeAt(server);
		const session = await server.session();
		await bounded(Promise.all([session.closed, session.done]), 5000, 'scripted session');

		expect(session.failures).toEqual([]);
		expect(result.stages.tls.status).toBe('ok');
		expect(result.injectedBytes).toBeUndefined();
		expect(result.stages.relay.status).toBe('ok');
	});

	it('220 to STARTTLS, then a TLS alert after the ClientHello: tls-failed at once, no timeout [guards the TLS error path]', async () => {
		const server = await hostile('TLS alert', async conn => {
			conn.write(greeting);
			conn.session.greeted = true;
			conn.session.quitExempt = 'the TLS handshake failed';
			if (await conn.nextLine()) {
				conn.write(tlsEhlo);
			}

			if (await conn.nextLine()) {
				conn.write('220 2.0.0 Ready to start TLS\r\n');
				conn.hold();
				if (await conn.peekRaw()) {
					conn.writeRaw(tlsAlert);
				}
			}
		});
		const {result, elapsed, ids} = await probeAt(server);
		await ended(await server.session());

		expect(failedStage(result)).toEqual(['tls', 'tls-failed']);
		expect(result.stages.tls.detail).toMatch(/alert/i);
		expect(ids).toContain('starttls-failed');
		expect(ids).not.toContain('tls-timeout');
		expect(elapsed).toBeLessThan(limits.tlsMs / 2);
	});

	it('a TLS alert in the same segment as the 220 to STARTTLS: plaintext to us, discarded, and the real handshake goes on [guards the rest>0 discard for binary bytes]', async () => {
		const server = await hostile('TLS alert with the 220', async conn => {
			conn.write(greeting);
			conn.session.greeted = true;
			if (await conn.nextLine()) {
				conn.write(tlsEhlo);
			}

			if (await conn.nextLine()) {
				conn.write(Buffer.concat([Buffer.from('220 2.0.0 Ready to start TLS\r\n'), tlsAlert]));
				conn.startTls(plainTls);
				await dialogue({ehlo: realEhloAfterTls})(conn);
			}
		});
		const {result, ids} = await probeAt(server);
		await ended(await server.session());

		expect(result.injectedBytes).toBe(tlsAlert.length);
		expect(ids).toContain('starttls-injection');
		expect(result.stages.tls.status).toBe('ok');
		expect(result.ehlo?.extensionsAfterTls?.map(extension => extension.keyword)).toEqual(['SIZE', '8BITMIME']);
		expect(result.stages.quit.status).toBe('ok');
	});

	it.each([
		{name: 'a code change inside a multi-line greeting', script: [send('220-mx.hostile.test\r\n554 no\r\n')], stage: 'banner', error: 'code-changed', quit: false},
		{name: 'a garbage line as the answer to MAIL', script: [send(greeting), expectLine(ehloLine, plainEhlo), expectLine(mailLine, 'hello there, friend\r\n')], stage: 'relay', error: 'bad-reply', quit: true},
		{name: 'a two-digit code to EHLO', script: [send(greeting), expectLine(ehloLine, '25 ok\r\n')], stage: 'ehlo', error: 'bad-reply', quit: true},
		{name: 'a four-digit code to RCPT', script: [send(greeting), expectLine(ehloLine, plainEhlo), expectLine(mailLine, '250 Ok\r\n'), expectLine(rcptLine, '2500 accepted\r\n')], stage: 'relay', error: 'bad-reply', quit: true},
		{name: 'a NUL byte inside the EHLO answer', script: [send(greeting), expectLine(ehloLine, `250-${exchange}\r\n250-SIZE\u00001000\r\n250 8BITMIME\r\n`)], stage: 'ehlo', error: 'nul-byte', quit: true},
		{name: 'a 1xx code to EHLO', script: [send(greeting), expectLine(ehloLine, '150 go on\r\n')], stage: 'ehlo', error: 'bad-reply', quit: true},
	])('$name: $error in the $stage stage, the relay never judged open [guards the ReplyReader line checks]', async ({script, stage, error, quit}) => {
		const server = await scripted([...script, serve(quitLine, smtpResponder())], {}, quit ? undefined : 'no complete greeting');
		const {result, elapsed, ids} = await probeAt(server);
		const session = await server.session();
		await bounded(session.closed, 5000, 'scripted session');

		expect(failedStage(result)).toEqual([stage, error]);
		expect(ids).toContain('protocol-error');
		expect(result.relay.open).toBe(false);
		expect(received(session).includes('QUIT')).toBe(quit);
		expect(elapsed).toBeLessThan(1500);
	});

	it('bare LF and CRLF mixed inside one multi-line reply: read as one reply [guards LF-tolerant line splitting]', async () => {
		const server = await scripted([
			send(`220-${exchange}\n220 ready\r\n`),
			expectLine(ehloLine, `250-${exchange}\n250-PIPELINING\r\n250-SIZE 1000000\n250 8BITMIME\r\n`),
			batch([mailLine, rcptLine, quitLine], `250 Ok\n554 Relay access denied\r\n${bye}`),
		]);
		const {result} = await probeAt(server);
		const session = await server.session();
		await bounded(Promise.all([session.closed, session.done]), 5000, 'scripted session');

		expect(session.failures).toEqual([]);
		expect(result.banner?.text).toBe(`${exchange}\nready`);
		expect(result.ehlo?.extensions.map(extension => extension.keyword)).toEqual(['PIPELINING', 'SIZE', '8BITMIME']);
		expect(result.stages.relay.status).toBe('ok');
	});

	it.each([
		{name: 'EHLO', script: [send(greeting), expectLine(ehloLine, '421 4.7.0 Too many connections, try again later\r\n')], stage: 'ehlo'},
		{name: 'STARTTLS', script: [send(greeting), expectLine(ehloLine, tlsEhlo), expectLine(/^STARTTLS$/, '421 4.3.2 System not accepting network messages\r\n')], stage: 'starttls'},
		{name: 'MAIL', script: [send(greeting), expectLine(ehloLine, plainEhlo), expectLine(mailLine, '421 4.7.0 Rate limit exceeded\r\n')], stage: 'relay'},
	])('421 to $name mid-dialogue, the server then silent but open: rate-limited, no QUIT, no wait for one [guards abandon() on 421]', async ({script, stage}) => {
		const server = await hostile(`421 to ${stage}`, scriptedBehaviour(script));
		const {result, elapsed, ids} = await probeAt(server);
		const session = await ended(await server.session());

		expect(failedStage(result)).toEqual([stage, 'rate-limited']);
		expect(result.rateLimited).toMatch(/^421 /);
		expect(ids).toContain('rate-limited');
		expect(ids).not.toContain('open-relay');
		expect(received(session)).not.toContain('QUIT');
		// Not the quit deadline, not a command deadline: one second for the socket to close at most.
		expect(elapsed).toBeLessThan(1300);
	});

	it('a second 250 to MAIL in the same segment, one command at a time: never read as the answer to RCPT [guards the owed-replies count]', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, plainEhlo),
			expectLine(mailLine, '250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n'),
			serve(quitLine, smtpResponder()),
		]);
		const {result, ids} = await probeAt(server);
		const session = await server.session();
		await bounded(session.closed, 5000, 'scripted session');

		expect(result.relay.open).toBe(false);
		expect(result.relay.attempts[0]?.accepted).toBe(false);
		expect(ids).not.toContain('open-relay');
		expect(failedStage(result)).toEqual(['relay', 'unexpected-reply']);
	});

	it('a second 250 to MAIL in one pipelined batch answer: a closed relay is not read as open [guards the owed-replies count under PIPELINING]', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, `250-${exchange}\r\n250 PIPELINING\r\n`),
			// MAIL is answered twice; RCPT is refused; QUIT is answered.
			batch([mailLine, rcptLine, quitLine], `250 2.1.0 Ok\r\n250 2.1.0 Ok\r\n554 5.7.1 Relay access denied\r\n${bye}`),
		]);
		const {result, ids} = await probeAt(server);
		const session = await server.session();
		await bounded(Promise.all([session.closed, session.done]), 5000, 'scripted session');

		expect(session.failures).toEqual([]);
		expect(ids).not.toContain('open-relay');
		expect(result.relay.open).toBe(false);
		expect(result.relay.attempts[0]?.accepted).toBe(false);
	});

	it('a second 250 to MAIL in its own segment, one command at a time: the 554 to RCPT that then answers QUIT shows the replies are out of step, and the relay is not called open [guards reading QUIT\'s answer as a check]', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, plainEhlo),
			expectLine(mailLine, '250 2.1.0 Ok\r\n'),
			pause(50),
			send('250 2.1.0 Ok\r\n'),
			expectLine(rcptLine, '554 5.7.1 Relay access denied\r\n'),
			expectLine(quitLine, bye),
		]);
		const {result, ids} = await probeAt(server);
		const session = await server.session();
		await bounded(session.closed, 5000, 'scripted session');

		expect(ids).not.toContain('open-relay');
		expect(result.relay.open).toBe(false);
	});

	it('a greeting in 1-byte segments: read whole, the dialogue goes on [guards the incremental reader]', async () => {
		const server = await hostile('greeting in 1-byte segments', async conn => {
			await conn.drip(greeting, 3);
			conn.session.greeted = true;
			await dialogue({ehlo: plainEhlo})(conn);
		});
		const {result, ids} = await probeAt(server);
		const session = await ended(await server.session());

		expect(session.bytesWritten).toBeGreaterThan(greeting.length);
		expect(result.banner).toMatchObject({code: 220, text: `${exchange} ESMTP`, hostname: exchange});
		expect(result.stages.relay.status).toBe('ok');
		expect(ids).toEqual(['starttls-missing']);
	});

	it.each([
		{lines: 128, fits: true},
		{lines: 129, fits: false},
	])('an EHLO answer of $lines lines of 1900 bytes: fits=$fits (the limits are not off by one) [guards maxReplyLines exactly]', async ({lines, fits}) => {
		const keywords = Array.from({length: lines - 1}, (_, index) => `X-K${String(index).padStart(3, '0')} ${'p'.repeat(1888)}`);
		const answer = [exchange, ...keywords].map((text, index) => `250${index === lines - 1 ? ' ' : '-'}${text}\r\n`).join('');
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, answer),
			serve(quitLine, smtpResponder()),
		]);
		const {result} = await probeAt(server);
		const session = await server.session();
		await bounded(session.closed, 5000, 'scripted session');

		if (fits) {
			expect(Buffer.byteLength(answer) + greeting.length).toBeLessThan(limits.maxSessionBytes);
			expect(result.stages.ehlo.status).toBe('ok');
			expect(result.ehlo?.extensions).toHaveLength(127);
			expect(result.stages.relay.status).toBe('ok');
		} else {
			expect(failedStage(result)).toEqual(['ehlo', 'reply-too-large']);
		}
	});
});

/** Play a scripted-server script on a raw hostile connection (send and expect steps only). */
function scriptedBehaviour(script: Step[]): Behaviour {
	return async conn => {
		for (const step of script) {
			if (step.kind === 'send') {
				conn.write(step.data);
				conn.session.greeted ||= /^220 /m.test(step.data);
			} else if (step.kind === 'expect') {
				const line = await conn.nextLine();
				if (line === undefined || !step.match.test(line)) {
					return;
				}

				if (step.reply) {
					conn.write(step.reply);
				}
			}
		}

		// Say nothing more and keep the connection open: the client must go by itself.
		await conn.waitGone(5000);
	};
}

// ---------------------------------------------------------------------------------------------
// 4. The terminal is never the server's
// ---------------------------------------------------------------------------------------------

type CliBytes = {code: number; stdout: Buffer; stderr: string; ms: number};

async function runCliBytes(args: string[], timeoutMs = 30_000): Promise<CliBytes> {
	const started = performance.now();
	const config = mkdtempSync(path.join(tmpdir(), 'mxdash-hostile-config-'));
	return new Promise(resolve => {
		execFile(process.execPath, [cliPath, ...args], {env: {...process.env, NO_COLOR: '1', MXDASH_CONFIG_DIR: config}, timeout: timeoutMs, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024}, (error, stdout, stderr) => {
			rmSync(config, {recursive: true, force: true});
			const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
			resolve({code, stdout, stderr: stderr.toString('utf8'), ms: performance.now() - started});
		});
	});
}

/** Every byte or character of `out` that a terminal would act on, described. */
function terminalHazards(out: Buffer): string[] {
	const hazards: string[] = [];
	for (const [index, byte] of out.entries()) {
		if ((byte < 0x20 && byte !== 0x0A) || byte === 0x7F) {
			hazards.push(`byte 0x${byte.toString(16).padStart(2, '0')} at ${index}`);
		}
	}

	let text: string;
	try {
		text = new TextDecoder('utf-8', {fatal: true}).decode(out);
	} catch {
		return [...hazards, 'invalid UTF-8'];
	}

	for (const match of text.matchAll(/[\u0080-\u009F\u200B-\u200F\u2028-\u202E\u2066-\u2069\uFEFF]/g)) {
		hazards.push(`U+${match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at ${match.index}`);
	}

	return hazards;
}

describe('4. the terminal is never the server\'s', () => {
	/** Each server carries a few hazards early in its text, since the report cuts long lines. */
	const banners = {
		csi: bytes('220 evil\u001B[2J\u001B[31m.test ESMTP \u001B]0;pwned title\u0007 end\r\n'),
		osc: bytes('220 x \u001B]8;;http://evil.test/\u001B\\click\u001B]8;;\u001B\\ \u001B]52;c;cHduZWQ=\u0007 end\r\n'),
		dcs: bytes('220 x \u001BP+q544e\u001B\\ ', [0x9B], '31m \u009B1m cr\rbs\bdel\u007F end\r\n'),
		bidi: bytes('220 x \u202Eevil\u202C \u2066iso\u2069 zw\u200Bsp \uFEFF ', [0xFF], ' ', [0xE2, 0x82], ' ', [0xC3], '\r\n'),
		rejected: bytes('554 5.7.1 \u001B]0;rejected\u0007\u202E no\r\n'),
	};
	/** The banner text each should give back through --json: the bytes after "220 ", invalid ones as U+DC80+byte. */
	const bannerTexts: Record<keyof typeof banners, string> = {
		csi: 'evil\u001B[2J\u001B[31m.test ESMTP \u001B]0;pwned title\u0007 end',
		osc: 'x \u001B]8;;http://evil.test/\u001B\\click\u001B]8;;\u001B\\ \u001B]52;c;cHduZWQ=\u0007 end',
		dcs: 'x \u001BP+q544e\u001B\\ \uDC9B31m \u009B1m cr\rbs\bdel\u007F end',
		bidi: 'x \u202Eevil\u202C \u2066iso\u2069 zw\u200Bsp \uFEFF \uDCFF \uDCE2\uDC82 \uDCC3',
		rejected: '5.7.1 \u001B]0;rejected\u0007\u202E no',
	};
	const evilEhlo = bytes('250-mx\u001B[5m.evil.test\r\n250-X\u001B]0;t\u0007KEY p\u202Earam\r\n250 8BITMIME\r\n');
	const evilRcpt = bytes('450 4.7.1 \u001B]52;c;Zm9v\u0007 greylisted \u202Eyalp\u200B ', [0xFF], '\r\n');
	const evilEhloRefusal = bytes('550 \u001B[2Jno\u001BP q\u001B\\\r\n');
	const evilExtra = bytes('250 \u001B[2Jextra\u009B\r\n');
	const evilMx = 'mx\u001B[2J.evil.test';
	const evilPtr = 'ptr\u001B]0;pwn\u0007.evil.test';

	let dns: DnsServer;
	let port = 0;
	const hosts: Record<string, string> = {};

	beforeAll(async () => {
		const specs: Array<[string, Behaviour]> = [
			['csi', dialogue({banner: banners.csi, ehlo: evilEhlo})],
			['osc', dialogue({banner: banners.osc, ehlo: evilEhlo})],
			['dcs', dialogue({banner: banners.dcs, ehlo: evilEhlo})],
			['bidi', dialogue({banner: banners.bidi, ehlo: evilEhlo})],
			['rejected', dialogue({banner: banners.rejected})],
			['relay', dialogue({banner: greeting, ehlo: evilEhlo, rcpt: evilRcpt})],
			['refusal', dialogue({banner: greeting, ehlo: evilEhloRefusal, helo: evilEhloRefusal})],
			['tls', dialogue({banner: greeting, ehlo: tlsEhlo, ehloTls: evilEhlo, tls: evilTls})],
			['extra', async conn => {
				conn.write(greeting);
				conn.session.greeted = true;
				if (await conn.nextLine()) {
					conn.write(Buffer.concat([bytes(plainEhlo), evilExtra]));
				}

				await dialogue({})(conn).catch(() => undefined);
			}],
		];
		// Every server on one port, each on its own address: --port is one number.
		for (let attempt = 0; attempt < 5 && port === 0; attempt++) {
			const started: HostileServer[] = [];
			try {
				for (const [name, behaviour] of specs) {
					const server = await startHostile(`cli ${name}`, behaviour, {port: started[0]?.port ?? 0});
					started.push(server);
					hosts[name] = server.host;
				}

				port = started[0]!.port;
				servers.push(...started);
			} catch {
				await Promise.all(started.map(async server => server.close()));
			}
		}

		expect(port).toBeGreaterThan(0);
		const names = Object.keys(hosts).map(name => `mx${name}.evil.test`);
		const zone: Zone = {
			// The last MX (preference 19) has an ESC in its name.
			'evil.test': {MX: [...names, evilMx].map((name, index) => [10 + index, name] as [number, string])},
			...Object.fromEntries(Object.entries(hosts).map(([name, ip]) => [`mx${name}.evil.test`, {A: [ip]}])),
			[evilMx.toLowerCase()]: {A: [hosts.csi!]},
			[reverseName(hosts.csi!)]: {PTR: [evilPtr]},
			[evilPtr.toLowerCase()]: {A: [hosts.csi!]},
		};
		dns = await startDnsServer(zone, hostileAddress());
		servers.push(dns);
	});

	const cliArgs = (): string[] => ['--resolver', dns.address, '--port', String(port), '--timeout', '3', '--ehlo-name', ehloName, 'evil.test'];

	it('plain text on a pipe: not one byte a terminal would act on, and every hazard shown as a visible escape [guards sanitize() in source/report/text.ts]', async () => {
		const cli = await runCliBytes(cliArgs());
		const text = cli.stdout.toString('utf8');

		expect(cli.stderr).toBe('');
		expect(cli.code).toBe(2);
		expect(terminalHazards(cli.stdout)).toEqual([]);
		for (const visible of ['\\x1b[2J', '\\x1b]0;pwned title\\x07', '\\x1b]8;;http://evil.test/', '\\x1b]52;c;cHduZWQ=', '\\x1bP+q544e', '\\x9b31m', '\\u009b1m', 'cr\\rbs\\x08del\\x7f', '\\u202eevil\\u202c', '\\u2066iso\\u2069', 'zw\\u200bsp', '\\ufeff', '\\xff', '\\xe2\\x82', '\\xc3']) {
			expect(text).toContain(visible);
		}

		// Server text in findings: the 554 greeting, the greylisting reason, the EHLO refusal, the extra reply.
		expect(text).toMatch(/banner-rejected.*\\x1b\]0;rejected\\x07\\u202e no/);
		expect(text).toMatch(/relay-inconclusive.*\\x1b\]52;c;Zm9v\\x07 greylisted \\u202eyalp\\u200b \\xff/);
		expect(text).toMatch(/ehlo-rejected.*\\x1b\[2Jno\\x1bP q\\x1b\\\\/);
		expect(text).toMatch(/\\x1b\[2Jextra\\u009b/);
		// The certificate: OpenSSL escapes the C0 bytes of the subject itself; the rest is ours to escape.
		expect(text).toMatch(/cert-self-signed.*\\u202eflip\\u200bzw/);
		// DNS names: c-ares hands them over as \DDD escapes; a backslash is doubled so it cannot pass for ours.
		expect(text).toContain('MX 19 mx\\\\027[2j.evil.test');
		expect(text).toContain('ptr\\\\027]0\\\\;pwn\\\\007.evil.test');
	});

	it('--json gives back the exact server text, invalid bytes as \\udcXX [guards decodeBytes and the JSON report]', async () => {
		const cli = await runCliBytes(['--json', ...cliArgs()]);
		expect(cli.stderr).toBe('');
		expect(cli.code).toBe(2);
		const report = JSON.parse(cli.stdout.toString('utf8')) as Report;
		const addresses = new Map<string, AddressReport & {exchange: string}>(report.domains[0]!.mx.flatMap(mx => mx.addresses.map(address => [address.ip, {...address, exchange: mx.exchange}] as const)));

		for (const [name, text] of Object.entries(bannerTexts)) {
			expect(addresses.get(hosts[name]!)?.banner?.text).toBe(text);
		}

		const relay = addresses.get(hosts.relay!)!;
		expect(relay.ehlo?.hostname).toBe('mx\u001B[5m.evil.test');
		expect(relay.ehlo?.extensions[0]).toEqual({keyword: 'X\u001B]0;T\u0007KEY', params: ['p\u202Earam']});
		expect(relay.relay.attempts[0]?.text).toBe('4.7.1 \u001B]52;c;Zm9v\u0007 greylisted \u202Eyalp\u200B \uDCFF');
		expect(relay.transcript.filter(line => line.dir === 'server').map(line => line.text)).toContain('250-X\u001B]0;t\u0007KEY p\u202Earam');
		expect(addresses.get(hosts.refusal!)?.ehlo?.text).toBe('\u001B[2Jno\u001BP q\u001B\\');
		expect(addresses.get(hosts.extra!)?.transcript.map(line => line.text)).toContain('250 \u001B[2Jextra\u009B');

		const tlsAddress = addresses.get(hosts.tls!)!;
		const leaf = new X509Certificate(evilTls.cert);
		expect(tlsAddress.tls?.chain[0]?.subject).toBe(leaf.subject.split('\n').join(', '));
		expect(tlsAddress.tls?.chain[0]?.subject).toContain('\u202Eflip\u200Bzw');
		expect(tlsAddress.tls?.chain[0]?.san).toEqual((leaf.subjectAltName ?? '').split(', '));
		expect(tlsAddress.ehlo?.extensionsAfterTls?.[0]?.keyword).toBe('X\u001B]0;T\u0007KEY');

		// DNS names as c-ares gave them: every byte outside printable ASCII as a \DDD escape. c-ares
		// then refuses to look such a name up (EBADNAME), so that MX host is reported, not probed.
		const evilHost = report.domains[0]!.mx.find(mx => mx.exchange.startsWith('mx\\'));
		expect(evilHost?.exchange).toBe('mx\\027[2j.evil.test');
		expect(evilHost?.addresses).toEqual([]);
		expect(evilHost?.findings.map(item => item.id)).toEqual(['dns-error']);
		expect(addresses.get(hosts.csi!)?.ptr).toBe('ptr\\027]0\\;pwn\\007.evil.test');
	});

	it('--json printed on a terminal is inert too: C1, bidi and zero-width characters escaped as \\uXXXX, still the exact text once parsed [guards the JSON writer in cli.tsx]', async () => {
		const cli = await runCliBytes(['--json', ...cliArgs()]);
		// JSON.stringify escapes C0 and lone surrogates; U+009B, U+202E, U+200B, U+FEFF it writes raw.
		expect(terminalHazards(cli.stdout)).toEqual([]);
	});
	it.skipIf(tmuxMissing)('the dashboard over all of them at once: completes, answers keys, draws every hazard as a visible escape, writes none raw, and Ctrl-C restores the terminal [guards the sanitizer in source/ui and the terminal restore]', async () => {
		const terminal = new Terminal();
		const raw = path.join(terminal.workDir, 'terminal.out');
		const session = 'evil';
		try {
			terminal.start(session, 80, 24, cliArgs(), terminal.workDir, raw);
			await terminal.waitForScreen(session, 'the host rows', has(/127\.0\.66\./));
			terminal.press(session, 'Down');
			await terminal.waitForScreen(session, 'the selection on the first host', has(/^› .*127\.0\.66\./), 3000);
			await terminal.waitForScreen(session, 'the round to finish', current => /last \d/.test(current[0] ?? ''), 30_000);
			terminal.press(session, 'Enter');
			await terminal.waitForScreen(session, 'the detail screen', has('[1 Summary]'));
			terminal.press(session, '2');
			const transcript = await terminal.waitForScreen(session, 'the transcript', has('[2 Transcript]'));
			expect(transcript.join('\n')).toMatch(/← 220 evil\\x1b\[2J\\x1b\[31m\.test ESMTP \\x1b\]0;pwned/);
			terminal.press(session, '4');
			await terminal.waitForScreen(session, 'the findings', has('[4 Findings]'));
			terminal.press(session, 'Escape');
			await terminal.waitForScreen(session, 'the grid again', has('MX host'));
			expect(terminal.display(session, '#{pane_title}')).not.toMatch(/pwn/);
			terminal.press(session, 'C-c');
			expect(await terminal.waitForExit(session)).toEqual({status: 0});
			expect(terminal.display(session, '#{alternate_on}')).toBe('0');
			expect(terminal.display(session, '#{pane_title}')).not.toMatch(/pwn/);

			// What the program wrote, byte for byte: Ink's own CSI sequences only, nothing of the servers'.
			const written = readFileSync(raw);
			const text = written.toString('utf8');
			expect(written.length).toBeGreaterThan(1000);
			const osc = text.indexOf('\u001B]');
			expect(osc, 'an OSC sequence (title, link, clipboard)').toBe(-1);
			expect(text.indexOf('\u001BP'), 'a DCS sequence').toBe(-1);
			expect(written.includes(0x07), 'BEL').toBe(false);
			expect(written.includes(0x7F), 'DEL').toBe(false);
			expect(written.includes(0xFF), 'an invalid byte from a server').toBe(false);
			expect([...text].filter(char => /[\u0080-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/.test(char)), 'C1, bidi or zero-width characters').toEqual([]);
			// Every ESC starts one of the sequences Ink and the alternate screen use: CSI, nothing else.
			const escapes = text.split('\u001B').slice(1).map(rest => rest.slice(0, 1));
			expect(escapes.filter(next => next !== '['), 'an ESC that does not start a CSI').toEqual([]);
		} finally {
			terminal.close();
		}
	}, 60_000);
});

// ---------------------------------------------------------------------------------------------
// 5. The user's own input
// ---------------------------------------------------------------------------------------------

describe.concurrent('5. the user\'s own input', () => {
	// Made in beforeAll (not while collecting), so a filtered run leaves nothing behind.
	const inputDir = path.join(tmpdir(), `mxdash-hostile-input-${process.pid}`);
	const caDirectory = path.join(inputDir, 'ca.d');
	const garbageCa = path.join(inputDir, 'garbage.pem');
	beforeAll(() => {
		mkdirSync(caDirectory, {recursive: true});
		writeFileSync(garbageCa, '-----BEGIN CERTIFICATE-----\nthis is not base64 at all !!!\n\u001B[2J\n-----END CERTIFICATE-----\n');
	});
	afterAll(() => {
		rmSync(inputDir, {recursive: true, force: true});
	});

	it.each([
		{name: 'a --ca that is a directory', args: ['--ca', caDirectory, 'example.test'], pattern: /cannot read --ca .*: EISDIR/},
		{name: 'a --ca with garbage between the PEM markers', args: ['--ca', garbageCa, 'example.test'], pattern: /--ca .* cannot be parsed/},
		{name: '--resolver 999.1.1.1', args: ['--resolver', '999.1.1.1', 'example.test'], pattern: /--resolver needs an IP address/},
		{name: 'a domain of 300 characters', args: [`${Array.from({length: 5}, () => 'a'.repeat(59)).join('.')}.test`], pattern: /not a valid domain name/},
		{name: 'a domain with an escape character', args: ['exa\u001B[2Jmple.com'], pattern: /not a valid domain name: "exa\\u001b\[2Jmple\.com"/},
		{name: 'a --rcpt-to with ">"', args: ['--rcpt-to', 'a>@example.net', 'example.test'], pattern: /--rcpt-to needs a plain address/},
		{name: 'a --rcpt-to with a space', args: ['--rcpt-to', 'a b@example.net', 'example.test'], pattern: /--rcpt-to needs a plain address/},
		{name: 'a --mail-from with "<"', args: ['--mail-from', 'x@<evil>', 'example.test'], pattern: /--mail-from needs a plain address/},
	])('$name: one line on stderr, exit 3, no stack trace, nothing sent', async ({args, pattern}) => {
		const cliRun = await runCli(args, {MXDASH_CONFIG_DIR: inputDir});
		expect(cliRun.code).toBe(3);
		expect(cliRun.stdout).toBe('');
		const lines = cliRun.stderr.trimEnd().split('\n');
		expect(lines).toHaveLength(1);
		expect(lines[0]).toMatch(pattern);
		expect(cliRun.stderr).not.toMatch(/\bat .+:\d+:\d+|internal error/);
		expect(terminalHazards(Buffer.from(cliRun.stderr))).toEqual([]);
	});
});

// ---------------------------------------------------------------------------------------------
// 6. Never a relay, never mail
// ---------------------------------------------------------------------------------------------

type Seen = {where: string; commands: string[]; greeted: boolean; closedFirst: boolean; said421: boolean; exempt?: string};

function scriptedSeen({server, exempt}: {server: ScriptedServer; exempt?: string}): Seen[] {
	return server.sessions.map(session => {
		const replies = session.log.filter(line => /^S: \d{3}(?: |$)/.test(line));
		const quitAt = session.log.indexOf('C: QUIT');
		const closesAt = session.log.indexOf('-- server closes');
		return {
			where: `scripted ${String(server.port)}: ${session.log.slice(0, 3).join(' | ')}`,
			commands: received(session),
			greeted: replies[0]?.startsWith('S: 220') ?? false,
			closedFirst: closesAt !== -1 && (quitAt === -1 || closesAt < quitAt),
			said421: session.log.some(line => line.startsWith('S: 421')),
			...(exempt ? {exempt} : {}),
		};
	});
}

function hostileSeen(session: HostileSession): Seen {
	return {
		where: `${session.behaviour} (${session.address})`,
		commands: received(session),
		greeted: session.greeted,
		closedFirst: session.serverClosedFirst && !received(session).includes('QUIT'),
		said421: session.said421,
		...(session.quitExempt ? {exempt: session.quitExempt} : {}),
	};
}

describe('6. never a relay, never mail', () => {
	it('no session of this suite ever got DATA, BDAT, VRFY or EXPN, and every greeted session that could still talk got QUIT', async () => {
		await Promise.all(allHostileSessions.map(async session => bounded(session.closed, 5000, `${session.behaviour} still open`).catch(() => undefined)));
		const seen = [...allHostileSessions.map(session => hostileSeen(session)), ...scriptedSessions.flatMap(entry => scriptedSeen(entry))];
		expect(seen.length).toBeGreaterThan(60);

		const forbidden = seen.flatMap(item => item.commands.filter(command => /^(?:DATA|BDAT|VRFY|EXPN)\b/i.test(command)).map(command => `${item.where}: ${command}`));
		expect(forbidden).toEqual([]);

		const withoutQuit = seen
			.filter(item => item.greeted && !item.closedFirst && !item.said421 && !item.exempt)
			.filter(item => !item.commands.includes('QUIT'))
			.map(item => `${item.where}: ${item.commands.join(' / ')}`);
		expect(withoutQuit).toEqual([]);
		// The rule bites: most greeted sessions did say QUIT.
		expect(seen.filter(item => item.greeted && item.commands.includes('QUIT')).length).toBeGreaterThan(30);
	});
});
