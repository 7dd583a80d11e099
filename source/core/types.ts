export type Severity = 'info' | 'warning' | 'critical';

export type Finding = {
	id: string;
	severity: Severity;
	message: string;
	advice: string;
};

/** The stages of one SMTP session, in order. */
export const stageNames = ['connect', 'banner', 'ehlo', 'starttls', 'tls', 'ehloTls', 'relay', 'quit'] as const;
export type StageName = (typeof stageNames)[number];

export type StageStatus = 'pending' | 'running' | 'ok' | 'warning' | 'critical' | 'skipped';

export type Stage = {
	status: StageStatus;
	/** Milliseconds since the session started. */
	startedAt?: number;
	ms?: number;
	detail?: string;
	/** A stable code for a failure: timeout, refused, line-too-long, … */
	error?: string;
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
	chain: CertInfo[];
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
	attempts: RelayAttempt[];
};

export type BannerInfo = {code: number; text: string; hostname?: string; software?: string; delayMs: number};

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
	/** The software named itself (and maybe its version) in the greeting or EHLO. */
	softwareDisclosed?: boolean;
};

export type MxHost = {
	exchange: string;
	preference: number;
	implicit: boolean;
	ipLiteral: boolean;
	/** The CNAME chain the name went through, if it is an alias. */
	cname?: string[];
	addresses: string[];
	findings: Finding[];
};

export type MxPlan = {
	domain: string;
	/** The name as given, before IDN conversion. */
	input: string;
	mx: MxHost[];
	findings: Finding[];
	/** True when DNS failed in a way that makes the verdict unknown (not the domain's fault). */
	unknown?: boolean;
};

export type PtrInfo = {ptr?: string; ptrNames: string[]; fcrdns?: boolean; error?: string};
