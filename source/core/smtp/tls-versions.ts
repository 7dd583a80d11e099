// Which TLS versions an MX host accepts: one extra STARTTLS session per version, each offering
// only that version, one after the other (never two connections to one address at once).
import {tlsVersionNames} from '../policy/types.js';
import type {TlsVersionName, TlsVersionScan} from '../policy/types.js';
import {describeTlsFailure} from '../tls/failure.js';
import type {ProbeResult, ProbeTarget} from '../types.js';
import {probe} from './session.js';
import type {ProbeOptions} from './session.js';

/** What Node's OpenSSL cannot offer at all, so no scan can tell. */
export const untriedVersions: readonly string[] = ['SSLv3 (Node\'s OpenSSL has no SSLv3)', 'SSLv2'];

/** One session's answer for its version: accepted, refused, or not tried (and whether to go on). */
type Attempt = {accepted?: boolean; detail?: string; stop?: boolean};

function judge(result: ProbeResult, version: TlsVersionName): Attempt {
	const {connect, starttls, tls} = result.stages;
	if (tls.state === 'done' && tls.outcome === 'ok') {
		return {accepted: true};
	}

	if (tls.state === 'done') {
		if (tls.error === 'aborted') {
			return {detail: 'not tried: cancelled', stop: true};
		}

		const raw = tls.detail ?? tls.error ?? 'failed';
		let why = tls.error === 'timeout' ? `no answer to the handshake (${raw})` : describeTlsFailure(raw);
		// OpenSSL's words when the server picked a version we did not offer: say what they mean.
		if (/unsupported protocol/i.test(raw)) {
			why = `the server chose another version (${why})`;
		}

		return {accepted: false, detail: `${version} refused: ${why}`};
	}

	// The handshake was never reached: the version stays untried, and the reason says where it stopped.
	if (connect.outcome === 'failed') {
		return {detail: `not tried: the connection failed (${connect.detail ?? connect.error ?? 'unknown error'})`, stop: true};
	}

	if (starttls.outcome === 'failed') {
		const refused = starttls.error === 'missing' ? 'STARTTLS not offered' : `STARTTLS refused (${starttls.reply ? `${starttls.reply.code} ${starttls.reply.text}` : starttls.detail ?? starttls.error ?? 'failed'})`;
		return {detail: `not tried: ${refused}`, stop: starttls.error === 'missing' || starttls.error === 'aborted'};
	}

	const stopped = Object.entries(result.stages).find(([, stage]) => stage.outcome === 'failed');
	const where = stopped ? `the session ended at ${stopped[0]} (${stopped[1].detail ?? stopped[1].error ?? 'failed'})` : 'the session ended before STARTTLS';
	return {detail: `not tried: ${where}`, stop: stopped?.[1].error === 'aborted'};
}

/**
 * Try TLSv1, TLSv1.1, TLSv1.2 and TLSv1.3 in turn, one STARTTLS session each offering only that
 * version, without a relay test (QUIT after the EHLO inside TLS). A host that does not offer
 * STARTTLS or cannot be reached is not asked again; `options.signal` cancels the rest.
 */
export async function scanTlsVersions(target: ProbeTarget, options: ProbeOptions): Promise<TlsVersionScan> {
	const scan: TlsVersionScan = {accepted: {}, detail: {}, untried: [...untriedVersions]};
	for (const [index, version] of tlsVersionNames.entries()) {
		if (options.signal?.aborted) {
			scan.detail[version] = 'not tried: cancelled';
			continue;
		}

		// One session at a time to one address, on purpose; the scan's sessions send no events.
		const result = await probe(target, {...options, relay: 'off', tlsVersion: version, skipStartTls: false, onEvent: undefined});
		const attempt = judge(result, version);
		if (attempt.accepted !== undefined) {
			scan.accepted[version] = attempt.accepted;
		}

		if (attempt.detail) {
			scan.detail[version] = attempt.detail;
		}

		if (attempt.stop) {
			// Asking again would end the same way: every version left says why it was not tried.
			for (const rest of tlsVersionNames.slice(index + 1)) {
				scan.detail[rest] = attempt.detail ?? 'not tried';
			}

			break;
		}
	}

	return scan;
}
