import type {Reply, Stage, StageError, StageName, TlsInfo} from '../types.js';
import {stageNames} from '../types.js';
import {counted} from '../text.js';
import {begin, data, end, expect, firstLine, firstWord, isRateLimit, noteViolation, offers, parseEhlo, skip, skipPending, stageOf, succeed, updateAttempt} from './machine-state.js';
import type {Draft, Expect, MachineOptions, MachineState} from './machine-state.js';
import {endRelayEarly, finishRelay} from './relay-facts.js';

export type {MachineOptions, MachineState} from './machine-state.js';
export {parseEhlo} from './machine-state.js';

/** What the I/O driver tells the machine. `at` is milliseconds since the session started. */
export type MachineInput =
	| {type: 'connected'; at: number}
	| {type: 'reply'; at: number; reply: Reply}
	| {type: 'tls-ready'; at: number; version: string}
	// The session's TLS facts, read once EHLO is on its way (reading the chain costs milliseconds).
	| {type: 'tls-info'; info: TlsInfo}
	| {type: 'failed'; at: number; code: StageError; message: string};

/** What the machine asks the driver to do, in order. */
export type MachineAction =
	| {type: 'send'; lines: string[]}
	| {type: 'start-tls'}
	| {type: 'deadline'; stage: StageName; ms: number}
	| {type: 'close'};


type Step = {state: MachineState; actions: MachineAction[]};

const pending: Stage = {state: 'pending'};

export function initialState(options: MachineOptions): MachineState {
	return {
		options,
		stage: 'connect',
		stages: Object.fromEntries(stageNames.map(name => [name, pending])) as Record<StageName, Stage>,
		expect: [],
		nextAttempt: 0,
		pipelining: false,
		quitSent: false,
		relay: {
			tested: false,
			open: false,
			attempts: options.relay.map(pair => ({label: pair.label, mailFrom: pair.mailFrom, rcptTo: pair.rcptTo, accepted: false})),
		},
	};
}

/** The machine starts in `connect`; the driver arms this deadline and connects. */
export function start(state: MachineState, connectMs: number): Step {
	const s: Draft = {...state};
	begin(s, 'connect', 0);
	return {state: s, actions: [{type: 'deadline', stage: 'connect', ms: connectMs}]};
}

/** The pure transition function: a new state and the actions that follow from `input`. */
export function step(state: MachineState, input: MachineInput): Step {
	if (input.type === 'tls-info') {
		return {state: {...state, tls: input.info}, actions: []};
	}

	if (state.stage === 'done') {
		return {state, actions: []};
	}

	const s: Draft = {...state};
	const actions: MachineAction[] = [];
	switch (input.type) {
		case 'connected': {
			succeed(s, 'connect', input.at);
			begin(s, 'banner', input.at);
			expect(s, {kind: 'banner'});
			actions.push({type: 'deadline', stage: 'banner', ms: s.options.deadlines.banner});
			break;
		}

		case 'reply': {
			onReply(s, input.reply, input.at, actions);
			break;
		}

		case 'tls-ready': {
			succeed(s, 'tls', input.at, {detail: input.version});
			command(s, 'ehloTls', input.at, [`EHLO ${s.options.ehloName}`], actions);
			break;
		}

		case 'failed': {
			fail(s, input.at, input.code, input.message, actions);
			break;
		}
	}

	return {state: s, actions};
}

