/** TLS alert descriptions (RFC 8446 §6, RFC 5246 §7.2, RFC 6066), by number. */
const alertNames: Readonly<Record<number, string>> = {
	0: 'close_notify',
	10: 'unexpected_message',
	20: 'bad_record_mac',
	21: 'decryption_failed',
	22: 'record_overflow',
	30: 'decompression_failure',
	40: 'handshake_failure',
	41: 'no_certificate',
	42: 'bad_certificate',
	43: 'unsupported_certificate',
	44: 'certificate_revoked',
	45: 'certificate_expired',
	46: 'certificate_unknown',
	47: 'illegal_parameter',
	48: 'unknown_ca',
	49: 'access_denied',
	50: 'decode_error',
	51: 'decrypt_error',
	60: 'export_restriction',
	70: 'protocol_version',
	71: 'insufficient_security',
	80: 'internal_error',
	86: 'inappropriate_fallback',
	90: 'user_canceled',
	100: 'no_renegotiation',
	109: 'missing_extension',
	110: 'unsupported_extension',
	111: 'certificate_unobtainable',
	112: 'unrecognized_name',
	113: 'bad_certificate_status_response',
	114: 'bad_certificate_hash_value',
	115: 'unknown_psk_identity',
	116: 'certificate_required',
	120: 'no_application_protocol',
};

/** An OpenSSL error line: `<id>:error:<hex>:<library>:<function>:<reason>:<file>:<line>:<data>`. */
const opensslLine = /^[\dA-F]*:error:[\dA-F]+:[^:]*:[^:]*:([^:]+):[^:]*:\d+:?(.*)$/i;

/**
 * The TLS handshake's failure in words, from the raw text the driver kept in the stage's
 * `detail`: the alert's name and number where the server sent one, OpenSSL's reason
 * otherwise. OpenSSL's source file and line (`rec_layer_s3.c:1601`) say nothing about the
 * server, so they stay in the JSON detail only.
 */
export function describeTlsFailure(detail: string): string {
	const text = detail.replaceAll(/\s+/g, ' ').trim();
	// The driver appends its own explanation in parentheses after the error text.
	const hint = /\s(\(the server answered the handshake[^)]*\))$/.exec(text)?.[1];
	const raw = hint ? text.slice(0, -hint.length).trim() : text;
	const alert = /alert number (\d+)/i.exec(raw);
	let words: string;
	if (alert) {
		const number = Number(alert[1]);
		const name = alertNames[number];
		words = `the server sent the TLS alert ${name ? `${name} (${number})` : `number ${number}`}`;
	} else {
		const reason = opensslLine.exec(raw)?.[1];
		words = reason ? `OpenSSL reported "${reason.trim()}"` : raw.replace(/[.\s]+$/, '');
	}

	return hint ? `${words} ${hint}` : words;
}
