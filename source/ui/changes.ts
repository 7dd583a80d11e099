import {tlsaData} from '../core/policy/dane.js';
import {matchingPattern, parsePolicy} from '../core/policy/mta-sts.js';
import {stsState} from '../core/policy/sts-state.js';
import type {DaneResult, DomainPolicy} from '../core/policy/types.js';
import type {Status} from '../core/run/knowledge.js';
import {sanitize} from '../core/sanitize.js';
import type {MxPlan, TlsInfo} from '../core/types.js';

/**
 * What changed since the previous round, as the store records it: each change says what it
 * was and what it is now, so the detail screen can show more than that something changed.
 */

/** The key facts of one session of one host, kept to show what changed. */
export type RoundSummary = {
	at: string; status: Status; fingerprint?: string; validTo?: string; tlsVersion?: string; banner?: string;
	/** The DANE match, when DANE was judged; and the SHA-256 of the leaf's SPKI as sent, to say what changed. */
	dane?: DaneResult['match'];
	spki?: string;
};

/** What changed between two sessions, each as "what old → new" (server text sanitized, cut short). */
export function factChanges(before: RoundSummary, after: RoundSummary): string[] {
	const changes: string[] = [];
	if (before.status !== after.status) {
		changes.push(`status ${before.status} → ${after.status}`);
	}

	if (before.fingerprint !== after.fingerprint) {
		changes.push(`certificate ${short(before.fingerprint)} → ${short(after.fingerprint)}`);
	}

	if (before.validTo !== after.validTo) {
		changes.push(`certificate expiry ${day(before.validTo)} → ${day(after.validTo)}`);
	}

	if (before.tlsVersion !== after.tlsVersion) {
		changes.push(`TLS ${before.tlsVersion ?? 'none'} → ${after.tlsVersion ?? 'none'}`);
	}

	if (before.banner !== after.banner) {
		changes.push(`greeting ${quoted(before.banner)} → ${quoted(after.banner)}`);
	}

	if (before.dane === 'matched' && after.dane === 'mismatch') {
		changes.push(`TLSA no longer matches the certificate: leaf SPKI ${hex(before.spki)} → ${hex(after.spki)}`);
	} else if (before.dane !== undefined && after.dane !== undefined && before.dane !== after.dane) {
		changes.push(`DANE ${before.dane} → ${after.dane}`);
	}

	return changes;
}

function hex(value: string | undefined): string {
	return value ? `${value.slice(0, 8)}…` : 'none';
}

/** The SHA-256 (hex) of the SPKI of the leaf as sent, what a `3 1 1` TLSA record pins; undefined without its DER. */
export function leafSpki(tls: TlsInfo | undefined): string | undefined {
	const der = tls?.sent?.[0]?.der;
	// tlsaData gives '' for a certificate it cannot read: no value, rather than a throw in the store.
	return (der && tlsaData(Buffer.from(der, 'base64'), 1, 1)) || undefined;
}

/** The id of the one valid v=STSv1 record, as senders read it (sts-state.ts), if there is one. */
function policyId(policy: DomainPolicy | undefined): string | undefined {
	const state = policy ? stsState(policy.mtaSts) : undefined;
	return state && 'id' in state ? state.id : undefined;
}

/**
 * Policy drift between two rounds of one domain: a body that changed under the same id (senders
 * that cached it will not fetch it again), and an MX host the policy's `mx` patterns stopped
 * covering (patterns old → new).
 */
export function policyChanges(before: DomainPolicy | undefined, after: DomainPolicy, exchanges: readonly string[]): string[] {
	const oldBody = before?.mtaSts.fetch?.body;
	const newBody = after.mtaSts.fetch?.body;
	if (oldBody === undefined || newBody === undefined) {
		return [];
	}

	const changes: string[] = [];
	const id = policyId(after);
	if (oldBody !== newBody && id !== undefined && id === policyId(before)) {
		changes.push(`MTA-STS policy changed but id stayed ${sanitize(id, 32)}: senders with a cached policy will not re-fetch it (RFC 8461 §3.1)`);
	}

	const oldMx = parsePolicy(oldBody).policy.mx;
	const newMx = parsePolicy(newBody).policy.mx;
	const patterns = (list: string[]): string => (list.length > 0 ? sanitize(list.join(', '), 60) : 'none');
	for (const exchange of exchanges) {
		const host = exchange.replace(/\.$/, '');
		if (matchingPattern(oldMx, host) !== undefined && matchingPattern(newMx, host) === undefined) {
			changes.push(`MTA-STS policy no longer covers ${sanitize(host)}: mx ${patterns(oldMx)} → ${patterns(newMx)}`);
		}
	}

	return changes;
}

function short(fingerprint: string | undefined): string {
	return fingerprint ? `${fingerprint.slice(0, 11)}…` : 'none';
}

/** The date of an ISO time, or what the certificate gave when it is not one. */
function day(time: string | undefined): string {
	return time ? sanitize(time.slice(0, 10)) : 'none';
}

/** A greeting's first line, sanitized and cut so that old → new fits at 80 columns. */
function quoted(banner: string | undefined): string {
	return banner === undefined ? 'none' : `"${sanitize(banner.split('\n')[0] ?? '', 32)}"`;
}

/** Each MX host whose addresses changed: "mx.a.test addresses 192.0.2.1 → 192.0.2.1, 192.0.2.9". */
export function addressChanges(before: MxPlan | undefined, after: MxPlan): string[] {
	if (!before) {
		return [];
	}

	const addresses = (plan: MxPlan): Map<string, string[]> => {
		const map = new Map<string, string[]>();
		for (const mx of plan.mx) {
			map.set(mx.exchange, [...map.get(mx.exchange) ?? [], ...mx.addresses]);
		}

		return map;
	};

	const old = addresses(before);
	const now = addresses(after);
	const list = (ips: string[] | undefined): string => (ips && ips.length > 0 ? [...ips].sort().join(', ') : 'none');
	return [...new Set([...old.keys(), ...now.keys()])].flatMap(exchange => {
		const was = list(old.get(exchange));
		const is = list(now.get(exchange));
		return was === is ? [] : [`${sanitize(exchange)} addresses ${was} → ${is}`];
	});
}