function onReply(s: Draft, reply: Reply, at: number, actions: MachineAction[]): void {
	const [expected] = s.expect;
	if (!expected) {
		fail(s, at, 'unexpected-reply', `a reply nobody asked for: ${reply.code} ${reply.lines[0] ?? ''}`, actions);
		return;
	}

	s.expect = s.expect.slice(1);
	if (reply.violation) {
		// Noted before the reply is acted on, so the stage's ending carries it over.
		noteViolation(s, stageOf(expected.kind), reply.violation);
	}

	if (isRateLimit(reply) && expected.kind !== 'quit') {
		s.rateLimited = `${reply.code} ${reply.text}`;
	}

	if (s.stage === 'relay' && (expected.kind === 'mail' || expected.kind === 'rcpt' || expected.kind === 'rset')) {
		// A reply in time starts the next command's deadline; a later action may replace it (QUIT's).
		actions.push({type: 'deadline', stage: 'relay', ms: s.options.deadlines.command});
	}

	const positive = reply.code >= 200 && reply.code < 300;
	switch (expected.kind) {
		case 'banner': {
			onBanner(s, reply, at, actions);
			break;
		}

		case 'ehlo': {
			if (positive) {
				s.ehlo = {greeting: 'EHLO', ...parseEhlo(reply)};
				succeed(s, 'ehlo', at, {reply, detail: counted(s.ehlo.extensions.length, 'extension')});
				s.pipelining = offers(s.ehlo.extensions, 'PIPELINING');
				startTls(s, at, actions);
			} else if (reply.code === 421) {
				abandon(s, 'ehlo', at, reply, actions);
			} else {
				s.ehlo = {greeting: 'none', extensions: [], code: reply.code, text: reply.text};
				expect(s, {kind: 'helo'});
				actions.push({type: 'send', lines: [`HELO ${s.options.ehloName}`]});
			}

			break;
		}

		case 'helo': {
			if (positive) {
				s.ehlo = {greeting: 'HELO', extensions: [], hostname: firstWord(reply.lines[0]), code: reply.code, text: reply.text};
				succeed(s, 'ehlo', at, {reply, detail: 'HELO only (EHLO refused)'});
				startTls(s, at, actions);
			} else {
				abandon(s, 'ehlo', at, reply, actions);
			}

			break;
		}

		case 'starttls': {
			if (reply.code === 220) {
				succeed(s, 'starttls', at, {reply});
				begin(s, 'tls', at);
				actions.push({type: 'deadline', stage: 'tls', ms: s.options.deadlines.tls}, {type: 'start-tls'});
			} else if (reply.code === 421 || reply.code === 221) {
				abandon(s, 'starttls', at, reply, actions);
			} else {
				end(s, 'starttls', at, {outcome: 'failed', error: 'rejected', reply: data(reply), detail: `refused: ${reply.code} ${reply.lines[0] ?? ''}`});
				skip(s, ['tls', 'ehloTls'], 'STARTTLS refused');
				startRelay(s, at, actions);
			}

			break;
		}

		case 'ehloTls': {
			if (positive) {
				const after = parseEhlo(reply);
				s.ehlo = {...s.ehlo ?? {greeting: 'EHLO', extensions: []}, extensionsAfterTls: after.extensions};
				s.pipelining = offers(after.extensions, 'PIPELINING');
				succeed(s, 'ehloTls', at, {reply, detail: counted(after.extensions.length, 'extension')});
				startRelay(s, at, actions);
			} else {
				abandon(s, 'ehloTls', at, reply, actions);
			}

			break;
		}

		case 'rset': {
			if (reply.code === 421) {
				abandon(s, 'relay', at, reply, actions);
			} else if (!s.pipelining) {
				sendAttempt(s, actions);
			}

			break;
		}

		case 'mail': {
			const attempt = updateAttempt(s, expected.attempt, {mailCode: reply.code, mailText: reply.text});
			if (reply.code === 421) {
				abandon(s, 'relay', at, reply, actions);
			} else if (!s.pipelining) {
				if (positive) {
					expect(s, {kind: 'rcpt', attempt: expected.attempt});
					actions.push({type: 'send', lines: [`RCPT TO:<${attempt.rcptTo}>`]});
				} else {
					nextRelay(s, at, actions);
				}
			}

			break;
		}

		case 'rcpt': {
			updateAttempt(s, expected.attempt, {code: reply.code, text: reply.text, accepted: positive});
			if (reply.code === 421) {
				abandon(s, 'relay', at, reply, actions);
			} else if (!s.pipelining) {
				nextRelay(s, at, actions);
			} else if (!s.expect.some(next => next.kind === 'rcpt' || next.kind === 'mail')) {
				finishRelay(s, at);
				begin(s, 'quit', at);
				actions.push({type: 'deadline', stage: 'quit', ms: s.options.deadlines.quit});
			}

			break;
		}

		case 'quit': {
			if (reply.code === 221) {
				succeed(s, 'quit', at, {reply});
			} else {
				// QUIT is always answered 221: anything else means the replies were out of step
				// with our commands (an extra reply somewhere), so no verdict read from them stands.
				end(s, 'quit', at, {outcome: 'failed', error: 'out-of-step', reply: data(reply), detail: `QUIT answered ${reply.code}: replies out of step`});
				if (s.relay.tested) {
					s.relay = {
						...s.relay,
						open: false,
						inconclusive: true,
						reason: `the server's replies were out of step with the commands (QUIT answered ${reply.code})`,
						attempts: s.relay.attempts.map(attempt => ({...attempt, accepted: false})),
					};
					s.stages = {...s.stages, relay: {...s.stages.relay, detail: 'replies out of step'}};
				}
			}

			finish(s, actions);
			break;
		}
	}
}

