// DANE for SMTP (RFC 7672, with RFC 7671 and RFC 6698): a TLSA set matched against the
// certificates exactly as the server sent them. Pure: no I/O, node:crypto only.
import {createHash, X509Certificate} from 'node:crypto';
import {derItem} from '../tls/certificate.js';
import type {DaneRecordMatch, DaneResult, TlsaRecord} from './types.js';

const usages: Record<number, string> = {0: 'PKIX-TA', 1: 'PKIX-EE', 2: 'DANE-TA', 3: 'DANE-EE'};
const selectors: Record<number, string> = {0: 'certificate', 1: 'SPKI'};
const matchings: Record<number, string> = {0: 'full data', 1: 'SHA-256', 2: 'SHA-512'};
/** Digest length in bytes per matching type; 0 (the data itself) has none. */
const digestBytes: Record<number, number> = {1: 32, 2: 64};

/** The record as its zone file writes it, for the reasons: `3 1 1`. */
function label(record: TlsaRecord): string {
	return `${record.usage} ${record.selector} ${record.matchingType}`;
}

/** Whether one TLSA record can be used by an SMTP client at all, and why not. */
export function tlsaUsable(record: TlsaRecord): {usable: true} | {usable: false; reason: string} {
	const {usage, selector, matchingType, data} = record;
	if (usage === 0 || usage === 1) {
		return {usable: false, reason: `usage ${usage} (${usages[usage]!}) must not be used for SMTP: RFC 7672 §3.1.3 makes it unusable, only DANE-TA(2) and DANE-EE(3) count`};
	}

	if (usage !== 2 && usage !== 3) {
		return {usable: false, reason: `unknown usage ${usage} (only 2 DANE-TA and 3 DANE-EE are usable for SMTP)`};
	}

	if (selector !== 0 && selector !== 1) {
		return {usable: false, reason: `unknown selector ${selector} (0 = the certificate, 1 = its SubjectPublicKeyInfo)`};
	}

	if (matchingType !== 0 && matchingType !== 1 && matchingType !== 2) {
		return {usable: false, reason: `unknown matching type ${matchingType} (0 = full data, 1 = SHA-256, 2 = SHA-512)`};
	}

	if (typeof data !== 'string' || !/^(?:[\da-f]{2})+$/i.test(data)) {
		return {usable: false, reason: data ? 'the association data is not hexadecimal' : 'the association data is empty'};
	}

	const expected = digestBytes[matchingType];
	if (expected !== undefined && data.length / 2 !== expected) {
		return {usable: false, reason: `a ${matchings[matchingType]!} digest has ${expected} bytes, this record's data has ${data.length / 2}`};
	}

	return {usable: true};
}

/**
 * The SubjectPublicKeyInfo of a certificate, its DER exactly as in the certificate (re-encoding
 * the key could differ, an EC point compressed or not): the seventh field of TBSCertificate
 * when the version is present, else the sixth.
 */
function spkiOf(der: Uint8Array): Uint8Array | undefined {
	const certificate = derItem(der, 0);
	const tbs = certificate && der[certificate.start] === 0x30 ? derItem(der, certificate.start) : undefined;
	if (!tbs) {
		return undefined;
	}

	let at = tbs.start;
	// [0] EXPLICIT version, then serialNumber, signature, issuer, validity, subject.
	const skip = der[at] === 0xA0 ? 6 : 5;
	for (let i = 0; i < skip; i++) {
		const item = derItem(der, at);
		if (!item || item.end > tbs.end) {
			return undefined;
		}

		at = item.end;
	}

	const spki = der[at] === 0x30 ? derItem(der, at) : undefined;
	return spki && spki.end <= tbs.end ? der.subarray(at, spki.end) : undefined;
}

/**
 * The association data a certificate gives for a selector and matching type, in lower-case hex:
 * selector 0 is the whole certificate DER, 1 its SubjectPublicKeyInfo DER; matching 0 is the
 * data itself, 1 its SHA-256, 2 its SHA-512. An unknown selector or matching type, or a DER that
 * cannot be read, gives '' (which no usable record equals).
 */
