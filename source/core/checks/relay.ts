import type {ProbeResult} from '../types.js';
import {defineCheck, firstLine, timeoutMessage} from './registry.js';

/**
 * The 421 says the server ended the session because of the errors it answered (chasquid
 * after three, Postfix's smtpd_hard_error_limit, Exim's syntax error limit), not because
 * of a connection limit: the relay test's own refused variants led to it.
 */
const errorLimit = /too many (?:[\w-]+ ){0,3}(?:errors|commands)|too many bad\b/i;

/** The 421 that ended the relay test because of too many errors, if that is what ended it. */
export function endedAfterErrors(result: Pick<ProbeResult, 'stages'>): {code: number; text: string} | undefined {
	const {reply, error} = result.stages.relay;
	return error === 'rate-limited' && reply?.code === 421 && errorLimit.test(reply.text) ? reply : undefined;
}

/** The safe open-relay test: MAIL FROM and RCPT TO for outside domains, never DATA. */
export const relay = defineCheck({
	name: 'relay',
	catalogue: {
		'open-relay': {severity: 'critical', stage: 'relay', when: 'the server accepted RCPT for an outside domain from an outside sender; every accepted variant is listed', advice: 'Close the relay now: accept mail for other domains only from authenticated or trusted clients (Postfix: reject_unauth_destination, a tight mynetworks).'},
		'relay-inconclusive': {severity: 'info', stage: 'relay', when: 'the relay test got a 4xx (greylisting, rate limit), replies out of step, or could not finish; says why', advice: 'Run again later or from another address; the server deferred the test.'},
		// Info, not warning: ending the session after repeated errors is what RFC 5321 §4.3.2
		// allows and a defence against cross-protocol attacks; nothing on the server needs
		// fixing. What it costs is coverage: the variants after it were not tried.
		'session-ended-after-errors': {severity: 'info', stage: 'relay', when: 'the server ended the session (421) after the errors the relay test\'s refused variants caused; says which variants were not tried', advice: 'Nothing to fix: the server closes sessions that collect errors. The variants not tried have no verdict; run --relay basic, or again from another address, to test them.'},
		'relay-timeout': {severity: 'warning', stage: 'relay', when: 'the server stopped answering during the relay test (a tarpit?): one reply did not come within the command deadline of the reply before it; no relay verdict', advice: 'The server stopped answering during the relay test (a tarpit?); the relay verdict is unknown.'},
	},
	address({result}, _context, report) {
		const {relay: facts} = result;
		const stage = result.stages.relay;
		if (facts.open) {
			const accepted = facts.attempts.filter(attempt => attempt.accepted);
			const list = accepted.map(attempt => `${attempt.label} (MAIL FROM:<${attempt.mailFrom}> RCPT TO:<${attempt.rcptTo}> → ${attempt.code ?? '?'})`).join('; ');
			report('open-relay', `The server accepted ${accepted.length} of ${facts.attempts.length} relay attempt(s): ${list}.`);
		} else if (endedAfterErrors(result)) {
			const reply = endedAfterErrors(result)!;
			// Answered at MAIL or at RCPT; the variant the 421 answered has no verdict of its own.
			const answered = facts.attempts.filter(attempt => attempt.mailCode !== 421 && attempt.code !== 421 && (attempt.code ?? attempt.mailCode) !== undefined);
			const accepted = answered.filter(attempt => attempt.accepted);
			const untried = facts.attempts.filter(attempt => !answered.includes(attempt));
			const list = untried.map(attempt => attempt.label).join('; ');
			// An accepted variant is evidence whatever ended the session: it is never hidden.
			const open = accepted.length > 0 ? ` (accepted before it: ${accepted.map(attempt => `${attempt.label} → ${attempt.code ?? '?'}`).join('; ')})` : '';
			report('session-ended-after-errors', `The server ended the session after errors (${reply.code} ${firstLine(reply.text)}) once ${answered.length - accepted.length} of ${facts.attempts.length} relay variant(s) had been refused${open}; not tried (or cut off by the 421): ${list || 'none'}.`);
		} else if (stage.error === 'timeout') {
			report('relay-timeout', timeoutMessage('relay', stage));
		} else if (facts.tested && facts.inconclusive) {
			report('relay-inconclusive', `The relay test gave no verdict: ${facts.reason ?? 'unknown reason'}.`);
		}
	},
});
