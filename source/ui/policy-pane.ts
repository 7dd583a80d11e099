import {matchingPattern, parsePolicy} from '../core/policy/mta-sts.js';
import type {DnsblAnswer, MxPolicy, PolicyFetch, ResolverValidation, TlsVersionScan, TxtAnswer, Verdict} from '../core/policy/types.js';
import {tlsVersionNames} from '../core/policy/types.js';
import {sanitize} from '../core/sanitize.js';
import {verdictGlyph} from './format.js';
import type {Line} from './panes.js';
import {wrap} from './panes.js';
import type {DomainState, HostState} from './store.js';
import type {Theme, Tone} from './theme.js';

/** What the Policy pane shows of the run and of the host's MX name, besides the host and its domain. */
export type PolicyContext = {mxPolicy?: MxPolicy; validation?: ResolverValidation};

const heading = (text: string): Line => ({text, bold: true});
const muted = (text: string): Line => ({text, tone: 'muted'});

/** Wrapped text as lines (sanitized by wrap), its own leading spaces kept, continuation lines indented further. */
function para(text: string, width: number, tone?: Tone, indent = '    '): Line[] {
	const lead = /^ */.exec(text)![0];
	return wrap(text.slice(lead.length), width - lead.length, indent).map(line => ({text: lead + line, ...(tone ? {tone} : {})}));
}

function verdictTone(verdict: Verdict): Tone {
	return verdict === 'deliver' ? 'ok' : (verdict === 'fail' ? 'critical' : 'muted');
}

/** The TXT answer's records raw (sanitized), or why there were none. */
function txtLines(label: string, answer: TxtAnswer, width: number): Line[] {
	if ('failure' in answer) {
		const {failure} = answer;
		const none = failure.kind === 'nxdomain' || failure.kind === 'nodata';
		return para(`${label}: ${none ? 'no record' : `lookup failed: ${failure.kind}${failure.message ? ` (${failure.message})` : ''}`}`, width, none ? 'muted' : 'warning');
	}

	const alias = answer.cname && answer.cname.length > 0 ? [...para(`  via CNAME ${answer.cname.join(' → ')}`, width, 'muted')] : [];
	return answer.records.length === 0
		? para(`${label}: no record`, width, 'muted')
		: [...answer.records.flatMap(record => para(`${label}: "${record}"`, width)), ...alias];
}

function fetchLines(fetch: PolicyFetch, width: number): Line[] {
	const lines: Line[] = [...para(`Fetch: ${fetch.url}${fetch.ip ? ` [${fetch.ip}]` : ''}`, width)];
	const status = fetch.status === undefined ? 'no answer' : `HTTP ${fetch.status}`;
	lines.push({text: sanitize(`  ${status}${fetch.contentType ? `, ${fetch.contentType}` : ''}, ${Math.round(fetch.ms)}ms`, width), tone: fetch.status === 200 ? 'ok' : 'warning'});
	if (fetch.location) {
		lines.push(...para(`  redirect to ${fetch.location} (never followed)`, width, 'warning'));
	}

	if (fetch.error) {
		lines.push(...para(`  error (${fetch.error.kind}): ${fetch.error.message}`, width, 'warning'));
	}

	const cert = fetch.certificate;
	if (cert) {
		lines.push(...para(`  certificate: ${cert.authorized ? 'valid' : `not valid: ${cert.error ?? 'unknown reason'}`}${cert.subject ? `, ${cert.subject}` : ''}${cert.validTo ? `, until ${cert.validTo.slice(0, 10)}` : ''}`, width, cert.authorized ? 'ok' : 'warning'));
	}

	return lines;
}

/** The policy's fields, and how each MX host of the domain matched its `mx` patterns. */
function policyBodyLines(body: string, domain: DomainState, width: number, theme: Theme): Line[] {
	const {policy, errors} = parsePolicy(body);
	const lines: Line[] = [
		{text: sanitize(`  version ${policy.version ?? '(none)'}  mode ${policy.mode ?? '(none)'}  max_age ${policy.maxAge ?? '(none)'}`, width)},
		...para(`  mx: ${policy.mx.length > 0 ? policy.mx.join(', ') : '(none)'}`, width),
		...errors.flatMap((error: string) => para(`  ${theme.glyph.warning} ${error}`, width, 'warning')),
	];
	for (const mx of domain.plan?.mx ?? []) {
		const host = mx.exchange.replace(/\.$/, '');
		const pattern = matchingPattern(policy.mx, host);
		lines.push(...para(`  ${pattern === undefined ? theme.glyph.critical : theme.glyph.ok} ${host}: ${pattern === undefined ? 'no pattern matches' : `matches ${pattern}`}`, width, pattern === undefined ? 'critical' : 'ok'));
	}

	return lines;
}

