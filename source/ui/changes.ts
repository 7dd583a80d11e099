import type {Status} from '../core/run/knowledge.js';
import {sanitize} from '../core/sanitize.js';
import type {MxPlan} from '../core/types.js';

/**
 * What changed since the previous round, as the store records it: each change says what it
 * was and what it is now, so the detail screen can show more than that something changed.
 */

/** The key facts of one session of one host, kept to show what changed. */
export type RoundSummary = {at: string; status: Status; fingerprint?: string; validTo?: string; tlsVersion?: string; banner?: string};

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