export function tlsaData(der: Buffer, selector: number, matchingType: number): string {
	const data = selector === 0 ? der : (selector === 1 ? spkiOf(der) : undefined);
	if (!data || data.length === 0) {
		return '';
	}

	switch (matchingType) {
		case 0: {
			return Buffer.from(data).toString('hex');
		}

		case 1: {
			return createHash('sha256').update(data).digest('hex');
		}

		case 2: {
			return createHash('sha512').update(data).digest('hex');
		}

		default: {
			return '';
		}
	}
}

function parse(der: string): X509Certificate | undefined {
	try {
		return new X509Certificate(Buffer.from(der, 'base64'));
	} catch {
		return undefined;
	}
}

function normalName(name: string): string {
	return name.toLowerCase().replace(/\.$/, '');
}

/**
 * The reference identities the leaf presents (RFC 7672 §3.2.3): its SAN DNS names, or its
 * subject CN only when it has no SAN DNS name.
 */
function presentedNames(cert: X509Certificate): string[] {
	const san = (cert.subjectAltName ?? '').split(', ')
		.filter(entry => entry.startsWith('DNS:'))
		.map(entry => entry.slice(4).replace(/^"|"$/g, ''));
	if (san.length > 0) {
		return san.map(name => normalName(name));
	}

	return cert.subject.split('\n').filter(line => line.startsWith('CN=')).map(line => normalName(line.slice(3)));
}

/** A presented name matches a reference name; a wildcard stands for exactly one left-most label. */
function nameMatches(presented: string, reference: string): boolean {
	if (presented === reference) {
		return true;
	}

	if (!presented.startsWith('*.')) {
		return false;
	}

	const dot = reference.indexOf('.');
	// The wildcard's own domain needs at least two labels: `*.com` stands for nothing.
	return dot > 0 && presented.slice(2).includes('.') && reference.slice(dot + 1) === presented.slice(2);
}

/** The first certificate of `pool` that issued `child` and whose key verifies its signature. */
function issuerOf(child: X509Certificate, pool: X509Certificate[]): X509Certificate | undefined {
	return pool.find(candidate => {
		try {
			return child.checkIssued(candidate) && child.verify(candidate.publicKey);
		} catch {
			return false;
		}
	});
}

/**
 * Whether the leaf chains by signatures to the trust anchor through the certificates sent: each
 * step an issuer (by name and signature) among the sent CA certificates, each used once.
 */
function chainsTo(leaf: X509Certificate, anchor: X509Certificate, sent: X509Certificate[]): boolean {
	let current = leaf;
	const pool = sent.filter(cert => cert !== anchor && cert.ca);
	for (let step = 0; step <= sent.length; step++) {
		if (issuerOf(current, [anchor])) {
			return true;
		}

		const next = issuerOf(current, pool);
		if (!next) {
			return false;
		}

		pool.splice(pool.indexOf(next), 1);
		current = next;
	}

	return false;
}

function short(hex: string): string {
	return hex.length > 16 ? `${hex.slice(0, 16)}…` : hex;
}

/** How one usable DANE-EE record fares: the leaf only, name and dates ignored (RFC 7672 §3.1.1). */
function matchEndEntity(record: TlsaRecord, leaf: X509Certificate): DaneRecordMatch {
	const actual = tlsaData(leaf.raw, record.selector, record.matchingType);
	if (actual === record.data.toLowerCase()) {
		return {record, usable: true, matchedDepth: 0};
	}

	return {record, usable: true, reason: `the leaf's ${selectors[record.selector]!} ${matchings[record.matchingType]!} is ${short(actual)}, the record has ${short(record.data.toLowerCase())}`};
}

/**
 * How one usable DANE-TA record fares: a CA certificate sent after the leaf must match it, the
 * leaf must chain to that certificate by signatures through what was sent, carry one of the
 * names, and be within its dates (RFC 7672 §3.1.2, §3.2.3).
 */
