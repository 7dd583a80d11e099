import {describeTlsFailure} from '../tls/failure.js';
import {defineCheck, isProtocolError, timeoutMessage} from './registry.js';

/** The upgrade to TLS and the session it gave: offered, working, not tampered with, modern. */
export const starttls = defineCheck({
	name: 'starttls',
	catalogue: {
		'starttls-missing': {severity: 'critical', stage: 'starttls', when: 'STARTTLS is not advertised: mail to this host travels in clear text', advice: 'Enable STARTTLS with a certificate (Postfix: smtpd_tls_security_level = may, smtpd_tls_chain_files).'},
		'starttls-failed': {severity: 'critical', stage: 'tls', when: 'STARTTLS is advertised, but the command was refused (stage starttls) or the handshake failed (stage tls); says why', advice: 'Fix the TLS configuration: certificate and key files, protocols and ciphers; check the MTA log at the time of this probe.'},
		'starttls-injection': {severity: 'critical', stage: 'tls', when: 'the server sent bytes after its 220 to STARTTLS, before the handshake (those bytes are discarded)', advice: 'Upgrade or fix the MTA (or the middlebox in front of it): it sends data in plaintext after 220 to STARTTLS, the STARTTLS command-injection class (CVE-2011-0411 and kin).'},
		'starttls-timeout': {severity: 'critical', stage: 'starttls', when: 'no answer to STARTTLS within the deadline', advice: 'The server did not answer STARTTLS in time; check the MTA\'s TLS setup and load.'},
		'tls-timeout': {severity: 'critical', stage: 'tls', when: 'the TLS handshake did not finish within the deadline', advice: 'The TLS handshake stalled; check the MTA\'s TLS setup and any middlebox that inspects port 25.'},
		'tls-old-version': {severity: 'warning', stage: 'tls', when: 'the session used TLS 1.0 or 1.1', advice: 'Disable TLS 1.0 and 1.1; offer TLS 1.2 and 1.3.'},
		'tls-no-1.3': {severity: 'info', stage: 'tls', when: 'TLS 1.3 was not negotiated', advice: 'Enable TLS 1.3 (OpenSSL 1.1.1 or later).'},
		'tls-weak-cipher': {severity: 'warning', stage: 'tls', when: 'a TLS 1.2-or-older cipher without forward secrecy or AEAD, or under 128 bits', advice: 'Prefer ECDHE with AES-GCM or ChaCha20-Poly1305; drop RSA key exchange, CBC and ciphers under 128 bits.'},
	},
	address({result}, _context, report) {
		const {starttls: command, tls: handshake} = result.stages;
		if (command.error === 'missing') {
			const why = result.ehlo?.greeting === 'HELO' ? ' (no ESMTP, so no STARTTLS)' : '';
			report('starttls-missing', `STARTTLS is not advertised${why}: mail to this host travels in clear text.`);
		} else if (command.error === 'timeout') {
			report('starttls-timeout', timeoutMessage('starttls', command));
		} else if (command.error === 'rejected') {
			report('starttls-failed', `STARTTLS is advertised but the command was refused: ${command.detail ?? ''}.`, {stage: 'starttls'});
		}

		if (handshake.error === 'timeout') {
			report('tls-timeout', timeoutMessage('tls', handshake));
		} else if (handshake.outcome === 'failed' && !['closed', 'reset'].includes(handshake.error ?? '') && !isProtocolError(handshake.error)) {
			report('starttls-failed', `STARTTLS is advertised, but the TLS handshake after the 220 to STARTTLS failed: ${handshake.detail ? describeTlsFailure(handshake.detail) : handshake.error ?? ''}.`);
		}

		if (result.injectedBytes) {
			report('starttls-injection', `${result.injectedBytes} bytes came after "220" to STARTTLS and before the TLS handshake; mxdash discarded them.`);
		}

		const {tls} = result;
		if (!tls) {
			return;
		}

		if (tls.version === 'TLSv1' || tls.version === 'TLSv1.1') {
			report('tls-old-version', `The session used ${tls.version}.`);
		}

		if (tls.version !== 'TLSv1.3') {
			report('tls-no-1.3', `The session used ${tls.version}, not TLS 1.3.`);
			const weakness = cipherWeakness(tls.cipher);
			if (weakness) {
				report('tls-weak-cipher', `The cipher ${tls.cipher} ${weakness}.`);
			}
		}
	},
});

/** Why a TLS 1.2-or-older cipher suite is weak, or undefined. */
export function cipherWeakness(cipher: string): string | undefined {
	if (/RC4|DES|NULL|EXP|MD5|anon|IDEA|SEED/i.test(cipher)) {
		return 'is broken or under 128 bits';
	}

	if (!/^(?:ECDHE|DHE|EDH)-/.test(cipher)) {
		return 'has no forward secrecy (static RSA key exchange)';
	}

	if (!/GCM|CHACHA20|CCM/.test(cipher)) {
		return 'is not AEAD (CBC mode)';
	}

	return undefined;
}
