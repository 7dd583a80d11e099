// MTA-STS (RFC 8461), pure: the _mta-sts TXT record (§3.1), the policy body (§3.2) and the
// matching of MX host names against the policy's patterns (§4.1). Everything here only reports;
// the checks decide what a broken rule means.
import type {ParsedPolicy, StsPolicy} from './types.js';

/** Most policy lines examined, and most mx patterns kept: a hostile body cannot make us work more. */
const maxPolicyLines = 512;
const maxMxPatterns = 64;
const maxAgeLimit = 31_557_600;

/** Quote what was seen, shortened, so that an error sentence stays one line of sane length. */
function quote(text: string): string {
	const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
	return JSON.stringify(shown);
}

/**
 * The TXT records that are MTA-STS records: they begin `v=STSv1` and then `;`, with optional
 * whitespace between (§3.1's ABNF: `sts-version 1*(*WSP %x3B *WSP sts-field)`). Case matters.
 */
export function stsRecords(records: string[]): string[] {
	return records.filter(record => /^v=STSv1[ \t]*;/.test(record));
}

const extensionName = /^[A-Za-z\d][\w.-]{0,31}$/;
const extensionValue = /^[\x21-\x3A\x3C\x3E-\x7E]+$/;

/** One `_mta-sts` record (§3.1): its id, and every rule it breaks, one plain sentence each. */
export function parseStsRecord(raw: string): {id?: string; errors: string[]} {
	const errors: string[] = [];
	// The record may end with one `;`; any other empty field is a stray separator.
	const fields = raw.split(';').map(field => field.replace(/^[ \t]+|[ \t]+$/g, ''));
	if (fields.length > 1 && fields.at(-1) === '') {
		fields.pop();
	}

	let id: string | undefined;
	let sawId = false;
	for (const [index, field] of fields.entries()) {
		if (index === 0 && field.startsWith('v=')) {
			if (field !== 'v=STSv1') {
				errors.push(`the version is ${quote(field.slice(2))}, not "STSv1"`);
			}

			continue;
		}

		if (index === 0) {
			// Still read the misplaced field: the id may be there.
			errors.push(`the record starts with ${quote(field)}, not "v=STSv1"`);
		}

		if (field === '') {
			errors.push(`field ${index + 1} is empty (two ";" in a row)`);
			continue;
		}

		const equals = field.indexOf('=');
		if (equals < 0) {
			errors.push(`field ${quote(field)} has no "="`);
			continue;
		}

		const name = field.slice(0, equals);
		const value = field.slice(equals + 1);
		if (name === 'id') {
			if (sawId) {
				errors.push('the record has more than one id');
				continue;
			}

			sawId = true;
			if (value === '') {
				errors.push('the id is empty');
			} else if (!/^[A-Za-z\d]+$/.test(value)) {
				errors.push(`id ${quote(value)} has a character other than letters and digits`);
			} else if (value.length > 32) {
				errors.push(`id ${quote(value)} is ${value.length} characters long, more than 32`);
			} else {
				id = value;
			}
		} else if (name === 'v') {
			errors.push(`"v=" must be the first field, not field ${index + 1}`);
		} else if (!extensionName.test(name)) {
			errors.push(`field name ${quote(name)} is not 1–32 letters, digits, "_", "-" or "." starting with a letter or digit`);
		} else if (!extensionValue.test(value)) {
			errors.push(`the value of ${quote(name)} is empty or has a space, "=" or a character that is not printable ASCII`);
		}
	}

	if (!sawId) {
		errors.push('the record has no id');
	}

	return {...(id === undefined ? {} : {id}), errors};
}

const singleKeys = new Set(['version', 'mode', 'max_age']);
/** §3.2: `["*."] Domain`, labels of letters, digits and inner hyphens; a trailing dot is forgiven. */
const mxPattern = /^(?:\*\.)?(?:[A-Za-z\d](?:[A-Za-z\d-]{0,61}[A-Za-z\d])?\.)*[A-Za-z\d](?:[A-Za-z\d-]{0,61}[A-Za-z\d])?\.?$/;

