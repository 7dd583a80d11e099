/** Every bound one SMTP session lives under. The README's limits table is made from these. */
export type Limits = {
	/** Longest reply line accepted, in bytes, CRLF included (RFC 5321 §4.5.3.1.5 says 512). */
	maxLineBytes: number;
	/** Most lines in one multi-line reply. */
	maxReplyLines: number;
	/** Most bytes a server may send in one session, before TLS and inside it. */
	maxSessionBytes: number;
	/** Absolute deadlines, per stage, in milliseconds. */
	connectMs: number;
	bannerMs: number;
	commandMs: number;
	tlsMs: number;
	quitMs: number;
	/** A greeting later than this is reported as `banner-slow`. */
	bannerSlowMs: number;
	/** Whole-session ceiling, whatever the stages do. */
	sessionMs: number;
	/** DNS: one query's deadline, the CNAME depth, and how many MX hosts and addresses are probed. */
	dnsMs: number;
	/** Most DNS questions in flight at once: a round's burst overflowed the socket's receive buffer. */
	dnsInFlight: number;
	maxCnameDepth: number;
	maxMxHosts: number;
	maxAddressesPerHost: number;
	maxTranscriptLines: number;
	/** The least time between two connections to one IP (one at a time, and never hammered). */
	perIpPaceMs: number;
	/** The MTA-STS policy fetch: its whole deadline and the most bytes of its body. */
	policyFetchMs: number;
	maxPolicyBytes: number;
};

export const defaultLimits: Limits = {
	maxLineBytes: 2048,
	maxReplyLines: 128,
	maxSessionBytes: 256 * 1024,
	connectMs: 10_000,
	bannerMs: 30_000,
	commandMs: 20_000,
	tlsMs: 15_000,
	quitMs: 5000,
	bannerSlowMs: 5000,
	sessionMs: 180_000,
	dnsMs: 5000,
	dnsInFlight: 128,
	maxCnameDepth: 8,
	maxMxHosts: 16,
	maxAddressesPerHost: 8,
	maxTranscriptLines: 2000,
	perIpPaceMs: 200,
	policyFetchMs: 10_000,
	maxPolicyBytes: 64 * 1024,
};

/** Scale every deadline from one `--timeout` value, keeping their proportions. */
export function limitsWithTimeout(base: Limits, timeoutSeconds: number): Limits {
	const ms = timeoutSeconds * 1000;
	return {
		...base,
		bannerMs: ms,
		commandMs: ms,
		tlsMs: ms,
		connectMs: Math.min(base.connectMs, ms),
		sessionMs: Math.max(base.sessionMs, ms * 8),
	};
}
