import {X509Certificate} from 'node:crypto';
import type {CertInfo} from '../types.js';

const dayMs = 86_400_000;

const signatureOids: Record<string, string> = {
	'1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
	'1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
	'1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
	'1.2.840.113549.1.1.10': 'rsassaPss',
	'1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
	'1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
	'1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
	'1.2.840.10040.4.3': 'dsaWithSHA1',
	'1.2.840.10045.4.1': 'ecdsa-with-SHA1',
	'1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
	'1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
	'1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
	'1.3.101.112': 'Ed25519',
	'1.3.101.113': 'Ed448',
};

/** Read one DER tag-length header at `at`; returns where its content starts and ends. */
export function derItem(der: Uint8Array, at: number): {start: number; end: number} | undefined {
	let length = der[at + 1];
	let start = at + 2;
	if (length === undefined) {
		return undefined;
	}

	if (length & 0x80) {
		const count = length & 0x7F;
		if (count === 0 || count > 4) {
			return undefined;
		}

		length = 0;
		for (let i = 0; i < count; i++) {
			length = (length * 256) + (der[start + i] ?? 0);
		}

		start += count;
	}

	const end = start + length;
	return end <= der.length ? {start, end} : undefined;
}

/** The signatureAlgorithm of a certificate, read from its DER (Node has no getter for it). */
export function signatureAlgorithm(der: Uint8Array): string {
	const certificate = derItem(der, 0);
	const tbs = certificate && derItem(der, certificate.start);
	const algorithm = tbs && derItem(der, tbs.end);
	const oid = algorithm && der[algorithm.start] === 0x06 ? derItem(der, algorithm.start) : undefined;
	if (!oid) {
		return 'unknown';
	}

	const bytes = der.subarray(oid.start, oid.end);
	const parts = [Math.floor(bytes[0]! / 40), bytes[0]! % 40];
	let value = 0;
	for (const byte of bytes.subarray(1)) {
		value = (value * 128) + (byte & 0x7F);
		if (!(byte & 0x80)) {
			parts.push(value);
			value = 0;
		}
	}

	const dotted = parts.join('.');
	return signatureOids[dotted] ?? dotted;
}

function distinguishedName(text: string): string {
	return text.split('\n').filter(Boolean).join(', ');
}

/**
 * What a certificate says, without its dates' distance from now: parsed once per certificate.
 * `latest`: the last facts handed out (with and without the DER), the same object for every
 * session that sees the certificate on the same day (never changed once made).
 */
type Parsed = {info: Omit<CertInfo, 'daysLeft'>; validTo: number; der?: string; latest?: CertInfo; latestDer?: CertInfo};
const parsed = new Map<string, Parsed>();

function parsedOf(x509: X509Certificate): Parsed {
	// The fingerprint is a digest OpenSSL computes in microseconds; the DER in base64 (1–2 KB) is
	// made once per certificate, not once per session.
	const key = x509.fingerprint256;
	let entry = parsed.get(key);
	if (!entry) {
		const info = parseCertificate(x509);
		entry = {info, validTo: Date.parse(info.validTo)};
		if (parsed.size >= 4096) {
			parsed.clear();
		}

		parsed.set(key, entry);
	}

	return entry;
}

/**
 * A certificate's facts. The same certificates come back in every session with a server (and
 * its intermediates with many servers): parsing and verifying each again cost ~1.5 ms a probe,
 * and a copy of the facts per session ~0.6 KB of memory (three per session, 10,000 sessions).
 * With `der`, its DER in base64 too, the same string for every session.
 */
export function certInfo(x509: X509Certificate, now: Date, der = false): CertInfo {
	const entry = parsedOf(x509);
	const daysLeft = Math.floor((entry.validTo - now.getTime()) / dayMs);
	if (!der) {
		if (entry.latest?.daysLeft !== daysLeft) {
			entry.latest = {...entry.info, daysLeft};
		}

		return entry.latest;
	}

	if (entry.latestDer?.daysLeft !== daysLeft) {
		entry.der ??= x509.raw.toString('base64');
		entry.latestDer = {...entry.info, daysLeft, der: entry.der};
	}

	return entry.latestDer;
}

