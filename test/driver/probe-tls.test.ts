// probe() against scripted SMTP servers on 127.0.0.1: EHLO, STARTTLS and the TLS upgrade, the
// plaintext retry, protocol breaks, cancellation. Nothing outside 127.0.0.0/8 is contacted.
import {X509Certificate} from 'node:crypto';
import {describe, expect, it} from 'vitest';
import {batch, close, expectLine, mute, send, serve, smtpResponder, startTls, within} from '../helpers/scripted-server.js';
import {bye, ehloLine, ehloName, exchange, finished, greeting, limits, mailFrom, mailLine, quitLine, rcptLine, rcptTo, received, runProbe, scripted, statuses, tlsEhlo, testCertificate, useScriptedServers} from './scripted-fixtures.js';

useScriptedServers();

describe('EHLO', () => {
	it('falls back to HELO when EHLO is refused', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, '502 5.5.1 Command not implemented\r\n'),
			expectLine(/^HELO probe\.mxdash\.test$/, `250 ${exchange}\r\n`),
			expectLine(mailLine, '250 Ok\r\n'),
			expectLine(rcptLine, '554 Relay access denied\r\n'),
			expectLine(quitLine, bye),
		], {oneCommandPerChunk: true});
		const {result, ids} = await runProbe(server.port);
		expect((await finished(server)).failures).toEqual([]);

		expect(result.ehlo).toMatchObject({greeting: 'HELO', hostname: exchange, extensions: []});
		expect(result.stages.ehlo.status).toBe('warning');
		expect(ids).toContain('ehlo-no-esmtp');
		expect(ids).toContain('starttls-missing');
		expect(result.stages.relay.status).toBe('ok');
	});

	it('reports EHLO and HELO both refused', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, '550 5.7.1 Go away\r\n'),
			expectLine(/^HELO /, '550 5.7.1 Go away\r\n'),
			expectLine(quitLine, bye),
		]);
		const {result, ids} = await runProbe(server.port);
		expect((await finished(server)).failures).toEqual([]);

		expect(result.stages.ehlo).toMatchObject({status: 'critical', error: 'rejected'});
		expect(ids).toContain('ehlo-rejected');
		expect(ids).not.toContain('ehlo-no-esmtp');
		expect(result.relay.tested).toBe(false);
		expect(result.stages.quit.status).toBe('ok');
	});
});

