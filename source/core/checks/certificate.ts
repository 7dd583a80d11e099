import type {CertInfo} from '../types.js';
import {defineCheck, opportunistic} from './registry.js';
import type {Report} from './registry.js';

/** The certificate chain the server presented: dates, names, trust, keys and signatures. */
export const certificate = defineCheck({
	name: 'certificate',
	catalogue: {
		'cert-expired': {severity: 'critical', when: 'the leaf or a chain certificate is past its notAfter; says how many days', advice: 'Renew the certificate and reload the MTA; automate renewal (ACME).'},
		'cert-not-yet-valid': {severity: 'critical', when: 'a certificate\'s notBefore is in the future', advice: 'Check the certificate dates and the server clock.'},
		'cert-expiring': {severity: 'warning', when: 'the leaf has fewer than --warn-days (default 21) days left', advice: 'Renew the certificate soon and make sure renewal is automated.'},
		'cert-hostname-mismatch': {severity: 'warning', when: 'the certificate\'s names (SAN, else CN) do not cover the MX host name', advice: 'Get a certificate whose SAN lists the MX host name.'},
		'cert-self-signed': {severity: 'warning', when: 'the leaf is self-signed', advice: 'Use a certificate from a public CA (or publish DANE TLSA records for this one).'},
		'cert-untrusted': {severity: 'warning', when: 'the chain does not lead to a trusted root; says the verifier\'s reason', advice: 'Use a certificate from a CA that senders trust, and send the full chain.'},
		'cert-chain-incomplete': {severity: 'warning', when: 'the chain ends at a certificate whose issuer the server did not send (a missing intermediate)', advice: 'Configure the server to send the intermediate certificates along with the leaf (Postfix: a chain file in smtpd_tls_chain_files).'},
		'cert-weak-key': {severity: 'warning', when: 'a certificate (not a self-signed root) has an RSA key under 2048 bits or an EC key under 256', advice: 'Use an RSA key of at least 2048 bits or an EC key of at least 256 bits.'},
		'cert-weak-signature': {severity: 'warning', when: 'a certificate (not a self-signed root) is signed with SHA-1, MD5 or MD2', advice: 'Reissue the certificate with a SHA-256 (or better) signature.'},
	},
	address({result}, context, report) {
		const {tls} = result;
		const [leaf, ...rest] = tls?.chain ?? [];
		if (!tls || !leaf) {
			return;
		}

		validity(leaf, 'The certificate', context.warnDays, context.now(), report);
		for (const cert of rest) {
			validity(cert, `The chain certificate "${cert.subject}"`, -Infinity, context.now(), report);
		}

		const known = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'DEPTH_ZERO_SELF_SIGNED_CERT']);
		if (!tls.hostnameMatch) {
			const names = leaf.san.length > 0 ? leaf.san.join(', ') : leaf.subject;
			report('cert-hostname-mismatch', `The certificate is for ${names}, not ${result.target.exchange}. ${opportunistic}`);
		}

		const last = tls.chain.at(-1)!;
		if (leaf.selfSigned) {
			report('cert-self-signed', `The certificate "${leaf.subject}" is self-signed. ${opportunistic}`);
		} else if (tls.chainIncomplete) {
			known.add('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
			report('cert-chain-incomplete', `The server sent ${tls.chain.length} certificate(s) ending at "${last.subject}", whose issuer "${last.issuer}" it did not send. ${opportunistic}`);
		} else if (!tls.authorized && tls.authorizationError && !known.has(tls.authorizationError)) {
			report('cert-untrusted', `The chain does not lead to a trusted root: ${tls.authorizationError}. ${opportunistic}`);
		}

		const weakKey = tls.chain.find(cert => hasWeakKey(cert));
		if (weakKey) {
			report('cert-weak-key', `"${weakKey.subject}" has a ${weakKey.keyBits ?? '?'}-bit ${weakKey.keyType.toUpperCase()} key.`);
		}

		const weakSignature = tls.chain.find(cert => hasWeakSignature(cert));
		if (weakSignature) {
			report('cert-weak-signature', `"${weakSignature.subject}" is signed with ${weakSignature.signatureAlgorithm}.`);
		}
	},
});

type CertificateId = keyof typeof certificate.catalogue;

function validity(cert: CertInfo, what: string, warnDays: number, now: number, report: Report<CertificateId>): void {
	if (Date.parse(cert.validFrom) > now) {
		report('cert-not-yet-valid', `${what} is not valid before ${cert.validFrom}.`);
		return;
	}

	const {daysLeft} = cert;
	if (daysLeft < 0) {
		report('cert-expired', `${what} expired ${-daysLeft} day(s) ago (${cert.validTo}).`);
	} else if (daysLeft < warnDays) {
		report('cert-expiring', `${what} expires in ${daysLeft} day(s) (${cert.validTo}).`);
	}
}

/** RSA under 2048 bits or EC under 256, on a certificate that is not a self-signed root. */
export function hasWeakKey(cert: CertInfo): boolean {
	const bits = cert.keyBits ?? 0;
	return !cert.selfSigned && ((cert.keyType.startsWith('rsa') && bits < 2048) || (cert.keyType === 'ec' && bits < 256));
}

/** SHA-1, MD5 or MD2 signature on a certificate that is not a self-signed root. */
export function hasWeakSignature(cert: CertInfo): boolean {
	return !cert.selfSigned && /sha1|md5|md2/i.test(cert.signatureAlgorithm);
}
