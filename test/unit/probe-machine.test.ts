import {describe, expect, it} from 'vitest';
import {initialState, start, step} from '../../source/core/smtp/machine.js';
import type {MachineAction, MachineInput, MachineState} from '../../source/core/smtp/machine.js';
import {relayPairs} from '../../source/core/smtp/relay-variants.js';
import type {Reply, StageName, TlsInfo} from '../../source/core/types.js';
import {stageNames} from '../../source/core/types.js';

function reply(code: number, ...lines: string[]): Reply {
	const all = lines.length > 0 ? lines : ['ok'];
	return {code, lines: all, text: all.join('\n')};
}

/** Freeze every object reachable from `value`: a step that writes into its input then throws. */
function deepFreeze<T>(value: T): T {
	if (value && typeof value === 'object' && !Object.isFrozen(value)) {
		Object.freeze(value);
		for (const item of Object.values(value)) {
			deepFreeze(item);
		}
	}

	return value;
}

type Input = MachineInput extends infer T ? (T extends MachineInput ? Omit<T, 'at'> : never) : never;

function machine(relay = relayPairs('basic', 'a@example.org', 'b@example.net', 'mx.test', '127.0.0.1'), extra: {skipStartTls?: boolean} = {}) {
	let state: MachineState = start(initialState({
		ehloName: 'probe.example',
		relay,
		deadlines: {banner: 1000, command: 1000, tls: 1000, quit: 500},
		...extra,
	}), 1000).state;
	let at = 0;
	const sent: string[][] = [];
	const feed = (input: Input): MachineAction[] => {
		at += 10;
		// The machine is pure: it must never write into the state it was given.
		const next = step(deepFreeze(state), {at, ...input} as MachineInput);
		state = next.state;
		for (const action of next.actions) {
			if (action.type === 'send') {
				sent.push(action.lines);
			}
		}

		return next.actions;
	};

	return {feed, sent, get state() {
		return state;
	}};
}

