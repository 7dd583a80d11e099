import {hasWeakKey, hasWeakSignature} from '../core/checks/certificate.js';
import {bySeverity} from '../core/checks/index.js';
import {sanitize} from '../core/sanitize.js';
import type {CertInfo, Finding, StageName} from '../core/types.js';
import {stageNames} from '../core/types.js';
import {stageStatus} from '../core/run/report-model.js';
import {describeTlsFailure} from '../core/tls/failure.js';
import {duration} from './format.js';
import type {DomainState, HostState} from './store.js';
import type {Theme, Tone} from './theme.js';
import {toneOf} from './theme.js';

/** One line of a pane: already sanitized and cut to the pane's width. */
export type Line = {text: string; tone?: Tone; bold?: boolean};

export const paneNames = ['Summary', 'Transcript', 'Certificates', 'Findings', 'Policy'] as const;
export type PaneName = (typeof paneNames)[number];

/** Word-wrap `text` (sanitized first) into lines of at most `width`, cutting words that are too long. */
export function wrap(text: string, width: number, indent = ''): string[] {
	const safe = sanitize(text);
	const room = Math.max(8, width - indent.length);
	const lines: string[] = [];
	let current = '';
	for (const word of safe.split(' ')) {
		let rest = word;
		while ([...rest].length > room) {
			if (current) {
				lines.push(current);
				current = '';
			}

			lines.push([...rest].slice(0, room).join(''));
			rest = [...rest].slice(room).join('');
		}

		if (current && [...`${current} ${rest}`].length > room) {
			lines.push(current);
			current = rest;
		} else {
			current = current ? `${current} ${rest}` : rest;
		}
	}

	if (current || lines.length === 0) {
		lines.push(current);
	}

	return lines.map((line, index) => (index === 0 ? line : indent + line));
}

const stageTitles: Record<StageName, string> = {connect: 'connect', banner: 'banner', ehlo: 'EHLO', starttls: 'STARTTLS', tls: 'TLS', ehloTls: 'EHLO (TLS)', relay: 'relay', quit: 'QUIT'};

/** The timing waterfall: one bar per stage, placed on the session's time axis. */
export function waterfall(host: HostState, width: number, theme: Theme): Line[] {
	const total = Math.max(1, host.result?.ms ?? Math.max(...stageNames.map(name => (host.stages[name].startedAt ?? 0) + (host.stages[name].ms ?? 0))));
	const barWidth = Math.max(10, width - 24);
	return stageNames.map(name => {
		const stage = host.stages[name];
		const start = Math.floor(((stage.startedAt ?? 0) / total) * barWidth);
		const length = stage.ms === undefined ? 0 : Math.max(1, Math.round((stage.ms / total) * barWidth));
		const shown = stage.state === 'running' || stage.state === 'done';
		const bar = shown ? ' '.repeat(Math.min(start, barWidth - 1)) + (theme.ascii ? '#' : '█').repeat(Math.min(length, barWidth - start)) : '';
		// Toned by the findings that judge the stage, once the engine has judged the session.
		const status = host.judged ? stageStatus(name, stage, host.findings) : stage.state;
		const tone: Tone = status === 'ok' || status === 'warning' || status === 'critical' || status === 'running' ? status : 'muted';
		return {text: `${stageTitles[name].padEnd(11)}${duration(stage.ms).padStart(7)} ${bar}`, tone};
	});
}

