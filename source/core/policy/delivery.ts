// What each kind of sender would do with one address now: a plain (opportunistic) sender, an
// MTA-STS sender (RFC 8461 §4-5) and a DANE sender (RFC 7672 §2-3). Pure: facts in, verdict out.
import type {SessionFacts} from '../types.js';
import {matchTlsa} from './dane.js';
import type {StsState} from './sts-state.js';
import {matchingPattern} from './mta-sts.js';
import type {DaneResult, Delivery, MxPolicy, ResolverValidation} from './types.js';

/** Whether DANE applies to this MX host at all, and why not (a resolver that does not validate, an unsigned zone…). */
export function daneApplies(policy: MxPolicy | undefined, validation: ResolverValidation | undefined): {applies: boolean; bogus?: true; reason: string} {
	if (!policy) {
		return {applies: false, reason: 'TLSA not looked up'};
	}

	if (validation && !validation.validates) {
		return {applies: false, reason: validation.failed ? `no answer from the resolver (${validation.detail ?? 'no answer'}): DANE not judged` : `the resolver ${validation.resolver} does not validate DNSSEC: DANE not judged`};
	}

	if (policy.dnssec === 'bogus' || policy.tlsaDnssec === 'bogus') {
		return {applies: false, bogus: true, reason: `DNSSEC validation fails for ${policy.dnssec === 'bogus' ? policy.exchange : policy.tlsaName} (bogus): DANE senders defer all mail`};
	}

	if (policy.dnssec !== 'secure') {
		return {applies: false, reason: policy.dnssec === 'insecure' ? `${policy.exchange} is in an unsigned zone: no DANE` : `the DNSSEC status of ${policy.exchange} is unknown${policy.error ? ` (${policy.error})` : ''}`};
	}

	if (policy.tlsa.length === 0 || policy.tlsaDnssec !== 'secure') {
		return {applies: false, reason: policy.tlsa.length === 0 ? `no TLSA records at ${policy.tlsaName}` : `the TLSA records at ${policy.tlsaName} are not DNSSEC-secure`};
	}

	return {applies: true, reason: `${policy.tlsa.length} TLSA record(s) at ${policy.tlsaName}`};
}

/**
 * The TLSA set of the MX host against the chain this address sent. `checked`: DANE could be
 * judged at all (a validating resolver, a known DNSSEC status); `match` is `none` where it
 * does not apply (unsigned, no TLSA, bogus) or there was no TLS session to match.
 */
export function daneResult(result: SessionFacts, policy: MxPolicy | undefined, validation: ResolverValidation | undefined, now: Date): DaneResult {
	const applies = daneApplies(policy, validation);
	const judged = policy !== undefined && validation?.validates === true && policy.dnssec !== 'unknown';
	if (!applies.applies || !policy) {
		return {checked: judged, match: 'none', reason: applies.reason, records: []};
	}

	// Without a TLS session there is nothing to match: the STARTTLS findings say why, and the
	// delivery verdict says that a DANE sender defers (TLS is mandatory once TLSA is published).
	if (!result.tls) {
		return {checked: true, match: 'none', reason: 'no TLS session to match the TLSA records against', records: []};
	}

	const names = [...new Set([result.target.exchange, policy.tlsaName.replace(/^_25\._tcp\./, '')])];
	return matchTlsa(policy.tlsa, (result.tls.sent ?? []).flatMap(cert => (cert.der ? [{der: cert.der}] : [])), names, now);
}

export type DeliveryFacts = {
	result: SessionFacts;
	/** The MTA-STS state of the domain the address is judged for (undefined: policy layer off). */
	sts?: StsState;
	mxPolicy?: MxPolicy;
	dane?: DaneResult;
	validation?: ResolverValidation;
};

/** Why an MTA-STS sender in enforce mode would refuse this session, or undefined when it would deliver (RFC 8461 §4.2). */
export function stsFailure(result: SessionFacts): string | undefined {
	const {stages, tls} = result;
	if (stages.starttls.outcome !== 'ok') {
		return stages.starttls.state === 'done' ? `no STARTTLS (${stages.starttls.detail ?? stages.starttls.error ?? 'refused'})` : 'no STARTTLS';
	}

	if (!tls || stages.tls.outcome !== 'ok') {
		return `the TLS handshake failed${stages.tls.detail ? ` (${stages.tls.detail})` : ''}`;
	}

	if (['SSLv3', 'TLSv1', 'TLSv1.1'].includes(tls.version)) {
		return `${tls.version} is under TLS 1.2`;
	}

	const expired = tls.chain.find(cert => cert.daysLeft < 0);
	if (expired) {
		return `the certificate "${expired.subject}" expired ${expired.validTo}`;
	}

	if (!tls.authorized) {
		return `the certificate is not trusted (${tls.authorizationError ?? 'no trusted root'})`;
	}

	if (!tls.hostnameMatch) {
		return `the certificate does not name ${result.target.exchange} (${tls.chain[0]?.san.join(', ') || tls.chain[0]?.subject || 'no names'})`;
	}

	return undefined;
}

