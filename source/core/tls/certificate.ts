import {X509Certificate} from 'node:crypto';
import type {DetailedPeerCertificate} from 'node:tls';
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

/** What a certificate says, without its dates' distance from now: parsed once per certificate. */
const parsed = new Map<string, {info: Omit<CertInfo, 'daysLeft'>; validTo: number}>();

/**
 * A certificate's facts. The same certificates come back in every session with a server (and
 * its intermediates with many servers): parsing and verifying each again cost ~1.5 ms a probe.
 */
export function certInfo(der: Buffer, now: Date): CertInfo {
	const key = der.toString('base64');
	let entry = parsed.get(key);
	if (!entry) {
		const info = parseCertificate(der);
		entry = {info, validTo: Date.parse(info.validTo)};
		if (parsed.size >= 4096) {
			parsed.clear();
		}

		parsed.set(key, entry);
	}

	return {...entry.info, daysLeft: Math.floor((entry.validTo - now.getTime()) / dayMs)};
}

function parseCertificate(der: Buffer): Omit<CertInfo, 'daysLeft'> {
	const x509 = new X509Certificate(der);
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
 * The verified path, leaf first, as Node built it from what the server sent, completed from the
 * trusted roots (so a root from --ca shows even when the server did not send it). A visited set
 * stops the walk, since a self-signed certificate is its own issuer.
 */
export function chainOf(leaf: DetailedPeerCertificate, now: Date): CertInfo[] {
	const chain: CertInfo[] = [];
	const seen = new Set<string>();
	let cert: DetailedPeerCertificate | undefined = leaf;
	while (cert?.raw && !seen.has(cert.fingerprint256) && chain.length < maxChain) {
		seen.add(cert.fingerprint256);
		chain.push(certInfo(cert.raw, now));
		cert = cert.issuerCertificate;
	}

	return chain;
}

/**
 * The certificates exactly as the server sent them, in its order, each with its DER (DANE
 * matches it). Node's X509Certificate of the peer links each certificate to the next one of the
 * sent stack through issuerCertificate, whatever they are: duplicates and strays stay.
 */
export function sentChainOf(leaf: X509Certificate, now: Date): CertInfo[] {
	const sent: CertInfo[] = [];
	let cert: X509Certificate | undefined = leaf;
	while (cert && sent.length < maxChain) {
		sent.push({...certInfo(cert.raw, now), der: cert.raw.toString('base64')});
		cert = cert.issuerCertificate;
	}

	return sent;
}
