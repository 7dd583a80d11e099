import {parseTlsRpt} from '../policy/tlsrpt.js';
import {silent} from './mta-sts.js';
import {defineCheck} from './registry.js';

/** SMTP TLS reporting (RFC 8460): who hears of the TLS failures senders see. */
export const tlsRpt = defineCheck({
	name: 'tlsrpt',
	catalogue: {
		'tlsrpt-none': {severity: 'info', when: 'no `_smtp._tls` TXT record: nobody hears of the TLS failures senders see', advice: 'Publish `_smtp._tls.<domain>` TXT `v=TLSRPTv1; rua=mailto:tls-reports@<domain>` to receive daily TLS reports (RFC 8460).'},
		'tlsrpt-invalid': {severity: 'warning', when: 'the `v=TLSRPTv1` record has no `rua`, a scheme other than `mailto:`/`https:`, or a malformed URI; says which', advice: 'Fix the record: `v=TLSRPTv1; rua=mailto:<address>` (or an https: URL), several URIs separated by commas.'},
		'tlsrpt-multiple': {severity: 'warning', when: 'more than one `v=TLSRPTv1` record: senders may ignore them all', advice: 'Keep exactly one `v=TLSRPTv1` TXT record at `_smtp._tls.<domain>`.'},
	},
	domain(plan, _context, report, {domain}) {
		if (!domain || silent(domain.tlsRpt.txt) || plan.mx.length === 0) {
			return;
		}

		const name = `_smtp._tls.${plan.domain}`;
		const {txt} = domain.tlsRpt;
		const parsed = 'failure' in txt ? undefined : parseTlsRpt(txt.records);
		if (!parsed || (!parsed.record && !parsed.multiple)) {
			report('tlsrpt-none', `No v=TLSRPTv1 TXT record at ${name}${'failure' in txt && !['nxdomain', 'nodata'].includes(txt.failure.kind) ? ` (the lookup failed: ${txt.failure.message})` : ''}.`);
		} else if (parsed.multiple) {
			report('tlsrpt-multiple', `More than one v=TLSRPTv1 record at ${name}.`);
		} else if (parsed.errors.length > 0) {
			report('tlsrpt-invalid', `The record at ${name} is ${JSON.stringify(parsed.record)}: ${parsed.errors.join('; ')}.`);
		}
	},
});
