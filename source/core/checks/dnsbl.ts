import {defineCheck} from './registry.js';

/** IP blocklists (RFC 5782): is an MX address listed, by a list that answers at all? */
export const dnsbl = defineCheck({
	name: 'dnsbl',
	catalogue: {
		'dnsbl-listed': {severity: 'critical', when: 'the address is listed on an IP blocklist; says the zone, what the 127.0.0.x code means where known, and the TXT reason', advice: 'Find out why (the TXT reason, the list\'s lookup page), fix the cause (an open relay, a compromised account, a dynamic address), then ask the list for removal.'},
		'dnsbl-unusable': {severity: 'info', when: 'a blocklist refused to answer (127.255.255.x: a public or unregistered resolver, a rate limit) or failed its RFC 5782 test entries (127.0.0.2 listed, 127.0.0.1 not): no verdict from it, never "listed"', advice: 'Query blocklists through your own resolver (not a public one), register where the list asks for it, or choose lists with --dnsbl.'},
	},
	address({dnsbl: answers = [], unusableLists = [], result}, _context, report) {
		for (const answer of answers) {
			if (unusableLists.includes(answer.zone)) {
				continue;
			}

			if (answer.listed) {
				const meaning = answer.meanings && answer.meanings.length > 0 ? ` (${answer.meanings.join('; ')})` : '';
				report('dnsbl-listed', `${result.target.ip} is listed on ${answer.zone}: ${answer.codes.join(', ')}${meaning}${answer.text ? `, "${answer.text}"` : ''}.`);
			} else if (answer.error) {
				report('dnsbl-unusable', `${answer.zone} gave no verdict for ${result.target.ip}: ${answer.error}.`);
			}
		}
	},
	run({dnsblHealth = []}, _context, report) {
		for (const health of dnsblHealth) {
			if (!health.usable) {
				report('dnsbl-unusable', `${health.zone} is not used for any address: ${health.detail ?? 'it failed its RFC 5782 test entries'}.`);
			}
		}
	},
});
