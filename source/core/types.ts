import type {CheckName, FindingId} from './checks/index.js';

export type Severity = 'info' | 'warning' | 'critical';

/** A judgement of the check registry, never of the engine. */
export type Finding = {
	id: FindingId;
	severity: Severity;
	/** The session stage it judges, where there is one. */
	stage?: StageName;
	/** The registry module that made it. */
	check: CheckName;
	message: string;
	advice: string;
};

/** The stages of one SMTP session, in order. */
export const stageNames = ['connect', 'banner', 'ehlo', 'starttls', 'tls', 'ehloTls', 'relay', 'quit'] as const;
export type StageName = (typeof stageNames)[number];

/** The server broke the protocol (Go's textproto.ProtocolError), as opposed to saying no. */
export const protocolErrors = ['line-too-long', 'reply-too-large', 'session-too-large', 'bad-reply', 'code-changed', 'nul-byte', 'unexpected-reply', 'out-of-step'] as const;
export type ProtocolError = (typeof protocolErrors)[number];

/** Every way a stage can fail: one list for the machine, its driver, the checks and the views. */
export const stageErrors = [
	// The connection itself.
	'timeout', 'refused', 'unreachable', 'reset', 'closed', 'socket-error', 'aborted',
	// The server said no (the reply is on the stage), or did not offer the extension.
	'rejected', 'rate-limited', 'missing',
	'tls-failed',
	...protocolErrors,
] as const;
export type StageError = (typeof stageErrors)[number];

/** A stage's lifecycle, and once done its outcome: facts only, the checks judge them. */
export type Stage = {
	state: 'pending' | 'running' | 'done' | 'skipped';
	outcome?: 'ok' | 'failed';
	error?: StageError;
	/** The reply that ended the stage, as data. */
	reply?: {code: number; text: string};
	/** Milliseconds since the session started. */
	startedAt?: number;
	ms?: number;
	/** What happened, in words (an error message, "not advertised", why it was skipped). */
	detail?: string;
	/**
	 * A reply of this stage broke the syntax but still carried a code (the first such): the
	 * stage follows the code, and this records the violation for the protocol check.
	 */
	violation?: {error: ProtocolError; detail: string};
};

export type Direction = 'client' | 'server' | 'info';

export type TranscriptLine = {
	/** Milliseconds since the session started. */
	t: number;
	dir: Direction;
	text: string;
	/** True once the session runs inside TLS. */
	tls?: boolean;
};

export type Reply = {
	code: number;
	lines: string[];
	/** The text of every line, without the code and separator, joined by newlines. */
	text: string;
	/** The reply broke the syntax (a NUL byte) but its code is clear: read on, note it. */
	violation?: {error: ProtocolError; detail: string};
};

export type Extension = {keyword: string; params: string[]};

export type CertInfo = {
	subject: string;
	issuer: string;
	serialNumber: string;
	validFrom: string;
	validTo: string;
	daysLeft: number;
	san: string[];
	fingerprint256: string;
	keyType: string;
	keyBits?: number;
	curve?: string;
	signatureAlgorithm: string;
	selfSigned: boolean;
	ca: boolean;
	/** The certificate itself, DER in base64: only in the chain as sent (DANE matches it). */
	der?: string;
};

export type TlsInfo = {
	version: string;
	cipher: string;
	cipherStandardName?: string;
	keyExchange?: string;
	authorized: boolean;
	authorizationError?: string;
	hostnameMatch: boolean;
	hostnameError?: string;
	/** The verified path: the certificates sent, in issuer order, completed from the trusted roots. */
	chain: CertInfo[];
	/** The certificates exactly as the server sent them, in its order (each with its DER). */
	sent?: CertInfo[];
	/** The chain as built ended at a certificate whose issuer was neither sent nor known. */
	chainIncomplete: boolean;
};

export type RelayAttempt = {
	label: string;
	mailFrom: string;
	rcptTo: string;
	code?: number;
	text?: string;
	mailCode?: number;
	mailText?: string;
	accepted: boolean;
};

export type RelayResult = {
	tested: boolean;
	open: boolean;
	/** Why the test did not run or gave no verdict. */
	reason?: string;
	inconclusive?: boolean;
	/** Tested on a second, plaintext connection, after the TLS handshake of the first failed. */
	plaintextRetry?: boolean;
	attempts: RelayAttempt[];
};

export type BannerInfo = {
	code: number;
	text: string;
	hostname?: string;
	software?: string;
	/** The software's version alone, where the greeting or EHLO discloses one. */
	softwareVersion?: string;
	delayMs: number;
};

export type EhloInfo = {
	hostname?: string;
	/** The command the server accepted: EHLO, HELO, or none. */
	greeting: 'EHLO' | 'HELO' | 'none';
	extensions: Extension[];
	extensionsAfterTls?: Extension[];
	code?: number;
	text?: string;
};

export type ProbeTarget = {
	domain?: string;
	/** The MX host name (SNI and the name check use it), or the IP literal when the MX is one. */
	exchange: string;
	ip: string;
	port: number;
};

export type ProbeResult = {
	target: ProbeTarget;
	family: 4 | 6;
	startedAt: string;
	ms: number;
	stages: Record<StageName, Stage>;
	banner?: BannerInfo;
	ehlo?: EhloInfo;
	tls?: TlsInfo;
	relay: RelayResult;
	transcript: TranscriptLine[];
	/** Bytes the server sent after its 220 to STARTTLS, before the handshake: discarded. */
	injectedBytes?: number;
	/** Set when a reply said 421 or "too many connections". */
	rateLimited?: string;
	software?: string;
	/** The software's version alone (Sendmail 8.17.1.9), where the greeting or EHLO discloses one. */
	softwareVersion?: string;
	/** The software named itself (and maybe its version) in the greeting or EHLO. */
	softwareDisclosed?: boolean;
};

/** A session's facts but its transcript: all the checks judge (the knowledge keeps the transcript packed). */
export type SessionFacts = Omit<ProbeResult, 'transcript'>;

export type DnsFailure = {kind: 'nxdomain' | 'nodata' | 'servfail' | 'refused' | 'timeout' | 'unreachable' | 'other'; code: string; message: string};

export type MxHost = {
	exchange: string;
	preference: number;
	implicit: boolean;
	ipLiteral: boolean;
	/** The CNAME chain the name went through, if it is an alias. */
	cname?: string[];
	/** The chain loops or is longer than the limit: no address was looked up. */
	cnameLoop?: boolean;
	addresses: string[];
	/** The port given with --server HOST:PORT; without it, the run's port. */
	port?: number;
	/** Why the A and AAAA lookups gave nothing, when they did. */
	lookupFailures?: DnsFailure[];
};

/** What the MX query said: records (how many, how many null), a failure, or no MX at all. */
export type MxQuery =
	| {answer: 'records'; records: number; nullRecords: number; hosts: number}
	| {answer: 'failed'; failure: DnsFailure}
	| {answer: 'none'}
	/** No MX query at all: the server was given directly (--server). */
	| {answer: 'direct'};

export type MxPlan = {
	domain: string;
	/** The name as given, before IDN conversion. */
	input: string;
	query: MxQuery;
	mx: MxHost[];
	/** The resolver never answered: the verdict is unknown (not the domain's fault). */
	unknown?: boolean;
};

export type PtrInfo = {ptr?: string; ptrNames: string[]; fcrdns?: boolean; error?: string};