function onBanner(s: Draft, reply: Reply, at: number, actions: MachineAction[]): void {
	const connectedAt = s.stages.banner.startedAt ?? 0;
	s.banner = {code: reply.code, text: reply.text, hostname: firstWord(reply.lines[0]), delayMs: at - connectedAt};
	if (reply.code !== 220) {
		end(s, 'banner', at, {outcome: 'failed', error: reply.code === 421 ? 'rate-limited' : 'rejected', reply: data(reply), detail: `${reply.code} ${reply.lines[0] ?? ''}`});
		skip(s, ['ehlo', 'starttls', 'tls', 'ehloTls', 'relay'], 'greeting refused');
		leave(s, reply, at, actions);
		return;
	}

	succeed(s, 'banner', at, {reply});
	command(s, 'ehlo', at, [`EHLO ${s.options.ehloName}`], actions);
}

function startTls(s: Draft, at: number, actions: MachineAction[]): void {
	if (s.options.skipStartTls) {
		// The TLS facts come from the session before; this one only tests the relay, as a sender would.
		skip(s, ['starttls', 'tls', 'ehloTls'], 'plaintext retry: STARTTLS not used');
		startRelay(s, at, actions);
		return;
	}

	if (offers(s.ehlo?.extensions ?? [], 'STARTTLS')) {
		command(s, 'starttls', at, ['STARTTLS'], actions);
		return;
	}

	begin(s, 'starttls', at);
	end(s, 'starttls', at, {outcome: 'failed', error: 'missing', detail: 'not advertised'});
	skip(s, ['tls', 'ehloTls'], 'no STARTTLS');
	startRelay(s, at, actions);
}

function startRelay(s: Draft, at: number, actions: MachineAction[]): void {
	const attempts = s.options.relay;
	if (attempts.length === 0) {
		skip(s, ['relay'], 'relay test off');
		quit(s, at, actions);
		return;
	}

	begin(s, 'relay', at);
	s.relay = {...s.relay, tested: true};
	// Each reply has its own deadline, re-armed by the one before (see onReply): servers slow down
	// after repeated rejections (Postfix's smtpd_error_sleep_time), which is no stall.
	actions.push({type: 'deadline', stage: 'relay', ms: s.options.deadlines.command});
	if (!s.pipelining) {
		sendAttempt(s, actions);
		return;
	}

	// One batch for every attempt and QUIT (RFC 2920): the fewest round trips the protocol allows.
	const lines: string[] = [];
	const expected: Expect[] = [];
	for (const [index, pair] of attempts.entries()) {
		if (index > 0) {
			lines.push('RSET');
			expected.push({kind: 'rset'});
		}

		lines.push(`MAIL FROM:<${pair.mailFrom}>`, `RCPT TO:<${pair.rcptTo}>`);
		expected.push({kind: 'mail', attempt: index}, {kind: 'rcpt', attempt: index});
	}

	lines.push('QUIT');
	expect(s, ...expected, {kind: 'quit'});
	s.quitSent = true;
	actions.push({type: 'send', lines});
}

