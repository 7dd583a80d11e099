// What an MTA-STS sender makes of a domain's facts: one derivation for the checks, the delivery
// verdict, the report and the dashboard, so they can never disagree.
import {failureWords} from '../dns/resolver.js';
import {parsePolicy, parseStsRecord, stsRecords} from './mta-sts.js';
import type {MtaStsFacts, StsPolicy} from './types.js';

export type StsState =
	/** No `v=STSv1` record (or the TXT lookup failed: `lookupError`). */
	| {kind: 'none'; lookupError?: string}
	| {kind: 'multiple'; records: string[]}
	| {kind: 'invalid'; raw: string; errors: string[]}
	/** The fetch failed (DNS, connect, TLS, status, redirect, timeout, size) or is not done yet. */
	| {kind: 'unreachable'; raw: string; id: string; reason: string; pending?: true}
	| {kind: 'cert'; raw: string; id: string; reason: string}
	| {kind: 'policy-invalid'; raw: string; id: string; errors: string[]; policy: StsPolicy; body: string}
	| {kind: 'ok'; raw: string; id: string; policy: StsPolicy & {mode: 'enforce' | 'testing' | 'none'; maxAge: number}; body: string};

/** A Content-Type is text/plain, whatever its parameters (RFC 8461 §3.3). */
export function isTextPlain(contentType: string | undefined): boolean {
	return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'text/plain';
}

// Facts are never changed once looked up: each is derived once, not at every check, verdict and
// report that asks (a domain is judged again at every session of its addresses).
const derived = new WeakMap<MtaStsFacts, StsState>();

export function stsState(facts: MtaStsFacts): StsState {
	let state = derived.get(facts);
	if (!state) {
		state = derive(facts);
		derived.set(facts, state);
	}

	return state;
}

/** Why senders see no policy, in a few words (the report's `mtaSts.error`); undefined when they see one. */
export function stsProblem(state: StsState): string | undefined {
	switch (state.kind) {
		case 'none': {
			return state.lookupError;
		}

		case 'multiple': {
			return 'several v=STSv1 records';
		}

		case 'invalid':
		case 'policy-invalid': {
			return state.errors.join('; ');
		}

		case 'unreachable':
		case 'cert': {
			return state.reason;
		}

		case 'ok': {
			return undefined;
		}
	}
}

function derive(facts: MtaStsFacts): StsState {
	if ('failure' in facts.txt) {
		const {failure} = facts.txt;
		return ['nxdomain', 'nodata'].includes(failure.kind) ? {kind: 'none'} : {kind: 'none', lookupError: `${failureWords[failure.kind]} (${failure.message})`};
	}

	const records = stsRecords(facts.txt.records);
	if (records.length === 0) {
		return {kind: 'none'};
	}

	if (records.length > 1) {
		return {kind: 'multiple', records};
	}

	const raw = records[0]!;
	const record = parseStsRecord(raw);
	if (record.errors.length > 0 || !record.id) {
		return {kind: 'invalid', raw, errors: record.errors.length > 0 ? record.errors : ['no id']};
	}

	const {id} = record;
	const {fetch} = facts;
	if (!fetch) {
		return {kind: 'unreachable', raw, id, reason: 'not fetched yet', pending: true};
	}

	if (fetch.certificate && !fetch.certificate.authorized) {
		return {kind: 'cert', raw, id, reason: fetch.certificate.error ?? fetch.error?.message ?? 'certificate not valid'};
	}

	if (fetch.error || fetch.body === undefined) {
		const reason = fetch.error ? `${fetch.error.kind}: ${fetch.error.message}` : `HTTP ${fetch.status ?? '?'} without a body`;
		return {kind: 'unreachable', raw, id, reason};
	}

	const parsed = parsePolicy(fetch.body);
	const errors = [...parsed.errors];
	if (!isTextPlain(fetch.contentType)) {
		errors.push(`the policy is served as ${JSON.stringify(fetch.contentType ?? '(no Content-Type)')}, not text/plain`);
	}

	const {policy} = parsed;
	if (errors.length > 0 || (policy.mode !== 'enforce' && policy.mode !== 'testing' && policy.mode !== 'none') || policy.maxAge === undefined) {
		return {kind: 'policy-invalid', raw, id, errors: errors.length > 0 ? errors : ['incomplete policy'], policy, body: fetch.body};
	}

	return {kind: 'ok', raw, id, policy: {...policy, mode: policy.mode, maxAge: policy.maxAge}, body: fetch.body};
}
