import {describe, expect, it} from 'vitest';
import {initialState, start, step} from '../../source/core/smtp/machine.js';
import type {MachineAction, MachineInput, MachineState} from '../../source/core/smtp/machine.js';
import {relayPairs} from '../../source/core/smtp/relay-variants.js';
import type {Reply} from '../../source/core/types.js';

function reply(code: number, ...lines: string[]): Reply {
	const all = lines.length > 0 ? lines : ['ok'];
	return {code, lines: all, text: all.join('\n')};
}

function machine(relay = relayPairs('basic', 'a@example.org', 'b@example.net', 'mx.test', '127.0.0.1')) {
	let state: MachineState = start(initialState({
		ehloName: 'probe.example',
		relay,
		deadlines: {banner: 1000, command: 1000, tls: 1000, quit: 500},
		bannerSlowMs: 300,
	}), 1000).state;
	let at = 0;
	const sent: string[][] = [];
	type Input = MachineInput extends infer T ? (T extends MachineInput ? Omit<T, 'at'> : never) : never;
	const feed = (input: Input): MachineAction[] => {
		at += 10;
		const next = step(state, {at, ...input} as MachineInput);
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

describe('probe state machine', () => {
	it('pipelines the relay test and QUIT in one batch, without a needless RSET', () => {
		const m = machine();
		m.feed({type: 'connected'});
		m.feed({type: 'reply', reply: reply(220, 'mx.test ESMTP')});
		m.feed({type: 'reply', reply: reply(250, 'mx.test', 'PIPELINING', 'SIZE 1000')});
		expect(m.sent).toEqual([['EHLO probe.example'], ['MAIL FROM:<a@example.org>', 'RCPT TO:<b@example.net>', 'QUIT']]);
		expect(m.state.stages.starttls).toMatchObject({status: 'critical', error: 'missing'});
		m.feed({type: 'reply', reply: reply(250)});
		m.feed({type: 'reply', reply: reply(554, 'relay access denied')});
		const last = m.feed({type: 'reply', reply: reply(221)});
		expect(last.at(-1)).toEqual({type: 'close'});
		expect(m.state.stage).toBe('done');
		expect(m.state.stages.relay.status).toBe('ok');
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
		const info = {version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', authorized: true, hostnameMatch: true, chain: [], chainIncomplete: false};
		m.feed({type: 'tls-ready', info});
		expect(m.sent.at(-1)).toEqual(['EHLO probe.example']);
		expect(m.state.stages.tls).toMatchObject({status: 'ok', detail: 'TLSv1.3'});
	});

	it('never talks on a refused greeting beyond QUIT, and reads 421 as rate limiting', () => {
		const refused = machine();
		refused.feed({type: 'connected'});
		refused.feed({type: 'reply', reply: reply(554, 'no')});
		expect(refused.sent).toEqual([['QUIT']]);
		expect(refused.state.stages.banner).toMatchObject({status: 'critical', error: 'rejected'});
		const limited = machine();
		limited.feed({type: 'connected'});
		limited.feed({type: 'reply', reply: reply(421, 'too many connections')});
		expect(limited.state.rateLimited).toContain('too many connections');
		expect(limited.state.stages.ehlo.status).toBe('skipped');
	});

	it('fails on a reply nobody asked for, and marks what was not reached as skipped', () => {
		const m = machine();
		m.feed({type: 'connected'});
		m.feed({type: 'reply', reply: reply(220)});
		m.feed({type: 'reply', reply: reply(250, 'mx.test', 'STARTTLS')});
		m.feed({type: 'reply', reply: reply(220, 'go ahead')});
		m.feed({type: 'reply', reply: reply(250, 'injected')});
		expect(m.state.stage).toBe('done');
		expect(m.state.stages.tls).toMatchObject({status: 'critical', error: 'unexpected-reply'});
		expect(m.state.stages.relay.status).toBe('skipped');
		expect(Object.values(m.state.stages).every(stage => stage.status !== 'pending' && stage.status !== 'running')).toBe(true);
	});

	it('never sends before the greeting, even on a timeout', () => {
		const m = machine();
		m.feed({type: 'connected'});
		m.feed({type: 'failed', code: 'timeout', message: 'no answer'});
		expect(m.sent).toEqual([]);
		expect(m.state.stages.banner).toMatchObject({status: 'critical', error: 'timeout'});
	});
});
