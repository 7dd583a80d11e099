// probe() against scripted SMTP servers on 127.0.0.1: dialogues without TLS, the relay test, the
// greeting. One behaviour per server, every wait bounded. Nothing outside 127.0.0.0/8 is contacted.
import {describe, expect, it} from 'vitest';
import type {Limits} from '../../source/core/limits.js';
import {batch, close, expectLine, freePort, mute, pause, quiet, send, serve, smtpResponder} from '../helpers/scripted-server.js';
import type {Step} from '../helpers/scripted-server.js';
import {bye, clientLines, ehloLine, exchange, finished, greeting, limits, mailFrom, mailLine, pipeliningEhlo, plainEhlo, quitLine, rcptLine, rcptTo, received, runProbe, scripted, statuses, useScriptedServers} from './scripted-fixtures.js';

useScriptedServers();

describe('a dialogue without STARTTLS', () => {
	it('pipelines the relay test and QUIT in one batch, after EHLO, with no RSET first', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, pipeliningEhlo),
			// Nothing is answered before all three lines are in.
			batch([mailLine, rcptLine, quitLine], `250 2.1.0 Ok\r\n554 5.7.1 <${rcptTo}>: Relay access denied\r\n${bye}`),
		]);
		const {result, ids} = await runProbe(server.port);
		const session = await finished(server);

		expect(session.failures).toEqual([]);
		expect(statuses(result)).toEqual({connect: 'ok', banner: 'ok', ehlo: 'ok', starttls: 'critical', tls: 'skipped', ehloTls: 'skipped', relay: 'ok', quit: 'ok'});
		expect(result.stages.starttls.error).toBe('missing');
		expect(ids).toEqual(['starttls-missing']);

		expect(received(session)).toEqual(['EHLO probe.mxdash.test', `MAIL FROM:<${mailFrom}>`, `RCPT TO:<${rcptTo}>`, 'QUIT']);
		const [, mail, rcpt, quit] = session.lines;
		expect(new Set([mail!.chunk, rcpt!.chunk, quit!.chunk]).size).toBe(1);
		expect(mail!.chunk).toBeGreaterThan(session.lines[0]!.chunk);

		expect(result.relay).toMatchObject({tested: true, open: false});
		expect(result.relay.attempts).toEqual([expect.objectContaining({mailFrom, rcptTo, mailCode: 250, code: 554, accepted: false})]);
		expect(result.banner).toMatchObject({code: 220, hostname: exchange});
		expect(result.ehlo?.extensions.map(extension => extension.keyword)).toEqual(['PIPELINING', 'SIZE', '8BITMIME']);
		expect(result.ehlo?.extensions[1]).toEqual({keyword: 'SIZE', params: ['52428800']});

		// The connection attempt comes first, then its outcome with its time.
		expect(result.transcript[0]).toMatchObject({dir: 'info', text: `connecting to 127.0.0.1 port ${server.port} (up to ${limits.connectMs} ms)`});
		expect(result.transcript[1]).toMatchObject({dir: 'info', text: expect.stringMatching(new RegExp(`^connected to 127\\.0\\.0\\.1 port ${server.port} after \\d+ ms$`)) as unknown});
		expect(clientLines(result)).toEqual(received(session));
		expect(result.transcript.filter(line => line.dir === 'server').map(line => line.text)).toEqual([
			`220 ${exchange} ESMTP ready`,
			`250-${exchange} Hello`, '250-PIPELINING', '250-SIZE 52428800', '250 8BITMIME',
			'250 2.1.0 Ok', `554 5.7.1 <${rcptTo}>: Relay access denied`, '221 2.0.0 Bye',
		]);
		expect(result.transcript.some(line => line.tls)).toBe(false);
	});

	it('sends one command at a time when PIPELINING is not advertised', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, plainEhlo),
			expectLine(mailLine, '250 2.1.0 Ok\r\n'),
			expectLine(rcptLine, '554 5.7.1 Relay access denied\r\n'),
			expectLine(quitLine, bye),
		], {oneCommandPerChunk: true});
		const {result, ids} = await runProbe(server.port);
		const session = await finished(server);

		expect(session.failures).toEqual([]);
		expect(statuses(result)).toMatchObject({connect: 'ok', banner: 'ok', ehlo: 'ok', relay: 'ok', quit: 'ok'});
		expect(ids).toEqual(['starttls-missing', 'ehlo-no-pipelining']);
		expect(new Set(session.lines.map(line => line.chunk)).size).toBe(session.lines.length);
		expect(received(session)).toEqual(['EHLO probe.mxdash.test', `MAIL FROM:<${mailFrom}>`, `RCPT TO:<${rcptTo}>`, 'QUIT']);
	});

	it.each([
		{greeting: `220 ${exchange} ESMTP Sendmail 8.17.1.9/8.17.1.9; Tue, 1 Dec 2026 23:00:00 GMT\r\n`, software: 'Sendmail 8.17.1.9/8.17.1.9', version: '8.17.1.9'},
		{greeting: `220 ${exchange} ESMTP Haraka/3.3.4 ready\r\n`, software: 'Haraka 3.3.4', version: '3.3.4'},
		{greeting: `220 ${exchange} ESMTP chasquid\r\n`, software: 'chasquid', version: undefined},
	])('records the software ($software) and, apart, its version ($version), on the address and the banner', async ({greeting: text, software, version}) => {
		const server = await scripted([
			send(text),
			expectLine(ehloLine, pipeliningEhlo),
			batch([mailLine, rcptLine, quitLine], `250 2.1.0 Ok\r\n554 5.7.1 Relay access denied\r\n${bye}`),
		]);
		const {result, ids} = await runProbe(server.port);
		await finished(server);

		expect(result).toMatchObject({software, softwareDisclosed: true, banner: {software}});
		expect(result.softwareVersion).toBe(version);
		expect(result.banner?.softwareVersion).toBe(version);
		expect(ids).toContain('banner-software-disclosed');
	});

	it('works with bare LF line endings', async () => {
		const server = await scripted([
			send(`220 ${exchange} ESMTP ready\n`),
			expectLine(ehloLine, `250-${exchange} Hello\n250-PIPELINING\n250 8BITMIME\n`),
			batch([mailLine, rcptLine, quitLine], '250 Ok\n554 Relay access denied\n221 Bye\n'),
		]);
		const {result, ids} = await runProbe(server.port);
		const session = await finished(server);

		expect(session.failures).toEqual([]);
		expect(statuses(result)).toMatchObject({banner: 'ok', ehlo: 'ok', relay: 'ok', quit: 'ok'});
		expect(result.ehlo?.extensions.map(extension => extension.keyword)).toEqual(['PIPELINING', '8BITMIME']);
		expect(result.relay.attempts[0]).toMatchObject({mailCode: 250, code: 554, accepted: false});
		expect(ids).toEqual(['starttls-missing']);
	});
});