function parseCertificate(x509: X509Certificate): Omit<CertInfo, 'daysLeft'> {
	const der = x509.raw;
	const key = x509.publicKey;
	const details = key.asymmetricKeyDetails ?? {};
	const validTo = new Date(x509.validTo);
	const selfSigned = x509.checkIssued(x509) && safeVerify(x509);
	return {
		subject: distinguishedName(x509.subject),
		issuer: distinguishedName(x509.issuer),
		serialNumber: x509.serialNumber,
		validFrom: new Date(x509.validFrom).toISOString(),
		validTo: validTo.toISOString(),
		san: (x509.subjectAltName ?? '').split(', ').filter(Boolean),
		fingerprint256: x509.fingerprint256,
		keyType: key.asymmetricKeyType ?? 'unknown',
		...(details.modulusLength ? {keyBits: details.modulusLength} : {}),
		...(details.namedCurve ? {curve: details.namedCurve, keyBits: curveBits(details.namedCurve)} : {}),
		signatureAlgorithm: signatureAlgorithm(der),
		selfSigned,
		ca: x509.ca,
	};
}

function safeVerify(x509: X509Certificate): boolean {
	try {
		return x509.verify(x509.publicKey);
	} catch {
		return false;
	}
}

function curveBits(curve: string): number | undefined {
	const bits = /(\d{3})/.exec(curve)?.[1];
	return bits ? Number(bits) : undefined;
}

/** At most this many certificates of one chain are kept: a server may send hundreds. */
const maxChain = 16;

/**
 * The certificates exactly as the server sent them, in its order (all of them: the verified path
 * may take its issuers from anywhere in the stack). Node's X509Certificate of the peer links each
 * certificate to the next one of the sent stack through issuerCertificate, whatever they are:
 * duplicates and strays stay. OpenSSL takes at most 100 KB of certificates from a peer.
 */
export function sentOf(leaf: X509Certificate): X509Certificate[] {
	const sent: X509Certificate[] = [];
	let cert: X509Certificate | undefined = leaf;
	while (cert && sent.length < 1024) {
		sent.push(cert);
		cert = cert.issuerCertificate;
	}

	return sent;
}

/** The first sent certificates' facts, each with its DER (DANE matches it). */
export function sentChainOf(sent: X509Certificate[], now: Date): CertInfo[] {
	return sent.slice(0, maxChain).map(cert => certInfo(cert, now, true));
}

/**
 * The verified path, leaf first, as Node builds it for getPeerCertificate(true) (GetPeerCert in
 * src/crypto/crypto_common.cc, v20), without its cost (~1.7 ms of CPU a call): from the leaf,
 * the first remaining sent certificate that X509_check_issued accepts as the issuer (checkIssued
 * is that call), taken out, again; then issuers from the trusted roots until a self-issued one.
 * The walk stops at a certificate already in the path, as a self-signed one is its own issuer.
 */
export function verifiedPathOf(sent: X509Certificate[], roots: TrustedRoots, now: Date): CertInfo[] {
	const [leaf, ...rest] = sent;
	if (!leaf) {
		return [];
	}

	const path = [leaf];
	const seen = new Set([leaf.fingerprint256]);
	const add = (cert: X509Certificate): boolean => {
		const fingerprint = cert.fingerprint256;
		if (seen.has(fingerprint) || path.length >= maxChain) {
			return false;
		}

		seen.add(fingerprint);
		path.push(cert);
		return true;
	};

	let cert = leaf;
	for (;;) {
		const index = rest.findIndex(ca => cert.checkIssued(ca));
		if (index < 0) {
			break;
		}

		const ca = rest.splice(index, 1)[0]!;
		if (!add(ca)) {
			return path.map(x509 => certInfo(x509, now));
		}

		cert = ca;
	}

	while (!cert.checkIssued(cert)) {
		const ca = roots.issuerOf(cert);
		if (!ca || !add(ca)) {
			break;
		}

		cert = ca;
	}

	return path.map(x509 => certInfo(x509, now));
}

/**
 * A loose key of an X.509 Name (from its DER): the ASCII letters and digits of its attributes'
 * values, lowercased. OpenSSL matches names on a canonical form (values in UTF-8, ASCII
 * lowercased, runs of spaces made one): names equal to OpenSSL have the same key whatever their
 * string types, and checkIssued then decides among the few roots that share it.
 */
export function nameKey(der: Uint8Array, name: {start: number; end: number}): string {
	const codes: number[] = [];
	for (let rdn = name.start; rdn < name.end;) {
		const set = derItem(der, rdn);
		if (!set) {
			break;
		}

		for (let at = set.start; at < set.end;) {
			const pair = derItem(der, at);
			const oid = pair && derItem(der, pair.start);
			const value = oid && derItem(der, oid.end);
			if (!pair || !value) {
				break;
			}

			for (let i = value.start; i < value.end; i++) {
				const byte = der[i]! | 0x20;
				if ((byte >= 0x61 && byte <= 0x7A) || (der[i]! >= 0x30 && der[i]! <= 0x39)) {
					codes.push(byte >= 0x61 ? byte : der[i]!);
				}
			}

			codes.push(0x2C);
			at = pair.end;
		}

		rdn = set.end;
	}

	return String.fromCharCode(...codes);
}

