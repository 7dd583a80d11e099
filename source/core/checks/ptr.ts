import {defineCheck} from './registry.js';

/** Reverse DNS of an MX address, forward-confirmed. */
export const ptr = defineCheck({
	name: 'ptr',
	catalogue: {
		'ptr-missing': {severity: 'warning', when: 'an MX address has no PTR record', advice: 'Ask whoever owns the address block to set a PTR record naming the mail host; many receivers penalise mail from addresses without one.'},
		'ptr-mismatch': {severity: 'info', when: 'the PTR name does not resolve back to the address (no FCrDNS)', advice: 'Make the PTR name resolve back to the same address (forward-confirmed reverse DNS).'},
	},
	address({result, ptr: info}, _context, report) {
		const {ip} = result.target;
		if (!info || info.error) {
			return;
		}

		if (info.ptrNames.length === 0) {
			report('ptr-missing', `${ip} has no PTR record.`);
		} else if (info.fcrdns === false) {
			report('ptr-mismatch', `${ip} has the PTR ${info.ptrNames.join(', ')}, which does not resolve back to ${ip}.`);
		}
	},
});
