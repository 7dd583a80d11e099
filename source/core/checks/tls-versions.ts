import {defineCheck} from './registry.js';

/** With --tls-versions (or the dashboard's scan): which protocol versions the address accepts. */
export const tlsVersions = defineCheck({
	name: 'tls-versions',
	catalogue: {
		'tls-legacy-accepted': {severity: 'warning', stage: 'tls', when: 'with `--tls-versions`: the address accepts TLS 1.0 or 1.1 (deprecated by RFC 8996)', advice: 'Disable TLS 1.0 and 1.1 (Postfix: smtpd_tls_protocols = >=TLSv1.2; also smtpd_tls_mandatory_protocols); MTA-STS senders refuse them anyway.'},
	},
	address({tlsVersions: scan, result}, _context, report) {
		const legacy = (['TLSv1', 'TLSv1.1'] as const).filter(version => scan?.accepted[version] === true);
		if (legacy.length > 0) {
			report('tls-legacy-accepted', `${result.target.ip} accepts ${legacy.join(' and ')} (one session per version, each offering only that version).`);
		}
	},
});