describe('the relay test', () => {
	// Every reply in time, the whole relay test longer than one command's deadline: a server
	// that slows down after rejections (Postfix's smtpd_error_sleep_time) is no tarpit.
	const slowLimits: Limits = {...limits, commandMs: 600, quitMs: 1000};
	const slowly = (gaps: number[]): Step[] => [
		send(greeting),
		expectLine(ehloLine, pipeliningEhlo),
		expectLine(mailLine),
		expectLine(rcptLine),
		expectLine(quitLine),
		pause(gaps[0]!),
		send('250 2.1.0 Ok\r\n'),
		pause(gaps[1]!),
		send(`554 5.7.1 <${rcptTo}>: Relay access denied\r\n`),
		send(bye),
	];

	it('gives each relay command its own deadline: slow replies, each in time, are no timeout', async () => {
		const server = await scripted(slowly([400, 400]));
		const {result, ids} = await runProbe(server.port, {limits: slowLimits});
		expect((await finished(server)).failures).toEqual([]);

		expect(result.stages.relay).toMatchObject({status: 'ok', outcome: 'ok'});
		// Longer than one command's deadline in all, which one deadline for the stage would have cut.
		expect(result.stages.relay.ms).toBeGreaterThan(slowLimits.commandMs);
		expect(result.relay).toMatchObject({tested: true, open: false});
		expect(result.relay.attempts[0]).toMatchObject({mailCode: 250, code: 554});
		expect(ids).not.toContain('relay-timeout');
		expect(ids).not.toContain('relay-inconclusive');
	});

	it('still times out a server that stalls on one relay command, a deadline after the reply before', async () => {
		const server = await scripted(slowly([400, 3000]));
		const {result, ids} = await runProbe(server.port, {limits: slowLimits});

		expect(result.stages.relay).toMatchObject({status: 'warning', error: 'timeout'});
		expect(ids).toContain('relay-timeout');
		expect(result.relay.attempts[0]).toMatchObject({mailCode: 250});
		expect(result.relay.attempts[0]!.code).toBeUndefined();
		// The deadline runs from the reply to MAIL (about 400 ms in), not from the start of the stage.
		expect(result.stages.relay.ms).toBeGreaterThanOrEqual(400 + slowLimits.commandMs - 50);
		expect(result.stages.relay.ms).toBeLessThan(400 + slowLimits.commandMs + 700);
	});

	it('reports an open relay', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, pipeliningEhlo),
			batch([mailLine, rcptLine, quitLine], `250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n${bye}`),
		]);
		const {result, ids, findings} = await runProbe(server.port);
		expect((await finished(server)).failures).toEqual([]);

		expect(result.relay).toMatchObject({tested: true, open: true});
		expect(result.relay.attempts[0]).toMatchObject({code: 250, accepted: true});
		expect(result.stages.relay.status).toBe('critical');
		expect(ids).toContain('open-relay');
		expect(findings.find(item => item.id === 'open-relay')!.message).toContain(`RCPT TO:<${rcptTo}>`);
	});

	it('tries 16 variants one at a time, with RSET between them, in thorough mode', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, plainEhlo),
			serve(quitLine, smtpResponder({rcpt: '250 2.1.5 Ok\r\n'})),
		], {oneCommandPerChunk: true});
		const {result, ids, findings} = await runProbe(server.port, {relay: 'thorough'});
		const session = await finished(server);

		expect(session.failures).toEqual([]);
		const {attempts} = result.relay;
		expect(attempts).toHaveLength(16);
		expect(attempts.every(attempt => attempt.accepted && attempt.code === 250 && attempt.mailCode === 250)).toBe(true);
		expect(new Set(attempts.map(attempt => attempt.label)).size).toBe(16);

		const commands = received(session).slice(1);
		const expected = attempts.flatMap((attempt, index) => [
			...(index > 0 ? ['RSET'] : []),
			`MAIL FROM:<${attempt.mailFrom}>`,
			`RCPT TO:<${attempt.rcptTo}>`,
		]);
		expect(commands).toEqual([...expected, 'QUIT']);
		expect(attempts[0]!.mailFrom).toBe('');
		expect(attempts.some(attempt => attempt.rcptTo.includes('@[127.0.0.1]'))).toBe(true);

		expect(result.relay.open).toBe(true);
		expect(ids).toContain('open-relay');
		expect(findings.find(item => item.id === 'open-relay')!.message).toContain('16 of 16');
	});

	it('calls a 421 for too many errors (chasquid after three refused variants) session-ended-after-errors, not rate-limited, and lists the variants not tried', async () => {
		const server = await scripted([
			send(`220 ${exchange} ESMTP chasquid\r\n`),
			expectLine(ehloLine, plainEhlo),
			serve(/^RCPT /, smtpResponder({rcpt: '550 5.7.1 Relay denied\r\n'})),
			serve(/^RCPT /, smtpResponder({rcpt: '550 5.7.1 Relay denied\r\n'})),
			// chasquid answers its third error with 421 instead of the error, and hangs up.
			serve(/^RCPT /, line => (/^RCPT /.test(line) ? '421 4.5.0 Too many errors, bye\r\n' : smtpResponder()(line))),
			close(),
		], {oneCommandPerChunk: true});
		const {result, ids, findings} = await runProbe(server.port, {relay: 'thorough'});
		await finished(server);

		const {attempts} = result.relay;
		expect(attempts.map(attempt => attempt.code)).toEqual([550, 550, 421, ...Array.from({length: 13}, () => undefined)]);
		expect(result.stages.relay).toMatchObject({outcome: 'failed', error: 'rate-limited', reply: {code: 421}, status: 'ok'});
		expect(ids).toContain('session-ended-after-errors');
		expect(ids).not.toContain('rate-limited');
		expect(ids).not.toContain('relay-inconclusive');
		const finding = findings.find(item => item.id === 'session-ended-after-errors')!;
		expect(finding).toMatchObject({severity: 'info', stage: 'relay', check: 'relay'});
		expect(finding.message).toContain('(421 4.5.0 Too many errors, bye) once 2 of 16 relay variant(s) had been refused');
		expect(finding.message).toContain(`not tried (or cut off by the 421): ${attempts.slice(2).map(attempt => attempt.label).join('; ')}.`);
	});

	it('reads the same 421 for too many errors out of a pipelined batch', async () => {
		const matches: RegExp[] = [];
		for (let index = 0; index < 16; index++) {
			matches.push(...(index > 0 ? [/^RSET$/] : []), /^MAIL FROM:/, /^RCPT TO:/);
		}

		const refused = '250 2.1.0 Ok\r\n550 5.7.1 Relay denied\r\n';
		const server = await scripted([
			send(`220 ${exchange} ESMTP chasquid\r\n`),
			expectLine(ehloLine, pipeliningEhlo),
			batch([...matches, quitLine], `${refused}250 Ok\r\n${refused}250 Ok\r\n250 2.1.0 Ok\r\n421 4.5.0 Too many errors, bye\r\n`),
			close(),
		]);
		const {result, ids, findings} = await runProbe(server.port, {relay: 'thorough'});
		await finished(server);

		expect(result.relay.attempts.map(attempt => attempt.code)).toEqual([550, 550, 421, ...Array.from({length: 13}, () => undefined)]);
		expect(ids).toContain('session-ended-after-errors');
		expect(ids).not.toContain('rate-limited');
		expect(findings.find(item => item.id === 'session-ended-after-errors')!.message).toContain('once 2 of 16 relay variant(s) had been refused');
	});

	it('still calls a 421 that says too many connections in the relay test rate-limited', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, plainEhlo),
			serve(/^RCPT /, line => (/^RCPT /.test(line) ? '421 4.7.0 Too many connections from your host\r\n' : smtpResponder()(line))),
			close(),
		], {oneCommandPerChunk: true});
		const {ids} = await runProbe(server.port, {relay: 'thorough'});
		await finished(server);

		expect(ids).toContain('rate-limited');
		expect(ids).not.toContain('session-ended-after-errors');
	});

	it('pipelines 16 variants and reads each answer into the right attempt', async () => {
		const matches: RegExp[] = [];
		const replies: string[] = [];
		for (let index = 0; index < 16; index++) {
			if (index > 0) {
				matches.push(/^RSET$/);
				replies.push('250 2.0.0 Ok\r\n');
			}

			matches.push(/^MAIL FROM:/, /^RCPT TO:/);
			// Only the fourth variant gets through; the sixth is deferred.
			replies.push('250 2.1.0 Ok\r\n', index === 3 ? '250 2.1.5 Ok\r\n' : (index === 5 ? '451 4.3.0 Try later\r\n' : '554 5.7.1 Relay access denied\r\n'));
		}

		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, pipeliningEhlo),
			batch([...matches, quitLine], `${replies.join('')}${bye}`),
		]);
		const {result, ids} = await runProbe(server.port, {relay: 'thorough'});
		const session = await finished(server);

		expect(session.failures).toEqual([]);
		expect(received(session)).toHaveLength(1 + 48);
		const {attempts} = result.relay;
		expect(attempts.map(attempt => attempt.code)).toEqual(Array.from({length: 16}, (_, index) => (index === 3 ? 250 : (index === 5 ? 451 : 554))));
		expect(attempts.map(attempt => attempt.accepted)).toEqual(Array.from({length: 16}, (_, index) => index === 3));
		expect(result.relay.open).toBe(true);
		expect(result.stages.quit.status).toBe('ok');
		expect(ids).toContain('open-relay');
	});

	it('calls a 4xx to RCPT (greylisting) inconclusive', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, pipeliningEhlo),
			batch([mailLine, rcptLine, quitLine], `250 2.1.0 Ok\r\n450 4.2.0 <${rcptTo}>: Recipient address rejected: Greylisted\r\n${bye}`),
		]);
		const {result, ids, findings} = await runProbe(server.port);
		expect((await finished(server)).failures).toEqual([]);

		expect(result.relay).toMatchObject({tested: true, open: false, inconclusive: true});
		expect(result.relay.reason).toContain('450');
		// relay-inconclusive is info: the stage is not a failure, the finding says why there is no verdict.
		expect(result.stages.relay).toMatchObject({status: 'ok', outcome: 'ok'});
		expect(findings.find(item => item.id === 'relay-inconclusive')).toMatchObject({severity: 'info', stage: 'relay'});
		expect(ids).toContain('relay-inconclusive');
		expect(ids).not.toContain('open-relay');
		expect(ids).not.toContain('rate-limited');
	});

	it('calls a 530 to MAIL inconclusive and sends no RCPT', async () => {
		const server = await scripted([
			send(greeting),
			expectLine(ehloLine, plainEhlo),
			expectLine(mailLine, '530 5.7.0 Must issue a STARTTLS command first\r\n'),
			expectLine(quitLine, bye),
		], {oneCommandPerChunk: true});
		const {result, ids} = await runProbe(server.port);
		const session = await finished(server);

		expect(session.failures).toEqual([]);
		expect(received(session)).toEqual(['EHLO probe.mxdash.test', `MAIL FROM:<${mailFrom}>`, 'QUIT']);
		expect(result.relay).toMatchObject({tested: true, open: false, inconclusive: true});
		expect(result.relay.attempts[0]).toMatchObject({mailCode: 530, accepted: false});
		expect(result.relay.reason).toContain('530');
		expect(ids).toContain('relay-inconclusive');
	});
});