/** Why a plain sender could not hand mail to this address, or undefined when it could. */
function plainFailure(result: SessionFacts): string | undefined {
	const {connect, banner, ehlo} = result.stages;
	if (connect.outcome !== 'ok') {
		return `no connection (${connect.error ?? connect.detail ?? 'failed'})`;
	}

	if (banner.outcome !== 'ok') {
		return `no 220 greeting (${banner.reply ? `${banner.reply.code} ${banner.reply.text.split('\n')[0]!}` : banner.error ?? 'none'})`;
	}

	if (ehlo.outcome !== 'ok' && result.ehlo?.greeting !== 'HELO') {
		return `EHLO and HELO refused (${ehlo.reply ? String(ehlo.reply.code) : ehlo.error ?? 'no reply'})`;
	}

	return undefined;
}

export function delivery({result, sts, mxPolicy, dane, validation}: DeliveryFacts): Delivery {
	const plain = plainFailure(result);
	const tlsWorks = result.stages.tls.outcome === 'ok';
	const opportunistic = plain ? `fails: ${plain}` : (tlsWorks ? 'delivers over TLS' : 'delivers in plaintext (no working STARTTLS)');

	let mtaSts: Delivery['mtaSts'] = 'none';
	let stsReason = sts ? noPolicyReason(sts) : 'policy layer off';
	if (sts?.kind === 'ok' && sts.policy.mode !== 'none') {
		const {mode, mx} = sts.policy;
		const pattern = matchingPattern(mx, result.target.exchange);
		const failure = plain ?? (pattern ? stsFailure(result) : `${result.target.exchange} matches no policy mx pattern (${mx.join(', ')})`);
		if (!failure) {
			mtaSts = 'deliver';
			stsReason = `${mode}: ${result.target.exchange} matches ${pattern!}, TLS ${result.tls?.version ?? ''} with a valid certificate`;
		} else if (mode === 'testing') {
			mtaSts = 'deliver';
			stsReason = `testing: delivers, and reports that ${failure}`;
		} else {
			mtaSts = 'fail';
			stsReason = `enforce: refuses, ${failure}`;
		}
	}

	let daneVerdict: Delivery['dane'] = 'none';
	const applies = daneApplies(mxPolicy, validation);
	let daneReason = applies.reason;
	if (applies.bogus) {
		daneVerdict = 'fail';
	} else if (applies.applies) {
		if (plain) {
			daneVerdict = 'fail';
			daneReason = `defers: ${plain}`;
		} else if (!tlsWorks || !result.tls) {
			daneVerdict = 'fail';
			daneReason = 'defers: TLSA published, so TLS is mandatory, but STARTTLS or the handshake failed';
		} else if (dane?.match === 'matched') {
			daneVerdict = 'deliver';
			daneReason = `a TLSA record matches the certificate at depth ${dane.depth ?? 0}`;
		} else if (dane?.match === 'unusable') {
			daneVerdict = 'deliver';
			daneReason = 'delivers over TLS without authentication: no TLSA record is usable';
		} else {
			daneVerdict = 'fail';
			daneReason = `defers: ${dane?.reason ?? 'no usable TLSA record matches the certificate'}`;
		}
	}

	if (daneVerdict !== 'none' && mtaSts !== 'none') {
		stsReason += '; a sender that does both follows DANE (RFC 8461 §2)';
	}

	return {opportunistic: plain ? 'fail' : 'deliver', mtaSts, dane: daneVerdict, reasons: {opportunistic, mtaSts: stsReason, dane: daneReason}};
}

function noPolicyReason(sts: StsState): string {
	switch (sts.kind) {
		case 'none': {
			return sts.lookupError ? `the _mta-sts lookup failed: ${sts.lookupError}` : 'no MTA-STS policy';
		}

		case 'multiple': {
			return 'several v=STSv1 records: senders see no policy';
		}

		case 'invalid': {
			return 'the _mta-sts record is invalid: senders see no policy';
		}

		case 'unreachable': {
			return `the policy could not be fetched (${sts.reason}): senders without a cached copy see no policy`;
		}

		case 'cert': {
			return `the policy host's certificate is not valid (${sts.reason}): senders see no policy`;
		}

		case 'policy-invalid': {
			return 'the policy is invalid: senders see no policy';
		}

		case 'ok': {
			return 'mode none: the policy is withdrawn';
		}
	}
}
