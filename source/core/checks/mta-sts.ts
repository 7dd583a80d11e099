import {stsFailure} from '../policy/delivery.js';
import {matchingPattern} from '../policy/mta-sts.js';
import {stsState} from '../policy/sts-state.js';
import type {StsState} from '../policy/sts-state.js';
import type {TxtAnswer} from '../policy/types.js';
import type {Severity} from '../types.js';
import {defineCheck} from './registry.js';

/** The lookup got no answer at all (timeout, unreachable resolver): nothing to judge. */
export const silent = (txt: TxtAnswer): boolean => 'failure' in txt && (txt.failure.kind === 'timeout' || txt.failure.kind === 'unreachable');
const enforced = (state: StsState): state is Extract<StsState, {kind: 'ok'}> => state.kind === 'ok' && state.policy.mode !== 'none';
const bySender = (mode: string): Severity => (mode === 'enforce' ? 'critical' : 'warning');
const fetchAdvice = 'Serve the policy at https://mta-sts.<domain>/.well-known/mta-sts.txt, status 200, Content-Type text/plain, no redirect, with a WebPKI certificate for mta-sts.<domain>.';

/** MTA-STS (RFC 8461): the _mta-sts record, the policy fetched over HTTPS, and what it demands of each MX host. */
export const mtaSts = defineCheck({
	name: 'mta-sts',
	catalogue: {
		'mta-sts-none': {severity: 'info', when: 'no `_mta-sts` TXT record (or none starting `v=STSv1`): senders fall back to opportunistic TLS', advice: 'Publish an MTA-STS policy (RFC 8461) so that senders such as Gmail and Microsoft insist on authenticated TLS: a `_mta-sts` TXT record and the policy file.'},
		'mta-sts-record-invalid': {severity: 'warning', when: 'the one `v=STSv1` record breaks the syntax (an `id` that is not 1–32 letters and digits, `v=` not first, a bad field); says what was seen', advice: 'Fix the record: `v=STSv1; id=<1–32 letters or digits>;` (change the id whenever the policy changes).'},
		'mta-sts-record-multiple': {severity: 'warning', when: 'more than one `v=STSv1` record: senders treat the domain as having no policy', advice: 'Keep exactly one `v=STSv1` TXT record at `_mta-sts.<domain>`.'},
		'mta-sts-policy-unreachable': {severity: 'warning', when: 'the record is there but the policy could not be fetched; says why (DNS, connect, HTTP status, a redirect (never followed), timeout, over 64 KiB)', advice: fetchAdvice},
		'mta-sts-policy-cert': {severity: 'warning', when: 'the policy host\'s certificate is not valid for `mta-sts.<domain>` under WebPKI (trust, name or dates): senders ignore the policy', advice: 'Give mta-sts.<domain> a certificate from a public CA that names it, and send the full chain.'},
		'mta-sts-policy-invalid': {severity: 'warning', when: 'the policy breaks RFC 8461 §3.2 (version, mode, max_age 0–31557600, no mx outside mode none, a malformed line) or is not served as text/plain; says which', advice: 'Fix the policy file: `version: STSv1`, `mode: enforce|testing|none`, `mx: <pattern>` lines and `max_age: <seconds>`, served as text/plain.'},
		'mta-sts-testing': {severity: 'info', when: 'the policy is in mode `testing`: failures are only reported (TLS-RPT), not enforced', advice: 'Once TLS reports show no failures, switch the policy to `mode: enforce` (and change the record\'s id).'},
		'mta-sts-max-age-short': {severity: 'info', when: '`max_age` is under one day (86400 seconds): the policy barely outlives a DNS change', advice: 'Use a max_age of weeks (RFC 8461 suggests 604800 or more; up to 31557600).'},
		'mta-sts-mx-mismatch': {severity: 'critical', when: 'an MX host name matches no policy `mx` pattern (`*.` covers exactly one left-most label): critical in enforce mode (senders refuse that MX), a warning in testing', advice: 'Add the MX host name (or a `*.` pattern one label above it) to the policy\'s `mx` lines, then change the record\'s id.'},
		'mta-sts-would-fail': {severity: 'critical', when: 'an MTA-STS sender would refuse this address: no STARTTLS, TLS under 1.2, an untrusted or expired certificate, or one not naming the MX host; critical in enforce mode, a warning in testing; says which', advice: 'Give this address STARTTLS with TLS 1.2 or later and a trusted, unexpired certificate whose SAN names the MX host.'},
	},
	domain(plan, _context, report, {domain}) {
		if (!domain) {
			return;
		}

		// A resolver that never answered is said once, by dns-error; no policy verdict rests on it.
		// A domain that takes no mail (null MX, NXDOMAIN, no host) needs no transport policy.
		if (silent(domain.mtaSts.txt) || plan.mx.length === 0) {
			return;
		}

		const state = stsState(domain.mtaSts);
		const name = `_mta-sts.${plan.domain}`;
		switch (state.kind) {
			case 'none': {
				// A failed lookup is not "no policy": a sender would retry it. Say what was seen.
				report('mta-sts-none', state.lookupError ? `The TXT lookup of ${name} failed (${state.lookupError}): no MTA-STS policy could be seen.` : `No v=STSv1 TXT record at ${name}: senders use opportunistic TLS.`);
				break;
			}

			case 'multiple': {
				report('mta-sts-record-multiple', `${state.records.length} v=STSv1 records at ${name} (${state.records.map(record => JSON.stringify(record)).join(', ')}): senders treat ${plan.domain} as having no policy.`);
				break;
			}

			case 'invalid': {
				report('mta-sts-record-invalid', `The record at ${name} is ${JSON.stringify(state.raw)}: ${state.errors.join('; ')}. Senders treat ${plan.domain} as having no policy.`);
				break;
			}

			case 'unreachable': {
				if (!state.pending) {
					report('mta-sts-policy-unreachable', `${domain.mtaSts.fetch?.url ?? 'The policy'} could not be fetched: ${state.reason}. Senders without a cached policy see none.`);
				}

				break;
			}

			case 'cert': {
				report('mta-sts-policy-cert', `The certificate of mta-sts.${plan.domain} is not valid: ${state.reason}. Senders ignore the policy.`);
				break;
			}

			case 'policy-invalid': {
				report('mta-sts-policy-invalid', `The policy at ${domain.mtaSts.fetch?.url ?? `mta-sts.${plan.domain}`} is invalid: ${state.errors.join('; ')}. Senders treat ${plan.domain} as having no policy.`);
				break;
			}

			case 'ok': {
				if (state.policy.mode === 'testing') {
					report('mta-sts-testing', `The policy (id ${state.id}) is in mode testing: senders deliver even when TLS fails, and only report it.`);
				}

				if (state.policy.maxAge < 86_400) {
					report('mta-sts-max-age-short', `max_age is ${state.policy.maxAge} seconds (under a day).`);
				}

				break;
			}
		}
	},
	mx(host, _plan, _context, report, {domain}) {
		const state = domain ? stsState(domain.mtaSts) : undefined;
		if (!state || !enforced(state) || host.ipLiteral || matchingPattern(state.policy.mx, host.exchange)) {
			return;
		}

		report('mta-sts-mx-mismatch', `${host.exchange} matches none of the policy's mx patterns (${state.policy.mx.join(', ')}): MTA-STS senders ${state.policy.mode === 'enforce' ? 'refuse' : 'would refuse (testing: they only report)'} this MX.`, {severity: bySender(state.policy.mode)});
	},
	delivery({result, sts, delivery}, _context, report) {
		// An address no sender reaches has its own findings; a host no pattern matches has the mismatch.
		if (!sts || !enforced(sts) || delivery.opportunistic === 'fail' || !matchingPattern(sts.policy.mx, result.target.exchange)) {
			return;
		}

		const why = stsFailure(result);
		if (why) {
			report('mta-sts-would-fail', `An MTA-STS sender would ${sts.policy.mode === 'enforce' ? 'refuse' : 'only report (testing)'} ${result.target.ip}: ${why}.`, {severity: bySender(sts.policy.mode), stage: result.stages.starttls.outcome === 'ok' ? 'tls' : 'starttls'});
		}
	},
});
