import type {RelayPair} from './relay-variants.js';
import type {BannerInfo, EhloInfo, Extension, RelayResult, Reply, Stage, StageName, StageStatus, TlsInfo} from '../types.js';
import {stageNames} from '../types.js';

/** What the I/O driver tells the machine. `at` is milliseconds since the session started. */
export type MachineInput =
	| {type: 'connected'; at: number}
	| {type: 'reply'; at: number; reply: Reply}
	| {type: 'tls-ready'; at: number; info: TlsInfo}
	| {type: 'failed'; at: number; code: string; message: string};

/** What the machine asks the driver to do, in order. */
export type MachineAction =
	| {type: 'send'; lines: string[]}
	| {type: 'start-tls'}
	| {type: 'deadline'; stage: StageName; ms: number}
	| {type: 'close'};

type Expect =
	| {kind: 'banner' | 'ehlo' | 'helo' | 'starttls' | 'ehloTls' | 'rset' | 'quit'}
	| {kind: 'mail' | 'rcpt'; attempt: number};

export type MachineOptions = {
	ehloName: string;
	relay: RelayPair[];
	deadlines: {banner: number; command: number; tls: number; quit: number};
	bannerSlowMs: number;
};

export type MachineState = {
	readonly options: MachineOptions;
	stage: StageName | 'done';
	stages: Record<StageName, Stage>;
	expect: Expect[];
	/** The next relay attempt to send when commands go one at a time. */
	nextAttempt: number;
	pipelining: boolean;
	quitSent: boolean;
	banner?: BannerInfo;
	ehlo?: EhloInfo;
	tls?: TlsInfo;
	relay: RelayResult;
	rateLimited?: string;
};

type Step = {state: MachineState; actions: MachineAction[]};

