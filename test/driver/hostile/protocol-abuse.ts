// Section 3 of the hostile suite (test/driver/hostile.test.ts): STARTTLS and protocol abuse.
import {describe, expect, it} from 'vitest';
import {diagnoseAddress} from '../../../source/core/checks/index.js';
import {bounded, dialogue} from '../../helpers/hostile-servers.js';
import type {Behaviour} from '../../helpers/hostile-servers.js';
import {batch, close, expectLine, pause, send, serve, smtpResponder, startTls} from '../../helpers/scripted-server.js';
import type {Step} from '../../helpers/scripted-server.js';
import {bye, context, ehloLine, ended, exchange, failedStage, greeting, hostile, limits, mailFrom, mailLine, plainEhlo, plainTls, probeAt, quitLine, rcptLine, rcptTo, received, scripted, serverLines, tlsAlert, tlsEhlo} from './fixtures.js';

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
		expect(diagnoseAddress({result}, context).find(item => item.id === 'starttls-missing')?.severity).toBe('critical');
		expect(received(session)).not.toContain('STARTTLS');
		expect(result.tls).toBeUndefined();
	});

	it.each([
		{code: '502', reply: '502 5.5.1 Command not implemented\r\n'},
		{code: '554', reply: '554 5.3.3 TLS not available\r\n'},
	])('STARTTLS answered $code: no TLS attempted, starttls-failed, the relay test in clear text [guards the starttls reply branch]', async ({code, reply}) => {
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
		expect(result.stages.starttls).toMatchObject({status: 'critical', error: 'rejected', reply: {code: Number(code)}});
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
		// The handshake itself went on; the injection is what judges the TLS stage.
		expect(result.stages.tls).toMatchObject({outcome: 'ok', status: 'critical'});
		expect(result.ehlo?.extensionsAfterTls?.map(extension => extension.keyword)).toEqual(['SIZE', '8BITMIME']);
		expect(result.stages.quit.status).toBe('ok');
	});

	it.each([
		{name: 'a code change inside a multi-line greeting', script: [send('220-mx.hostile.test\r\n554 no\r\n')], stage: 'banner', error: 'code-changed', quit: false},
		{name: 'a garbage line as the answer to MAIL', script: [send(greeting), expectLine(ehloLine, plainEhlo), expectLine(mailLine, 'hello there, friend\r\n')], stage: 'relay', error: 'bad-reply', quit: true},
		{name: 'a two-digit code to EHLO', script: [send(greeting), expectLine(ehloLine, '25 ok\r\n')], stage: 'ehlo', error: 'bad-reply', quit: true},
		{name: 'a four-digit code to RCPT', script: [send(greeting), expectLine(ehloLine, plainEhlo), expectLine(mailLine, '250 Ok\r\n'), expectLine(rcptLine, '2500 accepted\r\n')], stage: 'relay', error: 'bad-reply', quit: true},
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

	// A NUL byte in a reply that carries a code no longer ends the stage: the code's verdict
	// stands and the violation is noted (this row used to expect the EHLO stage failed nul-byte).
	it('a NUL byte inside the EHLO answer: the 250 is read, nul-byte noted on the ehlo stage, protocol-error, the relay never judged open [guards the ReplyReader line checks]', async () => {
		const server = await scripted([send(greeting), expectLine(ehloLine, `250-${exchange}\r\n250-SIZE\u00001000\r\n250 8BITMIME\r\n`), serve(quitLine, smtpResponder())]);
		const {result, elapsed, ids} = await probeAt(server);
		const session = await server.session();
		await bounded(session.closed, 5000, 'scripted session');

		expect(result.stages.ehlo).toMatchObject({outcome: 'ok', status: 'critical', violation: {error: 'nul-byte'}});
		expect(ids).toContain('protocol-error');
		expect(result.relay.open).toBe(false);
		expect(received(session).includes('QUIT')).toBe(true);
		expect(elapsed).toBeLessThan(1500);
	});

	it.each([
		{name: 'a NUL byte', text: '554 5.7.1 no\u0000 service\r\n', reply: '5.7.1 no\u0000 service', stage: 'banner'},
		{name: 'a bare LF splitting its line', text: '554 5.7.1 no\nservice here\r\n', reply: '5.7.1 no', stage: 'quit'},
	])('a 554 greeting with $name: banner-rejected with the reply, and protocol-error beside it [guards the violation kept beside the verdict]', async ({text, reply, stage}) => {
		const server = await scripted([send(text), serve(quitLine, smtpResponder())], {}, 'no EHLO after a 554');
		const {result, ids} = await probeAt(server);
		await bounded((await server.session()).closed, 5000, 'scripted session');

		expect(result.stages.banner).toMatchObject({outcome: 'failed', error: 'rejected', reply: {code: 554, text: reply}, status: 'critical'});
		expect(ids).toEqual(expect.arrayContaining(['banner-rejected', 'protocol-error']));
		expect(result.stages[stage as 'banner' | 'quit'].status).toBe('critical');
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
		expect(ids).toEqual(['starttls-missing', 'ehlo-no-pipelining']);
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
