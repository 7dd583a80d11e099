// TLS-RPT (RFC 8460 §3), pure: the _smtp._tls TXT record, where reports about failed TLS go.
// Only reports what it sees; the checks judge it.

/** Most report URIs examined: a hostile record cannot make us work more. */
const maxUris = 16;

export type TlsRptRecord = {
	/** The one TLS-RPT record, when there is exactly one. */
	record?: string;
	/** The report URIs that are well formed. */
	rua: string[];
	errors: string[];
	/** More than one record starts `v=TLSRPTv1`: senders then use none (§3). */
	multiple: boolean;
};

function quote(text: string): string {
	return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

/** What is wrong with one report URI, or undefined when it is usable. */
function uriProblem(uri: string): string | undefined {
	const scheme = /^([A-Za-z][\w+.-]*):/.exec(uri)?.[1]?.toLowerCase();
	if (scheme === 'mailto') {
		// The address before any `?header` part; the local part may not be empty, nor the domain.
		const address = decodeURIComponentSafe(uri.slice(7).split('?')[0] ?? '');
		return /^[^\s@,]+@[A-Za-z\d-]+(?:\.[A-Za-z\d-]+)*\.?$/.test(address) ? undefined : `report address ${quote(uri)} has no valid mail address after "mailto:"`;
	}

	if (scheme === 'https') {
		try {
			const url = new URL(uri);
			return url.hostname === '' ? `report URI ${quote(uri)} has no host` : undefined;
		} catch {
			return `report URI ${quote(uri)} is not a valid https URL`;
		}
	}

	return scheme === undefined ? `report URI ${quote(uri)} has no scheme (mailto: or https:)` : `report URI ${quote(uri)} uses ${quote(`${scheme}:`)}, not mailto: or https:`;
}

function decodeURIComponentSafe(text: string): string {
	try {
		return decodeURIComponent(text);
	} catch {
		return text;
	}
}

/** The TXT records at `_smtp._tls.<domain>`: the TLS-RPT record among them, and its `rua`. */
export function parseTlsRpt(records: string[]): TlsRptRecord {
	const found = records.filter(record => /^v=TLSRPTv1[ \t]*;/.test(record));
	if (found.length === 0) {
		return {rua: [], errors: [], multiple: false};
	}

	if (found.length > 1) {
		return {rua: [], errors: [`there are ${found.length} TLS-RPT records; senders use none of them`], multiple: true};
	}

	const record = found[0]!;
	const errors: string[] = [];
	const rua: string[] = [];
	// Fields are `;`-separated with optional whitespace; one trailing `;` is allowed.
	const fields = record.split(';').map(field => field.replace(/^[ \t]+|[ \t]+$/g, '')).slice(1);
	if (fields.at(-1) === '') {
		fields.pop();
	}

	let sawRua = false;
	for (const field of fields) {
		const equals = field.indexOf('=');
		if (field === '') {
			errors.push('the record has an empty field (two ";" in a row)');
		} else if (equals < 0) {
			errors.push(`field ${quote(field)} has no "="`);
		} else if (field.slice(0, equals) === 'rua') {
			if (sawRua) {
				errors.push('the record has more than one rua');
				continue;
			}

			sawRua = true;
			const uris = field.slice(equals + 1).split(',').map(uri => uri.trim());
			if (uris.length > maxUris) {
				errors.push(`rua has ${uris.length} URIs; only the first ${maxUris} were looked at`);
			}

			for (const uri of uris.slice(0, maxUris)) {
				const problem = uri === '' ? 'rua has an empty URI' : uriProblem(uri);
				if (problem) {
					errors.push(problem);
				} else {
					rua.push(uri);
				}
			}
		} else if (!/^[A-Za-z\d][\w.-]{0,31}$/.test(field.slice(0, equals))) {
			errors.push(`field name ${quote(field.slice(0, equals))} is not 1–32 letters, digits, "_", "-" or "."`);
		}
	}

	if (!sawRua) {
		errors.push('the record has no rua (where reports go)');
	}

	return {record, rua, errors, multiple: false};
}