export function summaryLines(host: HostState, domain: DomainState | undefined, width: number, theme: Theme): Line[] {
	const result = host.result;
	const lines: Line[] = [];
	const banner = result?.banner;
	lines.push({text: 'Greeting', bold: true});
	lines.push(...(banner ? banner.text.split('\n').flatMap(text => wrap(`${banner.code} ${text}`, width, '    ')).map(text => ({text})) : [{text: host.phase === 'done' ? 'none' : '…', tone: 'muted' as Tone}]));
	lines.push({text: `Software: ${sanitize(result?.software ?? 'not recognised')}`});
	if (result?.software) {
		lines.push({text: `Version: ${sanitize(result.softwareVersion ?? 'not disclosed')}`});
	}

	const ptr = host.ptr;
	lines.push({text: `PTR: ${ptr ? (ptr.ptr ? `${sanitize(ptr.ptr)}${ptr.fcrdns ? ' (forward-confirmed)' : ' (does not resolve back)'}` : (ptr.error ? `lookup failed: ${ptr.error}` : 'none')) : '…'}`});
	const tls = host.tls;
	lines.push({text: 'TLS session', bold: true});
	lines.push(tls
		? {text: sanitize(`${tls.version}  ${tls.cipher}${tls.keyExchange ? `  ${tls.keyExchange}` : ''}`, width)}
		// OpenSSL's raw text (file, line, a newline) stays in the JSON; here it is said in words.
		: {text: sanitize(host.stages.tls.outcome === 'failed' ? (host.stages.tls.detail ? describeTlsFailure(host.stages.tls.detail) : 'failed') : host.stages.starttls.detail ?? 'none', width), tone: 'muted'});
	lines.push({text: 'Timing', bold: true}, ...waterfall(host, width, theme));
	const changes = [...host.changes, ...(domain?.changes ?? [])];
	if (changes.length > 0) {
		lines.push({text: 'Changed since the previous round', bold: true}, ...changeLines(changes, width, theme));
	}

	if (host.history.length > 0) {
		const marks = host.history.map(round => (round.status === 'ok' ? theme.glyph.ok : (round.status === 'critical' ? theme.glyph.critical : theme.glyph.warning))).join(' ');
		lines.push({text: `History (oldest first): ${marks}`});
	}

	return lines;
}

/** EHLO extensions before and after TLS, as rows for the table. */
export function extensionRows(host: HostState): Array<{Extension: string; 'Before TLS': string; 'After TLS': string}> {
	const before = host.result?.ehlo?.extensions ?? [];
	const after = host.result?.ehlo?.extensionsAfterTls;
	const keywords = [...new Set([...before, ...(after ?? [])].map(extension => extension.keyword))];
	const show = (list: typeof before | undefined, keyword: string): string => {
		const found = list?.find(extension => extension.keyword === keyword);
		return found ? sanitize([keyword === 'SIZE' ? found.params[0] ?? 'yes' : 'yes', ...(keyword === 'SIZE' ? [] : found.params)].join(' '), 24) : (list ? '-' : 'n/a');
	};

	return keywords.map(keyword => ({Extension: sanitize(keyword, 20), 'Before TLS': show(before, keyword), 'After TLS': show(after, keyword)}));
}

const arrows = {client: '→', server: '←', info: '·'};
const asciiArrows = {client: '>', server: '<', info: '*'};

export function transcriptLines(host: HostState, width: number, theme: Theme): Line[] {
	const lines: Line[] = [];
	let inTls = false;
	for (const line of host.transcript) {
		if (line.tls && !inTls) {
			inTls = true;
			lines.push({text: `${theme.ascii ? '----' : '────'} TLS ${host.tls?.version ?? ''} ${theme.ascii ? '----' : '────'}`, tone: 'accent'});
		}

		const time = `+${(line.t / 1000).toFixed(3)}s`.padStart(9);
		const arrow = (theme.ascii ? asciiArrows : arrows)[line.dir];
		const tone: Tone | undefined = line.dir === 'client' ? 'running' : (line.dir === 'info' ? 'muted' : undefined);
		lines.push({text: `${time} ${arrow} ${sanitize(line.text, Math.max(8, width - 12))}`, ...(tone ? {tone} : {})});
	}

	return lines.length > 0 ? lines : [{text: 'nothing yet', tone: 'muted'}];
}