const tlsInfo: TlsInfo = {version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', authorized: true, hostnameMatch: true, chain: [], chainIncomplete: false};
const greeting = reply(220, 'mx.test ESMTP');
const ehloTls = reply(250, 'mx.test', 'STARTTLS');
const ehloPipelining = reply(250, 'mx.test', 'PIPELINING', 'STARTTLS');

type Outcome = 'ok' | 'skipped' | `failed:${string}`;
const outcomeOf = (state: MachineState, name: StageName): Outcome => {
	const stage = state.stages[name];
	return stage.state === 'skipped' ? 'skipped' : (stage.outcome === 'failed' ? `failed:${stage.error ?? '?'}` : stage.outcome ?? stage.state as Outcome);
};

/** Dialogues and the facts each stage records: no severity anywhere, only outcome and error. */
const dialogues: Array<{name: string; inputs: Input[]; expect: Partial<Record<StageName, Outcome>>; sent?: string[][]; skipStartTls?: boolean}> = [
	{name: 'a full session with PIPELINING', inputs: [{type: 'connected'}, {type: 'reply', reply: greeting}, {type: 'reply', reply: ehloPipelining}, {type: 'reply', reply: reply(220)}, {type: 'tls-ready', version: 'TLSv1.3'}, {type: 'tls-info', info: tlsInfo}, {type: 'reply', reply: ehloPipelining}, {type: 'reply', reply: reply(250)}, {type: 'reply', reply: reply(554)}, {type: 'reply', reply: reply(221)}],
		expect: {connect: 'ok', banner: 'ok', ehlo: 'ok', starttls: 'ok', tls: 'ok', ehloTls: 'ok', relay: 'ok', quit: 'ok'}},
	{name: 'no STARTTLS offered', inputs: [{type: 'connected'}, {type: 'reply', reply: greeting}, {type: 'reply', reply: reply(250, 'mx.test')}],
		expect: {starttls: 'failed:missing', tls: 'skipped', ehloTls: 'skipped', relay: 'running' as Outcome}},
	{name: 'STARTTLS refused with 454', inputs: [{type: 'connected'}, {type: 'reply', reply: greeting}, {type: 'reply', reply: ehloTls}, {type: 'reply', reply: reply(454, 'TLS not available')}],
		expect: {starttls: 'failed:rejected', tls: 'skipped', relay: 'running' as Outcome}},
	{name: 'STARTTLS answered 221', inputs: [{type: 'connected'}, {type: 'reply', reply: greeting}, {type: 'reply', reply: ehloTls}, {type: 'reply', reply: reply(221, 'bye')}],
		expect: {starttls: 'failed:rejected', tls: 'skipped', relay: 'skipped', quit: 'skipped'}},
	{name: 'EHLO refused, HELO accepted', inputs: [{type: 'connected'}, {type: 'reply', reply: greeting}, {type: 'reply', reply: reply(502, 'no')}, {type: 'reply', reply: reply(250, 'mx.test')}],
		expect: {ehlo: 'ok', starttls: 'failed:missing'}, sent: [['EHLO probe.example'], ['HELO probe.example'], ['MAIL FROM:<a@example.org>']]},
	{name: 'EHLO and HELO refused', inputs: [{type: 'connected'}, {type: 'reply', reply: greeting}, {type: 'reply', reply: reply(502)}, {type: 'reply', reply: reply(502)}],
		expect: {ehlo: 'failed:rejected', starttls: 'skipped', quit: 'running' as Outcome}},
	{name: 'a 554 greeting', inputs: [{type: 'connected'}, {type: 'reply', reply: reply(554, 'go away')}],
		expect: {banner: 'failed:rejected', ehlo: 'skipped'}, sent: [['QUIT']]},
	{name: 'a 421 greeting', inputs: [{type: 'connected'}, {type: 'reply', reply: reply(421, 'too many connections')}],
		expect: {banner: 'failed:rate-limited', quit: 'skipped'}, sent: []},
	{name: 'refused connection', inputs: [{type: 'failed', code: 'refused', message: 'ECONNREFUSED'}],
		expect: {connect: 'failed:refused', banner: 'skipped', quit: 'skipped'}, sent: []},
	{name: 'a handshake that fails', inputs: [{type: 'connected'}, {type: 'reply', reply: greeting}, {type: 'reply', reply: ehloTls}, {type: 'reply', reply: reply(220)}, {type: 'failed', code: 'tls-failed', message: 'wrong version number'}],
		expect: {tls: 'failed:tls-failed', ehloTls: 'skipped', relay: 'skipped'}},
	{name: 'a relay test that times out', inputs: [{type: 'connected'}, {type: 'reply', reply: greeting}, {type: 'reply', reply: reply(250, 'mx.test')}, {type: 'failed', code: 'timeout', message: 'no answer'}],
		expect: {relay: 'failed:timeout', quit: 'skipped'}},
	{name: 'QUIT answered 250 (replies out of step)', inputs: [{type: 'connected'}, {type: 'reply', reply: greeting}, {type: 'reply', reply: reply(250, 'mx.test', 'PIPELINING')}, {type: 'reply', reply: reply(250)}, {type: 'reply', reply: reply(250)}, {type: 'reply', reply: reply(250)}],
		expect: {relay: 'ok', quit: 'failed:out-of-step'}},
	{name: 'the server closes after QUIT', inputs: [{type: 'connected'}, {type: 'reply', reply: greeting}, {type: 'reply', reply: reply(250, 'mx.test')}, {type: 'reply', reply: reply(250)}, {type: 'reply', reply: reply(550)}, {type: 'failed', code: 'closed', message: 'closed'}],
		expect: {relay: 'ok', quit: 'ok'}},
	{name: 'a plaintext retry, STARTTLS offered but not used', skipStartTls: true, inputs: [{type: 'connected'}, {type: 'reply', reply: greeting}, {type: 'reply', reply: ehloPipelining}, {type: 'reply', reply: reply(250)}, {type: 'reply', reply: reply(550)}, {type: 'reply', reply: reply(221)}],
		expect: {ehlo: 'ok', starttls: 'skipped', tls: 'skipped', ehloTls: 'skipped', relay: 'ok', quit: 'ok'},
		sent: [['EHLO probe.example'], ['MAIL FROM:<a@example.org>', 'RCPT TO:<b@example.net>', 'QUIT']]},
];

describe('probe state machine', () => {
	it.each(dialogues)('records the facts of $name', ({inputs, expect: expected, sent, skipStartTls}) => {
		const m = machine(undefined, skipStartTls ? {skipStartTls} : {});
		for (const input of inputs) {
			m.feed(input);
		}

		for (const [name, outcome] of Object.entries(expected) as Array<[StageName, Outcome]>) {
			expect(outcomeOf(m.state, name), name).toBe(outcome);
		}

		if (sent) {
			expect(m.sent).toEqual(sent);
		}

		// Facts only: nothing a check decides is in the state.
		expect(JSON.stringify(m.state.stages)).not.toMatch(/"(?:warning|critical)"/);
	});

	it('arms a deadline of one command for each relay reply, not one for the whole stage', () => {
		const m = machine(relayPairs('thorough', 'a@example.org', 'b@example.net', 'mx.test', '127.0.0.1'));
		m.feed({type: 'connected'});
		m.feed({type: 'reply', reply: greeting});
		const first = m.feed({type: 'reply', reply: reply(250, 'mx.test', 'PIPELINING')});
		expect(first).toContainEqual({type: 'deadline', stage: 'relay', ms: 1000});
		// Each reply in time starts the next one's deadline, until the last hands over to QUIT.
		const replies = [reply(250), reply(554), reply(250)];
		for (const item of replies) {
			expect(m.feed({type: 'reply', reply: item}).filter(action => action.type === 'deadline')).toEqual([{type: 'deadline', stage: 'relay', ms: 1000}]);
		}
	});

	it.each([
		{name: 'a 421 after an accepted attempt', last: {type: 'reply', reply: reply(421, '4.7.0 too many errors')} as Input},
		{name: 'a timeout after an accepted attempt', last: {type: 'failed', code: 'timeout', message: 'no answer'} as Input},
		{name: 'the connection closed after an accepted attempt', last: {type: 'failed', code: 'closed', message: 'closed'} as Input},
	])('keeps an accepted relay attempt as an open relay after $name', ({last}) => {
		const m = machine(relayPairs('thorough', 'a@example.org', 'b@example.net', 'mx.test', '127.0.0.1'));
		m.feed({type: 'connected'});
		m.feed({type: 'reply', reply: greeting});
		m.feed({type: 'reply', reply: reply(250, 'mx.test')});
		m.feed({type: 'reply', reply: reply(250)});
		m.feed({type: 'reply', reply: reply(250, 'accepted')});
		m.feed(last);
		expect(m.state.relay).toMatchObject({tested: true, open: true});
		expect(m.state.relay.inconclusive).toBeUndefined();
		expect(m.state.relay.attempts[0]!.accepted).toBe(true);
	});

	it('keeps the reply that ended a stage as data', () => {
		const m = machine();
		m.feed({type: 'connected'});
		m.feed({type: 'reply', reply: reply(554, '5.7.1 no', 'go away')});
		expect(m.state.stages.banner).toMatchObject({state: 'done', outcome: 'failed', error: 'rejected', reply: {code: 554, text: '5.7.1 no\ngo away'}});
	});

	it('shares every part of the state a step did not change', () => {
		const m = machine();
		m.feed({type: 'connected'});
		const before = m.state;
		m.feed({type: 'reply', reply: greeting});
		const after = m.state;
		expect(after).not.toBe(before);
		expect(after.stages.banner).not.toBe(before.stages.banner);
		expect(after.stages.connect).toBe(before.stages.connect);
		expect(after.relay).toBe(before.relay);
		expect(after.options).toBe(before.options);
		// A finished machine ignores further input and returns the same state.
		const done = machine();
		done.feed({type: 'failed', code: 'refused', message: 'refused'});
		const final = done.state;
		done.feed({type: 'connected'});
		expect(done.state).toBe(final);
	});

	it('pipelines the relay test and QUIT in one batch, without a needless RSET', () => {
		const m = machine();
		m.feed({type: 'connected'});
		m.feed({type: 'reply', reply: reply(220, 'mx.test ESMTP')});
		m.feed({type: 'reply', reply: reply(250, 'mx.test', 'PIPELINING', 'SIZE 1000')});
		expect(m.sent).toEqual([['EHLO probe.example'], ['MAIL FROM:<a@example.org>', 'RCPT TO:<b@example.net>', 'QUIT']]);
		expect(m.state.stages.starttls).toMatchObject({state: 'done', outcome: 'failed', error: 'missing'});
		m.feed({type: 'reply', reply: reply(250)});
		m.feed({type: 'reply', reply: reply(554, 'relay access denied')});
		const last = m.feed({type: 'reply', reply: reply(221)});
		expect(last.at(-1)).toEqual({type: 'close'});
		expect(m.state.stage).toBe('done');
		expect(m.state.stages.relay).toMatchObject({state: 'done', outcome: 'ok'});
		expect(m.state.relay).toMatchObject({tested: true, open: false});
	});

	it('sends one command at a time without PIPELINING, RSET between thorough attempts', () => {
		const m = machine(relayPairs('thorough', 'a@example.org', 'b@example.net', 'mx.test', '127.0.0.1'));
		m.feed({type: 'connected'});
		m.feed({type: 'reply', reply: reply(220)});
		m.feed({type: 'reply', reply: reply(250, 'mx.test')});
		for (let i = 0; i < 16; i++) {
			m.feed({type: 'reply', reply: reply(250)});
			m.feed({type: 'reply', reply: reply(i === 3 ? 250 : 550)});
			if (i < 15) {
				m.feed({type: 'reply', reply: reply(250)});
			}
		}

		expect(m.sent.every(batch => batch.length === 1)).toBe(true);
		expect(m.sent.flat().filter(line => line === 'RSET')).toHaveLength(15);
		expect(m.sent.at(-1)).toEqual(['QUIT']);
		expect(m.state.relay.open).toBe(true);
		expect(m.state.relay.attempts.filter(attempt => attempt.accepted).map(attempt => attempt.label)).toEqual(['sender at the IP literal']);
	});

	it('asks for TLS after 220 to STARTTLS and EHLOs again once it is up', () => {
		const m = machine();
		m.feed({type: 'connected'});
		m.feed({type: 'reply', reply: reply(220)});
		m.feed({type: 'reply', reply: reply(250, 'mx.test', 'STARTTLS')});
		const actions = m.feed({type: 'reply', reply: reply(220, 'go ahead')});
		expect(actions.map(action => action.type)).toEqual(['deadline', 'start-tls']);
		m.feed({type: 'tls-ready', version: 'TLSv1.3'});
		expect(m.sent.at(-1)).toEqual(['EHLO probe.example']);
		expect(m.state.stages.tls).toMatchObject({state: 'done', outcome: 'ok', detail: 'TLSv1.3'});
		// The facts come after EHLO is sent, and nothing is sent for them.
		expect(m.feed({type: 'tls-info', info: tlsInfo})).toEqual([]);
		expect(m.state.tls).toBe(tlsInfo);
	});

	it('never talks on a refused greeting beyond QUIT, and reads 421 as rate limiting', () => {
		const refused = machine();
		refused.feed({type: 'connected'});
		refused.feed({type: 'reply', reply: reply(554, 'no')});
		expect(refused.sent).toEqual([['QUIT']]);
		expect(refused.state.stages.banner).toMatchObject({outcome: 'failed', error: 'rejected'});
		const limited = machine();
		limited.feed({type: 'connected'});
		limited.feed({type: 'reply', reply: reply(421, 'too many connections')});
		expect(limited.state.rateLimited).toContain('too many connections');
		expect(limited.state.stages.ehlo.state).toBe('skipped');
	});

	it('fails on a reply nobody asked for, and marks what was not reached as skipped', () => {
		const m = machine();
		m.feed({type: 'connected'});
		m.feed({type: 'reply', reply: reply(220)});
		m.feed({type: 'reply', reply: reply(250, 'mx.test', 'STARTTLS')});
		m.feed({type: 'reply', reply: reply(220, 'go ahead')});
		m.feed({type: 'reply', reply: reply(250, 'injected')});
		expect(m.state.stage).toBe('done');
		expect(m.state.stages.tls).toMatchObject({outcome: 'failed', error: 'unexpected-reply'});
		expect(m.state.stages.relay.state).toBe('skipped');
		expect(stageNames.every(name => m.state.stages[name].state !== 'pending' && m.state.stages[name].state !== 'running')).toBe(true);
	});

	it('follows the code of a reply that broke the syntax, and keeps the violation on its stage until the stage ends', () => {
		const violation = {error: 'nul-byte' as const, detail: 'a NUL byte in a reply line'};
		const m = machine();
		m.feed({type: 'connected'});
		m.feed({type: 'reply', reply: greeting});
		m.feed({type: 'reply', reply: reply(250, 'mx.test')});
		// The relay stage is running when MAIL's answer carries the violation; RCPT ends it.
		m.feed({type: 'reply', reply: {...reply(250, 'Ok\0'), violation}});
		expect(m.sent.at(-1)).toEqual(['RCPT TO:<b@example.net>']);
		m.feed({type: 'reply', reply: reply(554, 'Relay access denied')});
		expect(m.state.stages.relay).toMatchObject({state: 'done', outcome: 'ok', violation});
		expect(m.state.stages.ehlo.violation).toBeUndefined();
	});

	it('never sends before the greeting, even on a timeout', () => {
		const m = machine();
		m.feed({type: 'connected'});
		m.feed({type: 'failed', code: 'timeout', message: 'no answer'});
		expect(m.sent).toEqual([]);
		expect(m.state.stages.banner).toMatchObject({outcome: 'failed', error: 'timeout'});
	});
});