function matchTrustAnchor(record: TlsaRecord, certs: X509Certificate[], names: string[], now: Date): DaneRecordMatch {
	const [leaf, ...rest] = certs;
	const data = record.data.toLowerCase();
	const matching = certs.map((cert, depth) => ({cert, depth}))
		.filter(({cert, depth}) => depth > 0 && tlsaData(cert.raw, record.selector, record.matchingType) === data);
	if (!leaf || matching.length === 0) {
		const after = certs.length - 1;
		return {record, usable: true, reason: `no certificate sent after the leaf matches (${after} sent after it${after > 0 ? `: ${rest.map(cert => cnOf(cert)).join(', ')}` : ''})`};
	}

	let reason = '';
	for (const {cert, depth} of matching) {
		if (!cert.ca) {
			reason = `the certificate at depth ${depth} (${cnOf(cert)}) matches but is not a CA`;
			continue;
		}

		if (!chainsTo(leaf, cert, rest)) {
			reason = `the trust anchor at depth ${depth} (${cnOf(cert)}) matches, but the leaf does not chain to it by signatures through the certificates sent`;
			continue;
		}

		const wanted = names.map(name => normalName(name));
		const presented = presentedNames(leaf);
		if (!presented.some(name => wanted.some(reference => nameMatches(name, reference)))) {
			reason = `the trust anchor at depth ${depth} matches, but the leaf's names (${presented.join(', ') || 'none'}) match none of ${wanted.join(', ') || '(no names given)'}`;
			continue;
		}

		const from = new Date(leaf.validFrom);
		const to = new Date(leaf.validTo);
		if (now < from || now > to) {
			reason = now < from
				? `the trust anchor at depth ${depth} matches, but the leaf is not valid before ${from.toISOString()}`
				: `the trust anchor at depth ${depth} matches, but the leaf expired on ${to.toISOString()}`;
			continue;
		}

		return {record, usable: true, matchedDepth: depth};
	}

	return {record, usable: true, reason};
}

function cnOf(cert: X509Certificate): string {
	return cert.subject.split('\n').find(line => line.startsWith('CN='))?.slice(3) ?? cert.subject.replaceAll('\n', ', ');
}

/**
 * Judge a TLSA set against the certificates as the server sent them (leaf first). `names` are the
 * reference identities for DANE-TA: the MX host name, and the TLSA base name where it differs.
 * The caller decides whether DANE applies (DNSSEC); this always judges.
 */
export function matchTlsa(records: TlsaRecord[], sent: Array<{der: string}>, names: string[], now: Date): DaneResult {
	if (records.length === 0) {
		return {checked: true, match: 'none', usable: 0, reason: 'no TLSA records', records: []};
	}

	const parsed = sent.slice(0, 16).map(cert => parse(cert.der));
	const leafUnreadable = parsed.length > 0 && !parsed[0];
	// Node made these DER from certificates it parsed, so none should be unreadable; one that is
	// anyway is left out (and cannot be a trust anchor).
	const certs = parsed.flatMap(cert => (cert ? [cert] : []));
	const results = records.map((record): DaneRecordMatch => {
		const verdict = tlsaUsable(record);
		if (!verdict.usable) {
			return {record, usable: false, reason: verdict.reason};
		}

		if (parsed.length === 0 || leafUnreadable) {
			return {record, usable: true, reason: parsed.length === 0 ? 'the server sent no certificate' : 'the leaf certificate could not be read'};
		}

		return record.usage === 3 ? matchEndEntity(record, certs[0]!) : matchTrustAnchor(record, certs, names, now);
	});

	const usable = results.filter(result => result.usable);
	const matched = results.find(result => result.matchedDepth !== undefined);
	const count = `${usable.length} usable record${usable.length === 1 ? '' : 's'} of ${records.length}`;
	if (matched) {
		return {checked: true, match: 'matched', depth: matched.matchedDepth!, usable: usable.length, reason: `${count}; ${label(matched.record)} matched at depth ${matched.matchedDepth!}`, records: results};
	}

	if (usable.length === 0) {
		return {checked: true, match: 'unusable', usable: 0, reason: `none of the ${records.length} TLSA record${records.length === 1 ? ' is' : 's is'} usable for SMTP`, records: results};
	}

	const leaf = certs[0] && !leafUnreadable ? `; the leaf's SPKI SHA-256 is ${short(tlsaData(certs[0].raw, 1, 1))}` : '';
	const tried = usable.map(result => `${label(result.record)}: ${result.reason ?? 'no match'}`).join('; ');
	return {checked: true, match: 'mismatch', usable: usable.length, reason: `${count}${leaf}; no record matched (${tried})`, records: results};
}
