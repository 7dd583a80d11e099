// The policy layer's facts: what DNS and the policy host said, as data. The checks judge them.
import type {DnsFailure} from '../types.js';

/** A TXT lookup: the strings of every record (each record's strings joined), or why there were none. */
export type TxtAnswer = {records: string[]; cname?: string[]} | {failure: DnsFailure};

/** Why the policy fetch gave no policy. */
export type FetchErrorKind = 'dns' | 'connect' | 'tls' | 'http-status' | 'redirect' | 'timeout' | 'too-large' | 'protocol';

/** The GET of https://mta-sts.<domain>/.well-known/mta-sts.txt, as it went. */
export type PolicyFetch = {
	url: string;
	/** The address it connected to (resolved through mxdash's resolver). */
	ip?: string;
	ms: number;
	status?: number;
	contentType?: string;
	/** The Location of a 3xx, never followed. */
	location?: string;
	/** The body as received (at most 64 KiB), decoded as UTF-8; only for a 200. */
	body?: string;
	/** The policy host's certificate under WebPKI for mta-sts.<domain> (Node's roots plus --ca). */
	certificate?: {authorized: boolean; error?: string; subject?: string; issuer?: string; validTo?: string; san?: string[]};
	error?: {kind: FetchErrorKind; message: string};
};

export type MtaStsFacts = {
	txt: TxtAnswer;
	/** Made when exactly one record starts `v=STSv1;` (whatever its syntax), else undefined. */
	fetch?: PolicyFetch;
};

export type DomainPolicy = {mtaSts: MtaStsFacts; tlsRpt: {txt: TxtAnswer}};

/** DNSSEC status of an answer, from the validating resolver's AD bit (and a CD retry after SERVFAIL). */
export type DnssecStatus = 'secure' | 'insecure' | 'bogus' | 'unknown';

export type TlsaRecord = {usage: number; selector: number; matchingType: number; /** hex, lower case */ data: string};

/** The TLSA set of one MX host, looked up once per round. */
export type MxPolicy = {
	exchange: string;
	/** The name the TLSA set was found at (`_25._tcp.<target>` for an alias, else `_25._tcp.<mx>`). */
	tlsaName: string;
	/** Of the MX host's own address records. */
	dnssec: DnssecStatus;
	/** Of the TLSA answer (NXDOMAIN/NODATA proven or not). */
	tlsaDnssec: DnssecStatus;
	tlsa: TlsaRecord[];
	/** A lookup failure other than no-such-record (SERVFAIL, timeout), in words. */
	error?: string;
};

/** Whether the resolver validates: asked once per run (the root's DNSKEY with DO set must come back with AD). */
/** `failed`: the query itself got no answer (a mute or unreachable resolver): nothing is said of validation then. */
export type ResolverValidation = {resolver: string; validates: boolean; detail?: string; failed?: true};

/** One blocklist's answer for one address. */
export type DnsblAnswer = {
	zone: string;
	listed: boolean;
	/** The 127.x.y.z answers. */
	codes: string[];
	/** The meanings of known codes (Spamhaus ZEN 127.0.0.2 = SBL …). */
	meanings?: string[];
	text?: string;
	/** The list refused (127.255.255.252–255) or the lookup failed: no verdict. */
	error?: string;
};

/** A blocklist's RFC 5782 self-test, once per run: 127.0.0.2 must be listed and 127.0.0.1 not. */
export type DnsblHealth = {zone: string; usable: boolean; detail?: string};

export const tlsVersionNames = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersionName = (typeof tlsVersionNames)[number];

/** One extra session per version; a version that could not be tried (the server never offered STARTTLS) is absent. */
export type TlsVersionScan = {
	accepted: Partial<Record<TlsVersionName, boolean>>;
	/** Per version, why it was refused or not tried, in words. */
	detail: Partial<Record<TlsVersionName, string>>;
	/** What Node's OpenSSL cannot try at all. */
	untried: string[];
};

export type Verdict = 'deliver' | 'fail' | 'none';
export type Delivery = {opportunistic: 'deliver' | 'fail'; mtaSts: Verdict; dane: Verdict; /** Per sender, why, in a few words. */ reasons: {opportunistic: string; mtaSts: string; dane: string}};

/** An MTA-STS policy body as parsed (RFC 8461 §3.2): the fields found, and every rule it breaks. */
export type StsPolicy = {version?: string; mode?: string; maxAge?: number; mx: string[]};
export type ParsedPolicy = {policy: StsPolicy; errors: string[]};

/** How one TLSA record fared against the chain the server sent. */
export type DaneRecordMatch = {record: TlsaRecord; usable: boolean; /** Why it is unusable, or why it did not match. */ reason?: string; /** 0 = the leaf, 1 = the next certificate sent, … */ matchedDepth?: number};

/** DANE for one address: judged only when the MX host and its TLSA set are DNSSEC-secure. */
export type DaneResult = {
	checked: boolean;
	match: 'matched' | 'mismatch' | 'unusable' | 'none';
	/** The depth in the chain as sent of the first certificate a usable record matched. */
	depth?: number;
	/** How many of the records are usable for SMTP (more than one: a key rollover, or both usages). */
	usable?: number;
	reason?: string;
	records: DaneRecordMatch[];
};
