import type {RelayPair} from './relay-variants.js';
import {InternTable} from '../intern-table.js';
import type {BannerInfo, EhloInfo, Extension, RelayAttempt, RelayResult, Reply, Stage, StageName, TlsInfo} from '../types.js';
import {stageNames} from '../types.js';

/** What the machine waits for, in order: the reply to each command sent. */
export type Expect =
	| {kind: 'banner' | 'ehlo' | 'helo' | 'starttls' | 'ehloTls' | 'rset' | 'quit'}
	| {kind: 'mail' | 'rcpt'; attempt: number};

export type MachineOptions = {
	ehloName: string;
	relay: RelayPair[];
	deadlines: {banner: number; command: number; tls: number; quit: number};
	/** A plaintext retry after a failed TLS handshake: STARTTLS is not tried, even when offered. */
	skipStartTls?: boolean;
};

/**
 * Facts only: what each stage did, what the server said. No severity: the check registry
 * judges. Each step shares every part it did not change with the previous state, so a
 * reference comparison tells what changed.
 */
export type MachineState = {
	readonly options: MachineOptions;
	readonly stage: StageName | 'done';
	readonly stages: Readonly<Record<StageName, Stage>>;
	readonly expect: readonly Expect[];
	/** The next relay attempt to send when commands go one at a time. */
	readonly nextAttempt: number;
	readonly pipelining: boolean;
	readonly quitSent: boolean;
	readonly banner?: BannerInfo;
	readonly ehlo?: EhloInfo;
	readonly tls?: TlsInfo;
	readonly relay: RelayResult;
	readonly rateLimited?: string;
};

/** The state under construction inside one step: a shallow copy, written field by field. */
export type Draft = {-readonly [K in keyof MachineState]: MachineState[K]};

export function expect(s: Draft, ...items: Expect[]): void {
	s.expect = [...s.expect, ...items];
}

export function updateAttempt(s: Draft, index: number, patch: Partial<RelayAttempt>): RelayAttempt {
	const attempt = {...s.relay.attempts[index]!, ...patch};
	s.relay = {...s.relay, attempts: s.relay.attempts.map((item, at) => (at === index ? attempt : item))};
	return attempt;
}

export function setStage(s: Draft, name: StageName, stage: Stage): void {
	s.stages = {...s.stages, [name]: stage};
}

export function begin(s: Draft, stage: StageName, at: number): void {
	s.stage = stage;
	setStage(s, stage, {state: 'running', startedAt: at});
}

export type Ending = Pick<Stage, 'outcome' | 'error' | 'reply' | 'detail'>;

export function end(s: Draft, stage: StageName, at: number, ending: Ending): void {
	const startedAt = s.stages[stage].startedAt ?? at;
	const ms = Math.max(0, Math.round((at - startedAt) * 10) / 10);
	// A violation noted while the stage ran (a relay reply with a NUL) outlives its ending.
	const {violation} = s.stages[stage];
	const done: Stage = {state: 'done', startedAt, ms};
	// The ending's defined keys, in its order (an Object.entries filter cost ~5 µs a stage).
	for (const key in ending) {
		if (ending[key as keyof Ending] !== undefined) {
			(done as Record<string, unknown>)[key] = ending[key as keyof Ending];
		}
	}

	if (violation) {
		done.violation = violation;
	}

	setStage(s, stage, done);
}

/** The stage a reply of this kind answers. */
export function stageOf(kind: Expect['kind']): StageName {
	switch (kind) {
		case 'helo': {
			return 'ehlo';
		}

		case 'rset':
		case 'mail':
		case 'rcpt': {
			return 'relay';
		}

		default: {
			return kind;
		}
	}
}

/** Keep the first syntax violation of a stage's replies on the stage, for the protocol check. */
export function noteViolation(s: Draft, stage: StageName, violation: NonNullable<Stage['violation']>): void {
	if (!s.stages[stage].violation) {
		setStage(s, stage, {...s.stages[stage], violation});
	}
}

export function succeed(s: Draft, stage: StageName, at: number, facts: {reply?: Reply; detail?: string} = {}): void {
	end(s, stage, at, {outcome: 'ok', ...(facts.reply ? {reply: data(facts.reply)} : {}), ...(facts.detail ? {detail: facts.detail} : {})});
}

export function skip(s: Draft, stages: StageName[], detail: string): void {
	const skipped: Stage = {state: 'skipped', detail};
	s.stages = {...s.stages, ...Object.fromEntries(stages.map(name => [name, skipped]))};
}

export function skipPending(s: Draft, detail: string): void {
	const names = stageNames.filter(name => s.stages[name].state === 'pending');
	if (names.length > 0) {
		skip(s, names, detail);
	}
}

export function data(reply: Reply): {code: number; text: string} {
	return {code: reply.code, text: reply.text};
}

export function offers(extensions: Extension[], keyword: string): boolean {
	return extensions.some(extension => extension.keyword === keyword);
}

type ParsedEhlo = {readonly hostname?: string; readonly extensions: Extension[]};

// A provider's addresses answer EHLO alike: one parse kept per distinct reply, not ~2 KB of
// objects a session.
const parsedEhlo = new InternTable<ParsedEhlo>(1000);

export function parseEhlo(reply: Reply): ParsedEhlo {
	return parsedEhlo.get(reply.lines.join('\n'), () => {
		const [first, ...rest] = reply.lines;
		const extensions = rest
			.map(line => line.trim().split(/\s+/))
			.filter(words => words[0])
			.map(([keyword, ...params]) => ({keyword: keyword!.toUpperCase(), params}));
		return {hostname: firstWord(first), extensions};
	});
}

export function isRateLimit(reply: Reply): boolean {
	return reply.code === 421 || (reply.code >= 400 && reply.code < 500 && /too many|rate.?limit|connection limit|try again later/i.test(reply.text));
}

export function firstWord(line: string | undefined): string | undefined {
	return line?.trim().split(/\s+/)[0] || undefined;
}

export function firstLine(text: string | undefined): string {
	return (text ?? '').split('\n')[0] ?? '';
}