export function initialState(options: MachineOptions): MachineState {
	const stages = Object.fromEntries(stageNames.map(name => [name, {status: 'pending'}])) as Record<StageName, Stage>;
	return {
		options,
		stage: 'connect',
		stages,
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
	const s = clone(state);
	begin(s, 'connect', 0);
	return {state: s, actions: [{type: 'deadline', stage: 'connect', ms: connectMs}]};
}

/** The pure transition function: a new state and the actions that follow from `input`. */
export function step(state: MachineState, input: MachineInput): Step {
	const s = clone(state);
	const actions: MachineAction[] = [];
	if (s.stage === 'done') {
		return {state: s, actions};
	}

	switch (input.type) {
		case 'connected': {
			end(s, 'connect', 'ok', input.at);
			begin(s, 'banner', input.at);
			s.expect.push({kind: 'banner'});
			actions.push({type: 'deadline', stage: 'banner', ms: s.options.deadlines.banner});
			break;
		}

		case 'reply': {
			onReply(s, input.reply, input.at, actions);
			break;
		}

		case 'tls-ready': {
			s.tls = input.info;
			end(s, 'tls', 'ok', input.at, input.info.version);
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

function onReply(s: MachineState, reply: Reply, at: number, actions: MachineAction[]): void {
	const expected = s.expect.shift();
	if (!expected) {
		fail(s, at, 'unexpected-reply', `a reply nobody asked for: ${reply.code} ${reply.lines[0] ?? ''}`, actions);
		return;
	}

	if (isRateLimit(reply) && expected.kind !== 'quit') {
		s.rateLimited = `${reply.code} ${reply.text}`;
	}

	switch (expected.kind) {
		case 'banner': {
			onBanner(s, reply, at, actions);
			break;
		}

		case 'ehlo': {
			if (reply.code >= 200 && reply.code < 300) {
				s.ehlo = {greeting: 'EHLO', ...parseEhlo(reply)};
				end(s, 'ehlo', 'ok', at, `${s.ehlo.extensions.length} extensions`);
				s.pipelining = s.ehlo.extensions.some(extension => extension.keyword === 'PIPELINING');
				startTls(s, at, actions);
			} else if (reply.code === 421) {
				abandon(s, 'ehlo', at, reply, actions);
			} else {
				s.ehlo = {greeting: 'none', extensions: [], code: reply.code, text: reply.text};
				s.expect.push({kind: 'helo'});
				actions.push({type: 'send', lines: [`HELO ${s.options.ehloName}`]});
			}

			break;
		}

		case 'helo': {
			if (reply.code >= 200 && reply.code < 300) {
				s.ehlo = {greeting: 'HELO', extensions: [], hostname: firstWord(reply.lines[0]), code: reply.code, text: reply.text};
				end(s, 'ehlo', 'warning', at, 'HELO only (EHLO refused)');
				startTls(s, at, actions);
			} else {
				abandon(s, 'ehlo', at, reply, actions);
			}

			break;
		}

		case 'starttls': {
			if (reply.code === 220) {
				end(s, 'starttls', 'ok', at);
				begin(s, 'tls', at);
				actions.push({type: 'deadline', stage: 'tls', ms: s.options.deadlines.tls}, {type: 'start-tls'});
			} else if (reply.code === 421 || reply.code === 221) {
				abandon(s, 'starttls', at, reply, actions);
			} else {
				end(s, 'starttls', 'critical', at, `refused: ${reply.code} ${reply.lines[0] ?? ''}`, 'refused');
				skip(s, ['tls', 'ehloTls'], 'STARTTLS refused');
				startRelay(s, at, actions);
			}

			break;
		}

		case 'ehloTls': {
			if (reply.code >= 200 && reply.code < 300) {
				const after = parseEhlo(reply);
				if (s.ehlo) {
					s.ehlo.extensionsAfterTls = after.extensions;
				}

				s.pipelining = after.extensions.some(extension => extension.keyword === 'PIPELINING');
				end(s, 'ehloTls', 'ok', at, `${after.extensions.length} extensions`);
				startRelay(s, at, actions);
			} else {
				abandon(s, 'ehloTls', at, reply, actions);
			}

			break;
		}

		case 'rset': {
			if (!s.pipelining) {
				sendAttempt(s, actions);
			}

			break;
		}

		case 'mail': {
			const attempt = s.relay.attempts[expected.attempt]!;
			attempt.mailCode = reply.code;
			attempt.mailText = reply.text;
			if (reply.code === 421) {
				abandon(s, 'relay', at, reply, actions);
				break;
			}

			if (!s.pipelining) {
				if (reply.code >= 200 && reply.code < 300) {
					s.expect.push({kind: 'rcpt', attempt: expected.attempt});
					actions.push({type: 'send', lines: [`RCPT TO:<${attempt.rcptTo}>`]});
				} else {
					nextRelay(s, at, actions);
				}
			}

			break;
		}

		case 'rcpt': {
			const attempt = s.relay.attempts[expected.attempt]!;
			attempt.code = reply.code;
			attempt.text = reply.text;
			attempt.accepted = reply.code >= 200 && reply.code < 300;
			if (reply.code === 421) {
				abandon(s, 'relay', at, reply, actions);
			} else if (s.pipelining) {
				if (!s.expect.some(next => next.kind === 'rcpt' || next.kind === 'mail')) {
					finishRelay(s, at);
					begin(s, 'quit', at);
					actions.push({type: 'deadline', stage: 'quit', ms: s.options.deadlines.quit});
				}
			} else {
				nextRelay(s, at, actions);
			}

			break;
		}

		case 'quit': {
			if (reply.code === 221) {
				end(s, 'quit', 'ok', at, '221');
			} else {
				// QUIT is always answered 221: anything else means the replies were out of step
				// with our commands (an extra reply somewhere), so no verdict read from them stands.
				end(s, 'quit', 'warning', at, `QUIT answered ${reply.code}: replies out of step`, 'out-of-step');
				if (s.relay.tested) {
					s.relay.open = false;
					s.relay.inconclusive = true;
					s.relay.reason = `the server's replies were out of step with the commands (QUIT answered ${reply.code})`;
					for (const attempt of s.relay.attempts) {
						attempt.accepted = false;
					}

					s.stages.relay = {...s.stages.relay, status: 'warning', detail: 'replies out of step'};
				}
			}

			finish(s, actions);
			break;
		}
	}
}

function onBanner(s: MachineState, reply: Reply, at: number, actions: MachineAction[]): void {
	const connectedAt = s.stages.banner.startedAt ?? 0;
	s.banner = {code: reply.code, text: reply.text, hostname: firstWord(reply.lines[0]), delayMs: at - connectedAt};
	if (reply.code !== 220) {
		end(s, 'banner', 'critical', at, `${reply.code} ${reply.lines[0] ?? ''}`, reply.code === 421 ? 'rate-limited' : 'rejected');
		skip(s, ['ehlo', 'starttls', 'tls', 'ehloTls', 'relay'], 'greeting refused');
		leave(s, reply, at, actions);
		return;
	}

	const slow = s.banner.delayMs > s.options.bannerSlowMs;
	end(s, 'banner', slow ? 'warning' : 'ok', at, slow ? `slow: ${Math.round(s.banner.delayMs)} ms` : undefined);
	command(s, 'ehlo', at, [`EHLO ${s.options.ehloName}`], actions);
}

function startTls(s: MachineState, at: number, actions: MachineAction[]): void {
	const offered = s.ehlo?.extensions.some(extension => extension.keyword === 'STARTTLS') ?? false;
	if (offered) {
		command(s, 'starttls', at, ['STARTTLS'], actions);
		return;
	}

	s.stages.starttls = {status: 'critical', startedAt: at, ms: 0, detail: 'not advertised', error: 'missing'};
	skip(s, ['tls', 'ehloTls'], 'no STARTTLS');
	startRelay(s, at, actions);
}

function startRelay(s: MachineState, at: number, actions: MachineAction[]): void {
	const attempts = s.options.relay;
	if (attempts.length === 0) {
		skip(s, ['relay'], 'relay test off');
		quit(s, at, actions);
		return;
	}

	begin(s, 'relay', at);
	s.relay.tested = true;
	actions.push({type: 'deadline', stage: 'relay', ms: s.options.deadlines.command * (s.pipelining ? 1 : 2 + attempts.length)});
	if (!s.pipelining) {
		sendAttempt(s, actions);
		return;
	}

	// One batch for every attempt and QUIT (RFC 2920): the fewest round trips the protocol allows.
	const lines: string[] = [];
	for (const [index, pair] of attempts.entries()) {
		if (index > 0) {
			lines.push('RSET');
			s.expect.push({kind: 'rset'});
		}

		lines.push(`MAIL FROM:<${pair.mailFrom}>`, `RCPT TO:<${pair.rcptTo}>`);
		s.expect.push({kind: 'mail', attempt: index}, {kind: 'rcpt', attempt: index});
	}

	lines.push('QUIT');
	s.expect.push({kind: 'quit'});
	s.quitSent = true;
	actions.push({type: 'send', lines});
}

function sendAttempt(s: MachineState, actions: MachineAction[]): void {
	const index = s.nextAttempt++;
	const pair = s.options.relay[index]!;
	s.expect.push({kind: 'mail', attempt: index});
	actions.push({type: 'send', lines: [`MAIL FROM:<${pair.mailFrom}>`]});
}

function nextRelay(s: MachineState, at: number, actions: MachineAction[]): void {
	if (s.nextAttempt < s.options.relay.length) {
		s.expect.push({kind: 'rset'});
		actions.push({type: 'send', lines: ['RSET']});
		return;
	}

	finishRelay(s, at);
	quit(s, at, actions);
}

function finishRelay(s: MachineState, at: number): void {
	const {attempts} = s.relay;
	const accepted = attempts.filter(attempt => attempt.accepted);
	s.relay.open = accepted.length > 0;
	if (s.relay.open) {
		end(s, 'relay', 'critical', at, `OPEN: ${accepted.length} of ${attempts.length} accepted`);
		return;
	}

	const temporary = attempts.find(attempt => isInconclusive(attempt.mailCode) || isInconclusive(attempt.code));
	if (temporary) {
		const code = isInconclusive(temporary.mailCode) ? temporary.mailCode : temporary.code;
		const text = isInconclusive(temporary.mailCode) ? temporary.mailText : temporary.text;
		s.relay.inconclusive = true;
		s.relay.reason = `${code} ${firstLine(text)}`;
		end(s, 'relay', 'warning', at, `inconclusive: ${code}`);
		return;
	}

	end(s, 'relay', 'ok', at, attempts.length > 1 ? `closed (${attempts.length} variants)` : 'closed');
}

function isInconclusive(code: number | undefined): boolean {
	return code !== undefined && ((code >= 400 && code < 500) || code === 530);
}

function command(s: MachineState, stage: StageName, at: number, lines: string[], actions: MachineAction[]): void {
	begin(s, stage, at);
	s.expect.push({kind: stage as 'ehlo' | 'starttls' | 'ehloTls'});
	actions.push({type: 'deadline', stage, ms: s.options.deadlines.command}, {type: 'send', lines});
}

function quit(s: MachineState, at: number, actions: MachineAction[]): void {
	begin(s, 'quit', at);
	s.quitSent = true;
	s.expect.push({kind: 'quit'});
	actions.push({type: 'deadline', stage: 'quit', ms: s.options.deadlines.quit}, {type: 'send', lines: ['QUIT']});
}

/** A reply that ends the dialogue (421, or a refusal that leaves nothing to test). */
function abandon(s: MachineState, stage: StageName, at: number, reply: Reply, actions: MachineAction[]): void {
	if (stage === 'relay') {
		s.relay.inconclusive = true;
		s.relay.reason = `${reply.code} ${firstLine(reply.text)}`;
	}

	end(s, stage, 'critical', at, `${reply.code} ${firstLine(reply.text)}`, reply.code === 421 ? 'rate-limited' : (stage === 'starttls' ? 'refused' : 'rejected'));
	skipPending(s, 'the session ended early');
	leave(s, reply, at, actions);
}

/** End the dialogue after `reply`: with QUIT, unless the reply already closed the channel. */
function leave(s: MachineState, reply: Reply, at: number, actions: MachineAction[]): void {
	if (reply.code === 421 || reply.code === 221) {
		// 421 and 221 mean the server is closing the channel (RFC 5321 §3.8); QUIT would go nowhere.
		finish(s, actions);
	} else {
		quit(s, at, actions);
	}
}

/** A timeout, a reader error, a closed or broken connection, a failed handshake. */
function fail(s: MachineState, at: number, code: string, message: string, actions: MachineAction[]): void {
	const stage = s.stage as StageName;
	if (stage === 'quit') {
		// Whatever happens after QUIT is the server's business; the session is over.
		end(s, 'quit', code === 'closed' ? 'ok' : 'warning', at, code === 'closed' ? 'closed by server' : message, code === 'closed' ? undefined : code);
		finish(s, actions);
		return;
	}

	if (stage === 'relay') {
		s.relay.inconclusive = true;
		s.relay.reason = message;
	}

	end(s, stage, 'critical', at, message, code);
	skipPending(s, `not reached: ${stage} failed`);
	// Say QUIT where the dialogue still stands (never before the greeting, never on a dead TLS).
	const canTalk = !['connect', 'banner', 'tls'].includes(stage) && !['closed', 'reset', 'session-too-large'].includes(code);
	if (canTalk && !s.quitSent) {
		actions.push({type: 'send', lines: ['QUIT']});
		s.quitSent = true;
	}

	finish(s, actions);
}

function finish(s: MachineState, actions: MachineAction[]): void {
	skipPending(s, 'not reached');
	s.stage = 'done';
	s.expect = [];
	actions.push({type: 'close'});
}

function begin(s: MachineState, stage: StageName, at: number): void {
	s.stage = stage;
	s.stages[stage] = {status: 'running', startedAt: at};
}

function end(s: MachineState, stage: StageName, status: StageStatus, at: number, detail?: string, error?: string): void {
	const startedAt = s.stages[stage].startedAt ?? at;
	s.stages[stage] = {status, startedAt, ms: Math.max(0, Math.round((at - startedAt) * 10) / 10), ...(detail ? {detail} : {}), ...(error ? {error} : {})};
}

function skip(s: MachineState, stages: StageName[], detail: string): void {
	for (const stage of stages) {
		s.stages[stage] = {status: 'skipped', detail};
	}
}

function skipPending(s: MachineState, detail: string): void {
	skip(s, stageNames.filter(name => s.stages[name].status === 'pending'), detail);
}

export function parseEhlo(reply: Reply): {hostname?: string; extensions: Extension[]} {
	const [first, ...rest] = reply.lines;
	const extensions = rest
		.map(line => line.trim().split(/\s+/))
		.filter(words => words[0])
		.map(([keyword, ...params]) => ({keyword: keyword!.toUpperCase(), params}));
	return {hostname: firstWord(first), extensions};
}

function isRateLimit(reply: Reply): boolean {
	return reply.code === 421 || (reply.code >= 400 && reply.code < 500 && /too many|rate.?limit|connection limit|try again later/i.test(reply.text));
}

function firstWord(line: string | undefined): string | undefined {
	return line?.trim().split(/\s+/)[0] || undefined;
}

function firstLine(text: string | undefined): string {
	return (text ?? '').split('\n')[0] ?? '';
}

function clone(state: MachineState): MachineState {
	return {...structuredClone({...state, options: undefined}), options: state.options};
}