/** Where the issuer and subject Names are in a certificate's DER. */
export function namesOf(der: Uint8Array): {issuer: {start: number; end: number}; subject: {start: number; end: number}} | undefined {
	const certificate = derItem(der, 0);
	const tbs = certificate && derItem(der, certificate.start);
	if (!tbs) {
		return undefined;
	}

	// version [0] (optional), serialNumber, signature, issuer, validity, subject.
	let at = tbs.start;
	const fields: Array<{start: number; end: number}> = [];
	while (fields.length < 5 && at < tbs.end) {
		const item = derItem(der, at);
		if (!item) {
			return undefined;
		}

		if (!(at === tbs.start && der[at] === 0xA0)) {
			fields.push({start: at, end: item.end});
		}

		at = item.end;
	}

	const [, , issuer, , subject] = fields;
	const content = (field?: {start: number; end: number}) => field && derItem(der, field.start);
	const issuerName = content(issuer);
	const subjectName = content(subject);
	return issuerName && subjectName ? {issuer: issuerName, subject: subjectName} : undefined;
}

type Root = {der: Buffer; x509?: X509Certificate | false};

/**
 * The trusted roots of a secure context, indexed by their subject's loose key. Parsing ~140 PEMs
 * into X509Certificate costs ~50 ms; reading their subjects from the DER, a few: only the roots
 * whose subject matches an issuer are parsed, once.
 */
export class TrustedRoots {
	private readonly bySubject = new Map<string, Root[]>();
	// The roots that issued a certificate, by its fingerprint: the same intermediates come back.
	private readonly issuers = new Map<string, X509Certificate[]>();

	constructor(pems: readonly string[]) {
		for (const pem of pems) {
			for (const match of pem.matchAll(/-----BEGIN (?:TRUSTED |X509 )?CERTIFICATE-----([^-]+)-----END/g)) {
				const block = Buffer.from(match[1]!, 'base64');
				// A TRUSTED CERTIFICATE has OpenSSL's trust settings after the certificate.
				const outer = derItem(block, 0);
				const der = outer ? block.subarray(0, outer.end) : block;
				const names = namesOf(der);
				if (!names) {
					continue;
				}

				const key = nameKey(der, names.subject);
				const list = this.bySubject.get(key);
				if (list) {
					list.push({der});
				} else {
					this.bySubject.set(key, [{der}]);
				}
			}
		}
	}

	/**
	 * The issuer OpenSSL's store gives (X509_STORE_CTX_get1_issuer): the first root that issued
	 * the certificate and is valid now (OpenSSL's clock, not the session's), else the one of them
	 * that expires last. A root listed twice is found first where it was first.
	 */
	issuerOf(cert: X509Certificate): X509Certificate | undefined {
		const now = Date.now();
		let expired: {x509: X509Certificate; validTo: number} | undefined;
		for (const x509 of this.issuersOf(cert)) {
			const validTo = Date.parse(x509.validTo);
			if (Date.parse(x509.validFrom) <= now && now < validTo) {
				return x509;
			}

			if (!expired || validTo > expired.validTo) {
				expired = {x509, validTo};
			}
		}

		return expired?.x509;
	}

	private issuersOf(cert: X509Certificate): X509Certificate[] {
		const key = cert.fingerprint256;
		let issuers = this.issuers.get(key);
		if (!issuers) {
			const der = cert.raw;
			const names = namesOf(der);
			issuers = [];
			for (const root of (names && this.bySubject.get(nameKey(der, names.issuer))) ?? []) {
				root.x509 ??= parseRoot(root.der);
				if (root.x509 && storeIssued(cert, root.x509)) {
					issuers.push(root.x509);
				}
			}

			if (this.issuers.size >= 4096) {
				this.issuers.clear();
			}

			this.issuers.set(key, issuers);
		}

		return issuers;
	}
}

/**
 * Whether OpenSSL's store takes `issuer` as the issuer of `cert`: X509_check_issued without its
 * keyUsage test (the store's check_issued is ossl_x509_likely_issued), so a trusted certificate
 * that may not sign certificates is found too. Node has only the whole X509_check_issued: when it
 * fails, the same name and a signature that verifies stand for the rest.
 */
function storeIssued(cert: X509Certificate, issuer: X509Certificate): boolean {
	if (cert.checkIssued(issuer)) {
		return true;
	}

	try {
		return cert.issuer === issuer.subject && cert.verify(issuer.publicKey);
	} catch {
		return false;
	}
}

function parseRoot(der: Buffer): X509Certificate | false {
	try {
		return new X509Certificate(der);
	} catch {
		return false;
	}
}
