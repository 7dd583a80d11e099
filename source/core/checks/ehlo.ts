import {defineCheck, stageLabels, timeoutMessage} from './registry.js';

/** EHLO before and after TLS, the HELO fallback and what the extensions promise. */
export const ehlo = defineCheck({
	name: 'ehlo',
	catalogue: {
		'ehlo-rejected': {severity: 'critical', stage: 'ehlo', when: 'EHLO and HELO both refused (or EHLO refused after TLS; stage says which)', advice: 'Make the server accept EHLO from any client with a proper host name.'},
		'ehlo-no-esmtp': {severity: 'warning', stage: 'ehlo', when: 'EHLO refused, HELO accepted: no ESMTP, so no STARTTLS', advice: 'Enable ESMTP (EHLO): without it there is no STARTTLS, SIZE or PIPELINING.'},
		'ehlo-timeout': {severity: 'critical', stage: 'ehlo', when: 'no answer to EHLO (before or after TLS) within the deadline', advice: 'The server stopped answering after the greeting; check the MTA\'s load and logs.'},
		'size-small': {severity: 'info', stage: 'ehlo', when: 'the advertised SIZE is under 10 MB', advice: 'Raise the message size limit to at least 10 MB (Postfix: message_size_limit), or senders will bounce larger mail.'},
	},
	address({result}, _context, report) {
		for (const name of ['ehlo', 'ehloTls'] as const) {
			const stage = result.stages[name];
			if (stage.error === 'timeout') {
				report('ehlo-timeout', timeoutMessage(name, stage), {stage: name});
			} else if (stage.error === 'rejected') {
				report('ehlo-rejected', `${stageLabels[name]} refused: ${stage.detail ?? ''}.`, {stage: name});
			}
		}

		const {ehlo: facts} = result;
		if (!facts) {
			return;
		}

		if (facts.greeting === 'HELO') {
			report('ehlo-no-esmtp', 'EHLO was refused but HELO accepted: the server speaks plain SMTP only.');
		}

		const extensions = facts.extensionsAfterTls ?? facts.extensions;
		const size = extensions.find(extension => extension.keyword === 'SIZE')?.params[0];
		if (size && /^\d+$/.test(size) && Number(size) > 0 && Number(size) < 10_000_000) {
			report('size-small', `SIZE ${size}: messages over ${(Number(size) / 1_000_000).toFixed(1)} MB are refused.`, {stage: facts.extensionsAfterTls ? 'ehloTls' : 'ehlo'});
		}
	},
});
