import {defineCheck, timeoutMessage} from './registry.js';

/** The safe open-relay test: MAIL FROM and RCPT TO for outside domains, never DATA. */
export const relay = defineCheck({
	name: 'relay',
	catalogue: {
		'open-relay': {severity: 'critical', stage: 'relay', when: 'the server accepted RCPT for an outside domain from an outside sender; every accepted variant is listed', advice: 'Close the relay now: accept mail for other domains only from authenticated or trusted clients (Postfix: reject_unauth_destination, a tight mynetworks).'},
		'relay-inconclusive': {severity: 'info', stage: 'relay', when: 'the relay test got a 4xx (greylisting, rate limit), replies out of step, or could not finish; says why', advice: 'Run again later or from another address; the server deferred the test.'},
		'relay-timeout': {severity: 'warning', stage: 'relay', when: 'the server stopped answering during the relay test (a tarpit?): one reply did not come within the command deadline of the reply before it; no relay verdict', advice: 'The server stopped answering during the relay test (a tarpit?); the relay verdict is unknown.'},
	},
	address({result}, _context, report) {
		const {relay: facts} = result;
		const stage = result.stages.relay;
		if (facts.open) {
			const accepted = facts.attempts.filter(attempt => attempt.accepted);
			const list = accepted.map(attempt => `${attempt.label} (MAIL FROM:<${attempt.mailFrom}> RCPT TO:<${attempt.rcptTo}> → ${attempt.code ?? '?'})`).join('; ');
			report('open-relay', `The server accepted ${accepted.length} of ${facts.attempts.length} relay attempt(s): ${list}.`);
		} else if (stage.error === 'timeout') {
			report('relay-timeout', timeoutMessage('relay', stage));
		} else if (facts.tested && facts.inconclusive) {
			report('relay-inconclusive', `The relay test gave no verdict: ${facts.reason ?? 'unknown reason'}.`);
		}
	},
});