function mtaStsLines(domain: DomainState, width: number, theme: Theme): Line[] {
	const facts = domain.policy?.mtaSts;
	if (!facts) {
		return [muted('not looked up yet')];
	}

	const lines = txtLines(`_mta-sts.${domain.domain}`, facts.txt, width);
	if (!facts.fetch) {
		return [...lines, muted('no policy fetched: not exactly one v=STSv1 record')];
	}

	lines.push(...fetchLines(facts.fetch, width));
	if (facts.fetch.body !== undefined) {
		lines.push(...policyBodyLines(facts.fetch.body, domain, width, theme));
	}

	return lines;
}

function tlsRptLines(domain: DomainState, width: number): Line[] {
	const txt = domain.policy?.tlsRpt.txt;
	if (!txt) {
		return [muted('not looked up yet')];
	}

	const lines = txtLines(`_smtp._tls.${domain.domain}`, txt, width);
	const records = 'records' in txt ? txt.records.filter(record => /^v=TLSRPTv1\s*;/i.test(record)) : [];
	for (const record of records) {
		const rua = /(?:^|;)\s*rua=([^;]*)/i.exec(record)?.[1]?.trim();
		lines.push(...para(`  rua: ${rua ?? '(none)'}`, width, rua ? undefined : 'warning'));
	}

	return lines;
}

function daneLines(host: HostState, context: PolicyContext, width: number, theme: Theme): Line[] {
	const lines: Line[] = [];
	const {validation, mxPolicy} = context;
	if (validation) {
		lines.push(...para(`Resolver ${validation.resolver}: ${validation.validates ? 'validates DNSSEC' : 'does not validate DNSSEC (DANE cannot be judged)'}${validation.detail ? ` (${validation.detail})` : ''}`, width, validation.validates ? undefined : 'warning'));
	}

	if (!mxPolicy) {
		return [...lines, muted('TLSA not looked up yet')];
	}

	const dnssecTone = (status: string): Tone => (status === 'secure' ? 'ok' : (status === 'bogus' ? 'critical' : 'muted'));
	lines.push(
		{text: sanitize(`MX host DNSSEC: ${mxPolicy.dnssec}`, width), tone: dnssecTone(mxPolicy.dnssec)},
		...para(`TLSA ${mxPolicy.tlsaName}: ${mxPolicy.tlsa.length} record${mxPolicy.tlsa.length === 1 ? '' : 's'}, DNSSEC ${mxPolicy.tlsaDnssec}`, width, dnssecTone(mxPolicy.tlsaDnssec)),
	);
	if (mxPolicy.error) {
		lines.push(...para(`  lookup error: ${mxPolicy.error}`, width, 'warning'));
	}

	const {dane} = host;
	for (const record of mxPolicy.tlsa) {
		const match = dane?.records.find(item => item.record.usage === record.usage && item.record.selector === record.selector && item.record.matchingType === record.matchingType && item.record.data === record.data);
		const data = record.data.length > 16 ? `${record.data.slice(0, 16)}…` : record.data;
		let how = '';
		if (match) {
			how = match.matchedDepth === undefined
				? ` ${match.usable ? theme.glyph.warning : theme.glyph.skipped} ${match.usable ? 'no match' : 'unusable'}${match.reason ? `: ${match.reason}` : ''}`
				: ` ${theme.glyph.ok} matched at depth ${match.matchedDepth}${match.matchedDepth === 0 ? ' (leaf)' : ''}`;
		}

		const tone: Tone | undefined = match ? (match.matchedDepth === undefined ? (match.usable ? 'warning' : 'muted') : 'ok') : undefined;
		lines.push(...para(`  ${record.usage} ${record.selector} ${record.matchingType} ${data}${how}`, width, tone));
	}

	if (dane) {
		const tone: Tone = dane.match === 'matched' ? 'ok' : (dane.match === 'mismatch' ? 'critical' : (dane.match === 'unusable' ? 'warning' : 'muted'));
		lines.push(...para(`DANE: ${dane.checked ? dane.match : 'not checked'}${dane.depth === undefined ? '' : ` at depth ${dane.depth}`}${dane.reason ? `: ${dane.reason}` : ''}`, width, tone));
	}

	return lines;
}

