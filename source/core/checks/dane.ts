import {tlsaUsable} from '../policy/dane.js';
import {defineCheck} from './registry.js';

const record = (item: {usage: number; selector: number; matchingType: number; data: string}): string => `${item.usage} ${item.selector} ${item.matchingType} ${item.data.slice(0, 16)}${item.data.length > 16 ? '…' : ''}`;

/**
 * DANE for SMTP (RFC 7672): DNSSEC status of each MX host, its TLSA records, and whether they
 * match the chain each address sends. Judged only through a validating resolver.
 */
export const dane = defineCheck({
	name: 'dane',
	catalogue: {
		'dnssec-resolver-not-validating': {severity: 'info', when: '(for the run) the resolver does not set the AD bit even for the signed root: DANE was not judged; says which resolver', advice: 'Use a validating resolver (a local Unbound, as Postfix does for DANE) with --resolver to judge DANE.'},
		'dnssec-insecure': {severity: 'info', when: 'the MX host\'s zone is not DNSSEC-signed: no DANE is possible for it', advice: 'Sign the zone of the MX host (and publish TLSA records) to offer DANE to senders that use it.'},
		'dnssec-bogus': {severity: 'critical', when: 'DNSSEC validation of the MX host or of its TLSA records fails (bogus): DANE senders defer all mail to it', advice: 'Fix the zone\'s signatures or its DS record at the parent (expired RRSIGs, a key rollover gone wrong); check with `delv` or dnsviz.'},
		'dane-none': {severity: 'info', when: 'the MX host\'s zone is signed but has no TLSA at `_25._tcp.<mx>`', advice: 'Publish a TLSA record, e.g. `3 1 1 <SHA-256 of the key>` at _25._tcp.<mx> (and the next key\'s before a rollover).'},
		'dane-tlsa-unusable': {severity: 'warning', when: 'TLSA records exist but none is usable for SMTP (only usages 0/1, an unknown selector or matching type, a digest of the wrong length): TLS becomes mandatory yet unauthenticated', advice: 'Publish usage 3 (DANE-EE) or 2 (DANE-TA) records with selector 0/1 and matching type 1 (SHA-256) or 2 (SHA-512).'},
		'dane-mismatch': {severity: 'critical', when: 'no usable TLSA record matches the chain this address presents (3 x x: the leaf; 2 x x: a CA in the chain as sent, the name checked): DANE senders will not deliver here', advice: 'Publish TLSA records for the certificate the server really sends (or send the matching one); publish the new record before each certificate or key change.'},
		'dane-no-rollover': {severity: 'info', when: 'a single usable TLSA record: a certificate or key change breaks DANE unless the next one is published first', advice: 'Publish a second TLSA record (the next key\'s, or a 2 x x record for the issuing CA) so a change does not break delivery.'},
	},
	mx(host, _plan, _context, report, {mx, validation}) {
		const policy = mx(host.exchange);
		if (!policy || !validation?.validates || host.ipLiteral) {
			return;
		}

		if (policy.dnssec === 'bogus' || policy.tlsaDnssec === 'bogus') {
			const name = policy.dnssec === 'bogus' ? host.exchange : policy.tlsaName;
			report('dnssec-bogus', `DNSSEC validation of ${name} fails (the resolver answers SERVFAIL, and data only with CD set): DANE senders defer all mail to ${host.exchange}.`);
			return;
		}

		if (policy.dnssec === 'insecure') {
			report('dnssec-insecure', `${host.exchange} is in an unsigned zone (no AD bit on its address records)${policy.tlsa.length > 0 ? `; its ${policy.tlsa.length} TLSA record(s) at ${policy.tlsaName} are ignored` : ''}: no DANE.`);
			return;
		}

		if (policy.dnssec !== 'secure') {
			return;
		}

		if (policy.tlsa.length === 0) {
			if (policy.tlsaDnssec === 'secure') {
				report('dane-none', `${host.exchange} is DNSSEC-signed, but there is no TLSA record at ${policy.tlsaName}.`);
			}

			return;
		}

		const usable = policy.tlsa.filter(item => tlsaUsable(item).usable);
		if (usable.length === 0) {
			const reasons = policy.tlsa.map(item => {
				const verdict = tlsaUsable(item);
				return `${record(item)}: ${verdict.usable ? 'usable' : verdict.reason}`;
			});
			report('dane-tlsa-unusable', `None of the ${policy.tlsa.length} TLSA record(s) at ${policy.tlsaName} is usable for SMTP (${reasons.join('; ')}): DANE senders insist on TLS but cannot authenticate it.`);
		} else if (usable.length === 1) {
			report('dane-no-rollover', `A single usable TLSA record at ${policy.tlsaName} (${record(usable[0]!)}): publish the next one before changing the certificate or key.`);
		}
	},
	address({dane: result, result: session}, _context, report) {
		if (result?.checked && result.match === 'mismatch') {
			report('dane-mismatch', `No usable TLSA record matches what ${session.target.ip} sent: ${result.reason ?? 'no match'}. DANE senders will not deliver here.`, {stage: 'tls'});
		}
	},
	run({validation}, _context, report) {
		if (validation && !validation.validates && !validation.failed) {
			report('dnssec-resolver-not-validating', `The resolver ${validation.resolver} does not validate DNSSEC (${validation.detail ?? 'no AD bit'}): DANE was not judged; no DANE verdict is given.`);
		}
	},
});