function sendAttempt(s: Draft, actions: MachineAction[]): void {
	const index = s.nextAttempt;
	s.nextAttempt = index + 1;
	expect(s, {kind: 'mail', attempt: index});
	actions.push({type: 'send', lines: [`MAIL FROM:<${s.options.relay[index]!.mailFrom}>`]});
}

function nextRelay(s: Draft, at: number, actions: MachineAction[]): void {
	if (s.nextAttempt < s.options.relay.length) {
		expect(s, {kind: 'rset'});
		actions.push({type: 'send', lines: ['RSET']});
		return;
	}

	finishRelay(s, at);
	quit(s, at, actions);
}

function command(s: Draft, stage: 'ehlo' | 'starttls' | 'ehloTls', at: number, lines: string[], actions: MachineAction[]): void {
	begin(s, stage, at);
	expect(s, {kind: stage});
	actions.push({type: 'deadline', stage, ms: s.options.deadlines.command}, {type: 'send', lines});
}

function quit(s: Draft, at: number, actions: MachineAction[]): void {
	begin(s, 'quit', at);
	s.quitSent = true;
	expect(s, {kind: 'quit'});
	actions.push({type: 'deadline', stage: 'quit', ms: s.options.deadlines.quit}, {type: 'send', lines: ['QUIT']});
}

/** A reply that ends the dialogue (421, or a refusal that leaves nothing to test). */
function abandon(s: Draft, stage: StageName, at: number, reply: Reply, actions: MachineAction[]): void {
	if (stage === 'relay') {
		endRelayEarly(s, `${reply.code} ${firstLine(reply.text)}`);
	}

	end(s, stage, at, {outcome: 'failed', error: reply.code === 421 ? 'rate-limited' : 'rejected', reply: data(reply), detail: `${reply.code} ${firstLine(reply.text)}`});
	skipPending(s, 'the session ended early');
	leave(s, reply, at, actions);
}

/** End the dialogue after `reply`: with QUIT, unless the reply already closed the channel. */
function leave(s: Draft, reply: Reply, at: number, actions: MachineAction[]): void {
	if (reply.code === 421 || reply.code === 221) {
		// 421 and 221 mean the server is closing the channel (RFC 5321 §3.8); QUIT would go nowhere.
		finish(s, actions);
	} else {
		quit(s, at, actions);
	}
}

/** A timeout, a reader error, a closed or broken connection, a failed handshake. */
function fail(s: Draft, at: number, code: StageError, message: string, actions: MachineAction[]): void {
	const stage = s.stage as StageName;
	if (stage === 'quit') {
		// Whatever happens after QUIT is the server's business; the session is over.
		end(s, 'quit', at, code === 'closed' ? {outcome: 'ok', detail: 'closed by server'} : {outcome: 'failed', error: code, detail: message});
		finish(s, actions);
		return;
	}

	if (stage === 'relay') {
		endRelayEarly(s, message);
	}

	end(s, stage, at, {outcome: 'failed', error: code, detail: message});
	skipPending(s, `not reached: ${stage} failed`);
	// Say QUIT where the dialogue still stands (never before the greeting, never on a dead TLS).
	const canTalk = !['connect', 'banner', 'tls'].includes(stage) && !['closed', 'reset', 'session-too-large'].includes(code);
	if (canTalk && !s.quitSent) {
		actions.push({type: 'send', lines: ['QUIT']});
		s.quitSent = true;
	}

	finish(s, actions);
}

function finish(s: Draft, actions: MachineAction[]): void {
	skipPending(s, 'not reached');
	s.stage = 'done';
	s.expect = [];
	actions.push({type: 'close'});
}

