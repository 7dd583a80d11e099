import {defineCheck} from './registry.js';

/** PIPELINING (RFC 2920): without it every sender pays a round trip per command. */
export const pipelining = defineCheck({
	name: 'pipelining',
	catalogue: {
		'ehlo-no-pipelining': {severity: 'info', stage: 'ehlo', when: 'EHLO succeeded but PIPELINING is not advertised: every sender pays a round trip for each of MAIL, RCPT and DATA', advice: 'Enable PIPELINING (Postfix and Exim offer it by default; check that no middlebox strips it).'},
	},
	address({result}, _context, report) {
		const facts = result.ehlo;
		const extensions = facts?.extensionsAfterTls ?? facts?.extensions;
		if (facts?.greeting === 'EHLO' && extensions && !extensions.some(extension => extension.keyword === 'PIPELINING')) {
			report('ehlo-no-pipelining', `The server's EHLO${facts.extensionsAfterTls ? ' after TLS' : ''} lists ${extensions.length} extension(s), not PIPELINING: senders wait for each reply before the next command.`, {stage: facts.extensionsAfterTls ? 'ehloTls' : 'ehlo'});
		}
	},
});