function certLines(cert: CertInfo, index: number, count: number, width: number, flags: {expiring: boolean; nameMismatch: boolean}): Line[] {
	const role = index === 0 ? 'leaf' : (index === count - 1 && cert.selfSigned ? 'root' : 'intermediate');
	// `expiring` comes from the findings, which know --warn-days.
	const days: Tone = cert.daysLeft < 0 ? 'critical' : (flags.expiring ? 'warning' : 'ok');
	const left = cert.daysLeft < 0 ? `expired ${-cert.daysLeft} day${cert.daysLeft === -1 ? '' : 's'} ago` : `${cert.daysLeft} day${cert.daysLeft === 1 ? '' : 's'} left`;
	const weakKey = hasWeakKey(cert);
	const weakSignature = hasWeakSignature(cert);
	return [
		{text: sanitize(`[${index}] ${role}: ${cert.subject}`, width), bold: true},
		...wrap(`Issuer: ${cert.issuer}`, width, '    ').map(text => ({text})),
		{text: `Valid: ${cert.validFrom.slice(0, 10)} → ${cert.validTo.slice(0, 10)} (${left})`, tone: days},
		// On a name mismatch the leaf's names are what the host name was checked against.
		...(cert.san.length > 0 ? wrap(`SAN: ${cert.san.join(', ')}`, width, '    ').map(text => ({text, ...(flags.nameMismatch ? {tone: 'warning' as Tone} : {})})) : []),
		{text: `Key: ${cert.keyType.toUpperCase()} ${cert.keyBits ?? '?'} bits${cert.curve ? ` (${cert.curve})` : ''}`, ...(weakKey ? {tone: 'warning' as Tone} : {})},
		{text: `Signature: ${sanitize(cert.signatureAlgorithm)}`, ...(weakSignature ? {tone: 'warning' as Tone} : {})},
		...fingerprintLines(cert.fingerprint256, width),
		{text: `Serial ${sanitize(cert.serialNumber, 40)}${cert.ca ? '  CA' : ''}${cert.selfSigned ? '  self-signed' : ''}`, tone: 'muted'},
		{text: ''},
	];
}

/**
 * The fingerprint whole on one line, so that it can be copied: after its label when that fits,
 * else on a line of its own (the pane cuts it, with a marker, only when even that is too wide).
 */
function fingerprintLines(fingerprint: string, width: number): Line[] {
	const value = sanitize(fingerprint);
	const labelled = `SHA-256: ${value}`;
	return [...labelled].length <= width ? [{text: labelled, tone: 'muted'}] : [{text: 'SHA-256:', tone: 'muted'}, {text: value, tone: 'muted'}];
}

/** Node reports a name mismatch as the authorization error even when the chain is trusted. */
const nameErrors = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'Hostname/IP does not match certificate\'s altnames']);

export function certificateLines(host: HostState, width: number, theme: Theme): Line[] {
	const tls = host.tls;
	if (!tls) {
		return [{text: host.phase === 'done' ? 'No TLS session: no certificate.' : '…', tone: 'muted'}];
	}

	// Two facts: whether the chain is trusted, and whether its names cover the host.
	const trusted = tls.authorized || nameErrors.has(tls.authorizationError ?? '');
	return [
		{text: trusted ? `${theme.glyph.ok} chain verified: trusted` : `${theme.glyph.warning} chain not verified: ${sanitize(tls.authorizationError ?? 'unknown reason')}`, tone: trusted ? 'ok' : 'warning'},
		{text: tls.hostnameMatch ? `${theme.glyph.ok} names cover ${sanitize(host.exchange)}` : `${theme.glyph.warning} names do not cover ${sanitize(host.exchange)}`, tone: tls.hostnameMatch ? 'ok' : 'warning'},
		...(tls.chainIncomplete ? [{text: `${theme.glyph.warning} chain incomplete: an intermediate is missing`, tone: 'warning' as Tone}] : []),
		{text: chainSummary(tls)},
		{text: ''},
		...(tls.sent ? [{text: 'As sent (the server\'s order):', bold: true}, ...tls.sent.flatMap((cert, index) => sentLines(cert, index, width)), {text: ''}] : []),
		{text: 'Verified path, leaf to root:', bold: true},
		...tls.chain.flatMap((cert, index) => certLines(cert, index, tls.chain.length, width, {expiring: index === 0 && host.findings.some(item => item.id === 'cert-expiring'), nameMismatch: index === 0 && !tls.hostnameMatch})),
	];
}

/** The two chains in one sentence: how many were sent, how long the verified path is, and where its root came from. */
export function chainSummary(tls: {chain: readonly CertInfo[]; sent?: readonly CertInfo[]}): string {
	const path = tls.chain.length;
	const root = tls.chain.at(-1);
	// A root the server did not send came from the trust store (or --ca).
	const rootFrom = root?.selfSigned ? (tls.sent?.some(cert => cert.fingerprint256 === root.fingerprint256) ? ' (root sent by the server)' : ' (root from the trust store)') : '';
	const verified = `verified path ${path}${rootFrom}`;
	return tls.sent ? `sent ${tls.sent.length} certificate${tls.sent.length === 1 ? '' : 's'}; ${verified}` : `${path} certificate(s), leaf to root; ${verified}`;
}