describe('the greeting', () => {
	it('reports a 554 greeting, says QUIT and never EHLO', async () => {
		const server = await scripted([
			send(`554 5.7.1 ${exchange} No SMTP service here\r\n`),
			expectLine(quitLine, bye),
		]);
		const {result, ids} = await runProbe(server.port);
		const session = await finished(server);

		expect(session.failures).toEqual([]);
		expect(received(session)).toEqual(['QUIT']);
		expect(result.stages.banner).toMatchObject({status: 'critical', error: 'rejected'});
		expect(statuses(result)).toMatchObject({ehlo: 'skipped', starttls: 'skipped', tls: 'skipped', relay: 'skipped', quit: 'ok'});
		expect(result.banner?.code).toBe(554);
		expect(ids).toContain('banner-rejected');
		expect(result.relay.tested).toBe(false);
	});

	it('reports a 421 "too many connections" greeting as rate limiting, not a rejection', async () => {
		const server = await scripted([
			send(`421 4.7.0 ${exchange} Error: too many connections from 127.0.0.1\r\n`),
			close(),
		]);
		const {result, ids} = await runProbe(server.port);
		const session = await finished(server);

		expect(session.failures).toEqual([]);
		// The one finding that judges it, rate-limited, is a warning: no second opinion in the stage.
		expect(result.stages.banner).toMatchObject({status: 'warning', outcome: 'failed', error: 'rate-limited'});
		expect(result.rateLimited).toContain('too many connections');
		expect(ids).toContain('rate-limited');
		expect(ids).not.toContain('banner-rejected');
		expect(received(session)).not.toContain('EHLO probe.mxdash.test');
	});

	it('waits for the last line of a multi-line greeting before EHLO', async () => {
		const server = await scripted([
			send(`220-${exchange} ESMTP\r\n`),
			pause(100),
			quiet(),
			send(`220 ${exchange} ready\r\n`),
			expectLine(ehloLine, pipeliningEhlo),
			batch([mailLine, rcptLine, quitLine], `250 Ok\r\n554 Relay access denied\r\n${bye}`),
		]);
		const {result, ids} = await runProbe(server.port);
		const session = await finished(server);

		expect(session.failures).toEqual([]);
		expect(session.log.indexOf(`S: 220 ${exchange} ready`)).toBeLessThan(session.log.indexOf('C: EHLO probe.mxdash.test'));
		expect(result.banner).toMatchObject({code: 220, text: `${exchange} ESMTP\n${exchange} ready`, hostname: exchange});
		expect(result.banner!.delayMs).toBeGreaterThanOrEqual(90);
		expect(result.stages.banner.status).toBe('ok');
		expect(ids).toEqual(['starttls-missing']);
	});

	it('reports a slow greeting as a warning, and the rest goes on', async () => {
		const server = await scripted([
			pause(500),
			send(greeting),
			expectLine(ehloLine, pipeliningEhlo),
			batch([mailLine, rcptLine, quitLine], `250 Ok\r\n554 Relay access denied\r\n${bye}`),
		]);
		const {result, ids, findings} = await runProbe(server.port);
		expect((await finished(server)).failures).toEqual([]);

		expect(result.stages.banner.status).toBe('warning');
		expect(result.banner!.delayMs).toBeGreaterThanOrEqual(480);
		expect(statuses(result)).toMatchObject({connect: 'ok', ehlo: 'ok', relay: 'ok', quit: 'ok'});
		expect(ids).toEqual(['starttls-missing', 'banner-slow']);
		expect(findings.find(item => item.id === 'banner-slow')!.severity).toBe('warning');
	});

	it('times out on a server that never greets, at bannerMs', async () => {
		const server = await scripted([mute()]);
		const {result, ids, elapsed} = await runProbe(server.port);

		expect(result.stages.connect.status).toBe('ok');
		expect(result.stages.banner).toMatchObject({status: 'critical', error: 'timeout'});
		expect(result.stages.banner.ms).toBeGreaterThanOrEqual(limits.bannerMs - 5);
		expect(elapsed).toBeGreaterThanOrEqual(limits.bannerMs);
		expect(elapsed).toBeLessThanOrEqual(limits.bannerMs + 1000);
		expect(ids).toEqual(['banner-timeout']);
		expect(clientLines(result)).toEqual([]);
		const session = await finished(server);
		expect(received(session)).toEqual([]);
	});

	it('reports a refused connection', async () => {
		const port = await freePort();
		const {result, ids, elapsed} = await runProbe(port);
		expect(result.stages.connect).toMatchObject({status: 'critical', error: 'refused'});
		expect(statuses(result)).toMatchObject({banner: 'skipped', ehlo: 'skipped', relay: 'skipped', quit: 'skipped'});
		expect(ids).toEqual(['tcp-refused']);
		expect(elapsed).toBeLessThan(1000);
	});

	it('says in the transcript that it connected, and how a refused connection ended and when', async () => {
		const port = await freePort();
		const lines: string[] = [];
		const {result} = await runProbe(port, {onEvent(event) {
			if (event.type === 'line') {
				lines.push(event.line.text);
			}
		}});
		expect(result.transcript.map(line => line.dir)).toEqual(['info', 'info']);
		expect(result.transcript[0]!.text).toBe(`connecting to 127.0.0.1 port ${port} (up to ${limits.connectMs} ms)`);
		expect(result.transcript[1]!.text).toMatch(new RegExp(`^connection to 127\\.0\\.0\\.1 port ${port} refused after \\d+ ms$`));
		// The same lines came as events, the first one before the outcome was known.
		expect(lines).toEqual(result.transcript.map(line => line.text));
	});

	it('says a cancelled session never connected', async () => {
		const port = await freePort();
		const {result} = await runProbe(port, {signal: AbortSignal.abort()});
		// The time is whatever the abort took (0 ms, or 1 ms under load).
		expect(result.transcript).toEqual([expect.objectContaining({dir: 'info', text: expect.stringMatching(new RegExp(`^connection to 127\\.0\\.0\\.1 port ${port} cancelled after \\d+ ms$`)) as unknown})]);
	});
});