describe('STARTTLS', () => {
	it('discards bytes injected after 220 to STARTTLS and reads the real answer to EHLO', async () => {
		const injected = '250 injected\r\n';
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, tlsEhlo),
			expectLine(/^STARTTLS$/, `220 2.0.0 Ready to start TLS\r\n${injected}`),
			startTls(),
			expectLine(ehloLine, `250-${exchange} Hello again\r\n250-PIPELINING\r\n250 SIZE 52428800\r\n`, {tls: true}),
			batch([mailLine, rcptLine, quitLine], `250 Ok\r\n554 Relay access denied\r\n${bye}`),
		]);
		const {result, ids} = await runProbe(server.port);
		const session = await finished(server);

		expect(session.failures).toEqual([]);
		expect(result.injectedBytes).toBe(Buffer.byteLength(injected));
		expect(ids).toContain('starttls-injection');
		// The injection judges the TLS stage (starttls-injection, critical); the stages after it went on.
		expect(statuses(result)).toMatchObject({starttls: 'ok', tls: 'critical', ehloTls: 'ok', relay: 'ok', quit: 'ok'});
		expect(result.ehlo?.extensionsAfterTls).toEqual([{keyword: 'PIPELINING', params: []}, {keyword: 'SIZE', params: ['52428800']}]);
		expect(result.transcript.some(line => line.dir === 'server' && line.text === '250 injected')).toBe(false);
		expect(result.transcript.some(line => line.dir === 'info' && /discarded 14 bytes/.test(line.text))).toBe(true);

		const established = result.transcript.findIndex(line => line.dir === 'info' && line.text.startsWith('TLS established'));
		expect(established).toBeGreaterThan(0);
		expect(result.transcript.slice(established).every(line => line.tls === true)).toBe(true);
		expect(result.transcript.slice(0, established).some(line => line.tls)).toBe(false);
		expect(session.lines.filter(line => line.tls).map(line => line.text)).toEqual(['EHLO probe.mxdash.test', `MAIL FROM:<${mailFrom}>`, `RCPT TO:<${rcptTo}>`, 'QUIT']);
	});

	it('reports STARTTLS refused with 454 and still tests the relay in clear text', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, tlsEhlo),
			expectLine(/^STARTTLS$/, '454 4.7.0 TLS not available due to local problem\r\n'),
			batch([mailLine, rcptLine, quitLine], `250 Ok\r\n554 Relay access denied\r\n${bye}`),
		]);
		const {result, ids} = await runProbe(server.port);
		const session = await finished(server);

		expect(session.failures).toEqual([]);
		expect(result.stages.starttls).toMatchObject({status: 'critical', error: 'rejected', reply: {code: 454}});
		expect(statuses(result)).toMatchObject({tls: 'skipped', ehloTls: 'skipped', relay: 'ok', quit: 'ok'});
		expect(ids).toContain('starttls-failed');
		expect(ids).not.toContain('starttls-missing');
		expect(result.relay.tested).toBe(true);
		expect(session.lines.some(line => line.tls)).toBe(false);
	});

	it('reports a server that closes right after 220 to STARTTLS', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, tlsEhlo),
			expectLine(/^STARTTLS$/, '220 2.0.0 Ready to start TLS\r\n'),
			close(),
		]);
		const {result, ids, elapsed} = await runProbe(server.port);
		expect((await finished(server)).failures).toEqual([]);

		expect(result.stages.starttls.status).toBe('ok');
		expect(result.stages.tls.status).toBe('critical');
		expect(ids.some(id => id === 'starttls-failed' || id === 'connection-lost')).toBe(true);
		expect(ids).not.toContain('tls-timeout');
		expect(elapsed).toBeLessThan(limits.tlsMs);
		expect(result.tls).toBeUndefined();
	});

	it('times out a TLS handshake that stalls, at tlsMs', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, tlsEhlo),
			expectLine(/^STARTTLS$/, '220 2.0.0 Ready to start TLS\r\n'),
			mute(),
		]);
		const {result, ids, elapsed} = await runProbe(server.port);

		expect(result.stages.tls).toMatchObject({status: 'critical', error: 'timeout'});
		expect(result.stages.tls.ms).toBeGreaterThanOrEqual(limits.tlsMs - 5);
		expect(result.stages.tls.ms).toBeLessThanOrEqual(limits.tlsMs + 1000);
		expect(elapsed).toBeLessThanOrEqual(limits.tlsMs + 1500);
		expect(ids).toContain('tls-timeout');
		expect(statuses(result)).toMatchObject({ehloTls: 'skipped', relay: 'skipped'});
	});

	it.each([
		{name: 'the MX name', target: exchange, match: true},
		{name: 'another name', target: 'other.scripted.test', match: false},
	])('reads a self-signed certificate and checks it against $name', async ({target, match}) => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, tlsEhlo),
			expectLine(/^STARTTLS$/, '220 2.0.0 Ready to start TLS\r\n'),
			startTls(),
			expectLine(ehloLine, `250-${exchange} Hello again\r\n250 8BITMIME\r\n`, {tls: true}),
			expectLine(quitLine, bye, {tls: true}),
		]);
		const {result, ids} = await runProbe(server.port, {exchange: target, relay: 'off'});
		expect((await finished(server)).failures).toEqual([]);

		expect(statuses(result)).toMatchObject({starttls: 'ok', tls: 'ok', ehloTls: 'ok', relay: 'skipped', quit: 'ok'});
		const info = result.tls!;
		expect(info.version).toMatch(/^TLSv1\.[23]$/);
		expect(info.cipher).toBeTruthy();
		expect(info.authorized).toBe(false);
		expect(info.hostnameMatch).toBe(match);
		expect(info.chain).toHaveLength(1);
		const [leaf] = info.chain;
		expect(leaf!.subject).toContain(`CN=${exchange}`);
		expect(leaf!.san).toEqual([`DNS:${exchange}`]);
		expect(leaf!.selfSigned).toBe(true);
		expect(leaf!.fingerprint256).toBe(new X509Certificate(testCertificate()).fingerprint256);
		expect(leaf!.fingerprint256).toMatch(/^(?:[\dA-F]{2}:){31}[\dA-F]{2}$/);
		expect(leaf!.signatureAlgorithm).toBe('ecdsa-with-SHA256');
		expect(leaf!.keyType).toBe('ec');
		expect(leaf!.keyBits).toBe(256);
		expect(leaf!.daysLeft).toBeGreaterThanOrEqual(28);
		expect(leaf!.daysLeft).toBeLessThanOrEqual(30);

		expect(ids).toContain('cert-self-signed');
		expect(ids).not.toContain('cert-untrusted');
		expect(ids).not.toContain('cert-expiring');
		if (match) {
			expect(ids).not.toContain('cert-hostname-mismatch');
		} else {
			expect(ids).toContain('cert-hostname-mismatch');
		}
	});
});

