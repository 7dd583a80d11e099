// Section 6 of the hostile suite (test/driver/hostile.test.ts): never a relay, never mail. It
// reads every session that sections 1–4 saw, so it is registered last, in the same file.
import {describe, expect, it} from 'vitest';
import {allHostileSessions, bounded} from '../../helpers/hostile-servers.js';
import type {HostileSession} from '../../helpers/hostile-servers.js';
import type {ScriptedServer} from '../../helpers/scripted-server.js';
import {received, scriptedSessions} from './fixtures.js';

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