function dnsblLines(answers: DnsblAnswer[] | undefined, width: number, theme: Theme): Line[] {
	if (!answers) {
		return [muted('not looked up yet')];
	}

	if (answers.length === 0) {
		return [muted('no blocklists asked')];
	}

	return answers.flatMap(answer => {
		if (answer.error) {
			return para(`  ${theme.glyph.skipped} ${answer.zone}: no verdict: ${answer.error}`, width, 'muted');
		}

		if (!answer.listed) {
			return para(`  ${theme.glyph.ok} ${answer.zone}: not listed`, width, 'ok');
		}

		const codes = answer.codes.map((code, index) => (answer.meanings?.[index] ? `${code} (${answer.meanings[index]})` : code)).join(', ');
		return [
			...para(`  ${theme.glyph.critical} ${answer.zone}: LISTED ${codes}`, width, 'critical'),
			...(answer.text ? para(`      TXT "${answer.text}"`, width, 'critical') : []),
		];
	});
}

function tlsScanLines(host: HostState, scan: TlsVersionScan | undefined, width: number, theme: Theme): Line[] {
	const lines: Line[] = host.scanning ? [{text: 'scanning…', tone: 'running'}] : [];
	if (!scan) {
		return [...lines, ...(host.scanning ? [] : [muted('not scanned: press t to try each version')])];
	}

	for (const version of tlsVersionNames) {
		const accepted = scan.accepted[version];
		const detail = scan.detail[version];
		const legacy = version === 'TLSv1' || version === 'TLSv1.1';
		const word = accepted === undefined ? 'not tried' : (accepted ? 'accepted' : 'refused');
		const glyph = accepted === undefined ? theme.glyph.skipped : (accepted ? (legacy ? theme.glyph.warning : theme.glyph.ok) : theme.glyph.skipped);
		const tone: Tone = accepted === undefined ? 'muted' : (accepted ? (legacy ? 'warning' : 'ok') : 'muted');
		lines.push(...para(`  ${glyph} ${version.padEnd(8)}${word}${detail ? `: ${detail}` : ''}`, width, tone));
	}

	if (scan.untried.length > 0) {
		lines.push(...para(`  not tried (Node's OpenSSL cannot): ${scan.untried.join(', ')}`, width, 'muted'));
	}

	return lines;
}

/** The domain's own policy (MTA-STS, TLS-RPT), for the domain screen: it is the same for all its hosts. */
export function domainPolicyLines(domain: DomainState, width: number, theme: Theme): Line[] {
	return [heading('MTA-STS'), ...mtaStsLines(domain, width, theme), {text: ''}, heading('TLS-RPT'), ...tlsRptLines(domain, width)];
}

/**
 * The Policy pane: what each kind of sender would do with this address under this domain, then
 * the facts behind it: MTA-STS, TLS-RPT, DANE, blocklists and the TLS-version scan.
 */
export function policyLines(host: HostState, domain: DomainState | undefined, context: PolicyContext, width: number, theme: Theme): Line[] {
	const delivery = domain?.addresses[host.key]?.delivery;
	const lines: Line[] = [heading('Delivery')];
	if (delivery) {
		const senders = [['opportunistic', delivery.opportunistic, delivery.reasons.opportunistic], ['MTA-STS', delivery.mtaSts, delivery.reasons.mtaSts], ['DANE', delivery.dane, delivery.reasons.dane]] as const;
		for (const [name, verdict, reason] of senders) {
			lines.push(...para(`${verdictGlyph(verdict, theme)} ${name.padEnd(14)}${verdict}: ${reason}`, width, verdictTone(verdict)));
		}
	} else {
		lines.push(muted(host.phase === 'done' ? 'not judged' : 'not judged yet'));
	}

	lines.push({text: ''}, heading('MTA-STS'), ...(domain ? mtaStsLines(domain, width, theme) : [muted('no domain')]));
	lines.push({text: ''}, heading('TLS-RPT'), ...(domain ? tlsRptLines(domain, width) : [muted('no domain')]));
	lines.push({text: ''}, heading('DANE'), ...daneLines(host, context, width, theme));
	lines.push({text: ''}, heading(`Blocklists (${sanitize(host.ip)})`), ...dnsblLines(host.dnsbl, width, theme));
	lines.push({text: ''}, heading('TLS versions'), ...tlsScanLines(host, host.tlsScan, width, theme));
	return lines;
}