describe('the plaintext retry after a failed TLS handshake', () => {
	const brokenTls = [
		send(greeting),
		expectLine(ehloLine, tlsEhlo),
		expectLine(/^STARTTLS$/, '220 2.0.0 Ready to start TLS\r\n'),
		// Plaintext where the handshake should be: the client's handshake fails.
		send('this is not TLS at all\r\n'),
		mute(),
	];
	const plaintextRelay = [
		send(greeting),
		// STARTTLS is offered again; the retry does not take it.
		expectLine(ehloLine, tlsEhlo),
		batch([mailLine, rcptLine, quitLine], `250 2.1.0 Ok\r\n550 5.7.1 <${rcptTo}>: Relay access denied\r\n${bye}`),
	];

	it('tests the relay on a second, plaintext connection and keeps the TLS failure as it was', async () => {
		const server = await scripted(index => (index === 0 ? brokenTls : plaintextRelay));
		const relayEvents: string[] = [];
		const {result, ids} = await runProbe(server.port, {fallback: true, onEvent(event) {
			if (event.type === 'stage' && event.name === 'relay') {
				relayEvents.push(event.stage.state);
			}
		}});
		await within(Promise.all(server.sessions.flatMap(session => [session.closed, session.done])), 5000, 'the server sessions did not end');

		expect(server.sessions).toHaveLength(2);
		expect(server.sessions.map(session => session.failures)).toEqual([[], []]);
		expect(received(server.sessions[1]!)).toEqual([`EHLO ${ehloName}`, `MAIL FROM:<${mailFrom}>`, `RCPT TO:<${rcptTo}>`, 'QUIT']);

		// The TLS failure is reported as before; the relay verdict comes from the retry.
		expect(result.stages.tls).toMatchObject({status: 'critical', error: 'tls-failed'});
		expect(ids).toContain('starttls-failed');
		expect(ids).not.toContain('relay-inconclusive');
		expect(result.relay).toMatchObject({tested: true, open: false, plaintextRetry: true});
		expect(result.relay.attempts).toEqual([expect.objectContaining({mailCode: 250, code: 550, accepted: false})]);
		expect(result.stages.relay).toMatchObject({status: 'ok', outcome: 'ok', detail: 'closed (plaintext retry)'});
		expect(relayEvents).toEqual(['skipped', 'running', 'done']);

		const marker = result.transcript.findIndex(line => line.dir === 'info' && line.text.includes('a second connection, in plaintext'));
		expect(marker).toBeGreaterThan(0);
		expect(result.transcript.slice(0, marker).map(line => line.text)).toContain('STARTTLS');
		expect(result.transcript.slice(marker + 1).map(line => line.text)).toEqual(expect.arrayContaining([
			expect.stringMatching(/^connecting to 127\.0\.0\.1/) as unknown, `MAIL FROM:<${mailFrom}>`, `550 5.7.1 <${rcptTo}>: Relay access denied`,
		]));
		expect(result.transcript.slice(marker + 1).map(line => line.text)).not.toContain('STARTTLS');
		expect(result.ms).toBeGreaterThanOrEqual(result.transcript.at(-1)!.t);
	});

	it('opens no second connection with the relay test off', async () => {
		const server = await scripted(brokenTls);
		const {result} = await runProbe(server.port, {fallback: true, relay: 'off'});
		await within(server.sessions[0]!.closed, 5000, 'the server session did not end');
		expect(server.sessions).toHaveLength(1);
		expect(result.stages.tls.error).toBe('tls-failed');
		expect(result.relay.tested).toBe(false);
	});
});

