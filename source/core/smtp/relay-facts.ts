import type {Draft} from './machine-state.js';
import {firstLine, succeed} from './machine-state.js';

// The relay test's facts, drawn from the replies: pure, like the machine that calls them.

/** The relay test's facts: which attempts were accepted, or why there is no verdict. */
export function finishRelay(s: Draft, at: number): void {
	const {attempts} = s.relay;
	const accepted = attempts.filter(attempt => attempt.accepted).length;
	const temporary = accepted > 0 ? undefined : attempts.find(attempt => isInconclusive(attempt.mailCode) || isInconclusive(attempt.code));
	if (accepted > 0) {
		s.relay = {...s.relay, open: true};
		succeed(s, 'relay', at, {detail: `OPEN: ${accepted} of ${attempts.length} accepted`});
	} else if (temporary) {
		const onMail = isInconclusive(temporary.mailCode);
		const code = onMail ? temporary.mailCode : temporary.code;
		s.relay = {...s.relay, inconclusive: true, reason: `${code} ${firstLine(onMail ? temporary.mailText : temporary.text)}`};
		succeed(s, 'relay', at, {detail: `inconclusive: ${code}`});
	} else {
		succeed(s, 'relay', at, {detail: attempts.length > 1 ? `closed (${attempts.length} variants)` : 'closed'});
	}
}

function isInconclusive(code: number | undefined): boolean {
	return code !== undefined && ((code >= 400 && code < 500) || code === 530);
}

/**
 * The relay test ended before its last reply. A RCPT accepted before that (its reply was in
 * step with the commands) is an open relay whatever ended the session; otherwise no verdict.
 */
export function endRelayEarly(s: Draft, reason: string): void {
	const open = s.relay.attempts.some(attempt => attempt.accepted);
	s.relay = {...s.relay, open, ...(open ? {} : {inconclusive: true}), reason};
}