/** A certificate as sent: its place in the server's order, subject, issuer and fingerprint. */
function sentLines(cert: CertInfo, index: number, width: number): Line[] {
	return [
		{text: sanitize(`#${index + 1} ${cert.subject}`, width)},
		...wrap(`Issuer: ${cert.issuer}`, width, '      ').map(text => ({text: `   ${text.trimStart()}`, tone: 'muted' as Tone})),
		{text: sanitize(`   SHA-256: ${cert.fingerprint256}`, width), tone: 'muted'},
	];
}

export function findingLines(findings: Finding[], width: number, theme: Theme): Line[] {
	if (findings.length === 0) {
		return [{text: 'No findings.', tone: 'ok'}];
	}

	return [...findings].sort(bySeverity).flatMap(item => {
		const glyph = item.severity === 'critical' ? theme.glyph.critical : (item.severity === 'warning' ? theme.glyph.warning : theme.glyph.info);
		return [
			{text: `${glyph} ${item.severity.toUpperCase()} ${item.id}`, tone: toneOf(item.severity), bold: true},
			...wrap(item.message, width, '  ').map(text => ({text: `  ${text.trimStart()}`})),
			...wrap(`→ ${item.advice}`, width, '    ').map(text => ({text: `  ${text.trimStart()}`, tone: 'muted' as Tone})),
			{text: ''},
		];
	});
}

function failureText(failure: {kind: string; message: string}): string {
	return `${failure.kind}${failure.message ? `: ${failure.message}` : ''}`;
}

/** What the MX query answered, in words. */
function queryLine(domain: DomainState): Line {
	const plan = domain.plan;
	if (!plan) {
		return {text: 'Resolving…', tone: 'muted'};
	}

	const {query} = plan;
	switch (query.answer) {
		case 'records': {
			return query.nullRecords > 0 && query.records === query.nullRecords
				? {text: 'Null MX: the domain says it accepts no mail', tone: 'info'}
				: {text: `${query.records} MX record${query.records === 1 ? '' : 's'}${query.nullRecords > 0 ? ` (${query.nullRecords} null)` : ''}`};
		}

		case 'failed': {
			return {text: `MX lookup failed: ${sanitize(failureText(query.failure))}`, tone: 'critical'};
		}

		case 'none': {
			return {text: 'No MX records: mail goes to the domain\'s own address (implicit MX)'};
		}

		case 'direct': {
			return {text: 'Given directly (--server): no MX lookup'};
		}
	}
}

/**
 * A domain's screen: its plan (each MX host with its preference and its addresses, or why it
 * has none) and its findings, the MX hosts' included (a host with no address has no row).
 */
export function domainLines(domain: DomainState, width: number, theme: Theme): Line[] {
	const lines: Line[] = [{text: 'MX plan', bold: true}, queryLine(domain)];
	for (const mx of domain.plan?.mx ?? []) {
		const alias = mx.cname && mx.cname.length > 0 ? ` (alias: ${mx.cname.join(' → ')})` : '';
		lines.push(...wrap(`${mx.implicit ? 'implicit' : mx.preference} ${mx.exchange}${alias}`, width, '  ').map(text => ({text: `  ${text.trimStart()}`})));
		if (mx.addresses.length > 0) {
			lines.push(...mx.addresses.map(ip => ({text: `    ${ip}`})));
		} else {
			const why = mx.cnameLoop ? 'its CNAME chain loops or is too long' : (mx.lookupFailures?.map(failure => failureText(failure)).join('; ') || 'no A or AAAA record');
			lines.push(...wrap(`no address: ${why}`, width, '    ').map(text => ({text: `    ${text.trimStart()}`, tone: 'warning' as Tone})));
		}
	}

	if (domain.changes.length > 0) {
		lines.push({text: ''}, {text: 'Changed since the previous round', bold: true}, ...changeLines(domain.changes, width, theme));
	}

	lines.push({text: ''}, {text: 'Findings', bold: true});
	lines.push(...findingLines([...domain.findings, ...domain.mxFindings.flat()], width, theme));
	return lines;
}

/** Each change (old → new) wrapped, not cut: the new value is the end of the line. */
function changeLines(changes: string[], width: number, theme: Theme): Line[] {
	return changes.flatMap(change => wrap(`${theme.glyph.changed} ${change}`, width, '  ').map((text, index) => ({text: index === 0 ? text : `  ${text.trimStart()}`, tone: 'accent' as Tone})));
}