describe('replies that break the protocol', () => {
	it('fails on a reply code that changes mid-reply', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, `250-${exchange}\r\n251 b\r\n`),
			expectLine(quitLine, bye),
		]);
		const {result, ids} = await runProbe(server.port);
		expect((await finished(server)).failures).toEqual([]);

		expect(result.stages.ehlo).toMatchObject({status: 'critical', error: 'code-changed'});
		expect(ids).toContain('protocol-error');
		expect(result.relay.tested).toBe(false);
	});

	it('fails on a four-digit reply code', async () => {
		const server = await scripted([send(`2200 ${exchange} ready\r\n`), mute()]);
		const {result, ids} = await runProbe(server.port);
		const session = await finished(server);

		expect(result.stages.banner).toMatchObject({status: 'critical', error: 'bad-reply'});
		expect(ids).toContain('protocol-error');
		expect(received(session)).toEqual([]);
	});

	it('stops promptly at a line longer than maxLineBytes', async () => {
		const server = await scripted([send(`220 ${'x'.repeat(limits.maxLineBytes + 1000)}`), mute()]);
		const {result, ids, elapsed} = await runProbe(server.port);
		await finished(server);

		expect(result.stages.banner).toMatchObject({status: 'critical', error: 'line-too-long'});
		expect(ids).toContain('protocol-error');
		expect(elapsed).toBeLessThan(500);
		const shown = result.transcript.find(line => line.dir === 'server');
		expect(shown?.text.endsWith('…')).toBe(true);
		expect(shown!.text.length).toBeLessThan(100);
	});

	it('never takes a leftover reply as the answer to the next command', async () => {
		const server = await scripted([
			send(greeting),
			// One reply too many, in the same write as the answer to EHLO.
			expectLine(ehloLine, `250-${exchange}\r\n250 8BITMIME\r\n250 2.0.0 extra\r\n`),
			serve(quitLine, smtpResponder()),
		]);
		const {result, ids} = await runProbe(server.port);
		await finished(server);

		expect(result.relay.attempts[0]?.mailText).not.toBe('2.0.0 extra');
		expect(Object.values(result.stages).some(stage => stage.error === 'unexpected-reply')).toBe(true);
		expect(ids).toContain('protocol-error');
	});
});

describe('cancellation', () => {
	it('ends the probe promptly when aborted mid-greeting', async () => {
		const server = await scripted([mute()]);
		const controller = new AbortController();
		const {result, elapsed} = await runProbe(server.port, {
			signal: controller.signal,
			limits: {...limits, bannerMs: 10_000},
			onEvent(event) {
				if (event.type === 'stage' && event.name === 'banner' && event.stage.state === 'running') {
					setImmediate(() => {
						controller.abort();
					});
				}
			},
		});

		expect(result.stages.connect.status).toBe('ok');
		// Cancelled by us: a fact, not a verdict on the server (no finding judges it).
		expect(result.stages.banner).toMatchObject({outcome: 'failed', error: 'aborted'});
		expect(elapsed).toBeLessThan(1000);
		await finished(server);
	});

	it('does nothing but return when the signal is already aborted', async () => {
		const server = await scripted([mute()]);
		const {result, elapsed} = await runProbe(server.port, {signal: AbortSignal.abort()});
		expect(result.stages.connect).toMatchObject({outcome: 'failed', error: 'aborted'});
		expect(elapsed).toBeLessThan(1000);
	});
});