/** An MTA-STS policy body (§3.2): `key: value` lines, CRLF or LF. Unknown keys are ignored. */
export function parsePolicy(body: string): ParsedPolicy {
	const policy: StsPolicy = {mx: []};
	const errors: string[] = [];
	const seen = new Set<string>();
	let mode: string | undefined;
	let maxAge: string | undefined;
	const lines = body.split(/\r?\n/, maxPolicyLines);
	for (const [index, line] of lines.entries()) {
		if (/^[ \t]*$/.test(line)) {
			// The body's final line break leaves an empty last line; blank lines say nothing.
			continue;
		}

		const match = /^[ \t]*([A-Za-z\d][\w.-]{0,31})[ \t]*:[ \t]*(.*?)[ \t]*$/.exec(line);
		if (!match) {
			errors.push(`line ${index + 1} is not "key: value": ${quote(line)}`);
			continue;
		}

		const key = match[1]!;
		const value = match[2]!;
		if (singleKeys.has(key)) {
			if (seen.has(key)) {
				errors.push(`"${key}" appears more than once (again on line ${index + 1})`);
				continue;
			}

			seen.add(key);
		}

		if (key === 'version') {
			policy.version = value;
		} else if (key === 'mode') {
			mode = value;
			policy.mode = value;
		} else if (key === 'max_age') {
			maxAge = value;
		} else if (key === 'mx') {
			seen.add('mx');
			if (!mxPattern.test(value)) {
				errors.push(`mx ${quote(value)} on line ${index + 1} is not a host name, nor "*." and a host name`);
			} else if (policy.mx.length < maxMxPatterns) {
				policy.mx.push(value);
			}
		}
	}

	if (policy.version === undefined) {
		errors.push('the policy has no "version" line');
	} else if (policy.version !== 'STSv1') {
		errors.push(`the version is ${quote(policy.version)}, not "STSv1"`);
	}

	if (mode === undefined) {
		errors.push('the policy has no "mode" line');
	} else if (!['enforce', 'testing', 'none'].includes(mode)) {
		errors.push(`mode ${quote(mode)} is not one of enforce, testing or none`);
	}

	if (maxAge === undefined) {
		errors.push('the policy has no "max_age" line');
	} else if (!/^\d{1,10}$/.test(maxAge)) {
		errors.push(`max_age ${quote(maxAge)} is not a number of seconds`);
	} else if (Number(maxAge) > maxAgeLimit) {
		errors.push(`max_age ${maxAge} is more than ${maxAgeLimit} seconds (one year)`);
	} else {
		policy.maxAge = Number(maxAge);
	}

	if (mode !== 'none' && !seen.has('mx')) {
		errors.push(`the policy has no "mx" line, yet its mode is ${mode === undefined ? 'not none' : quote(mode)}`);
	}

	return {policy, errors};
}

function bare(name: string): string {
	return name.toLowerCase().replace(/\.+$/, '');
}

/**
 * Whether an MX host name matches one `mx` pattern (§4.1): case-insensitive, trailing dots
 * ignored; `*.example.com` stands for exactly one more left-most label; anything else is exact.
 */
export function mxPatternMatches(pattern: string, host: string): boolean {
	const wanted = bare(pattern);
	const name = bare(host);
	if (wanted === '' || name === '') {
		return false;
	}

	if (wanted.startsWith('*.')) {
		const dot = name.indexOf('.');
		return dot > 0 && name.slice(dot + 1) === wanted.slice(2);
	}

	return wanted === name;
}

/** The first pattern the host matches, if any. */
export function matchingPattern(patterns: string[], host: string): string | undefined {
	return patterns.find(pattern => mxPatternMatches(pattern, host));
}

/** The policy host of a domain: `mta-sts.<domain>`. */
export function mtaStsDomainName(domain: string): string {
	return `mta-sts.${bare(domain)}`;
}

/** Where the policy of a domain is fetched from (§3.3). */
export function policyUrl(domain: string): string {
	return `https://${mtaStsDomainName(domain)}/.well-known/mta-sts.txt`;
}
