import {sanitize} from '../core/sanitize.js';
import {counted, domainLabel, withPort} from '../core/text.js';
import type {AddressReport, DomainReport, Report, StageReport, Status} from '../core/run/report-model.js';
import type {Finding, Severity, StageName} from '../core/types.js';
import {stageNames} from '../core/types.js';

const statusWords: Record<Status, string> = {ok: 'OK', warning: 'WARNING', critical: 'CRITICAL', unknown: 'UNKNOWN'};
const stageWords: Record<StageReport['status'], string> = {pending: '...', running: '...', ok: 'ok', warning: 'WARN', critical: 'FAIL', skipped: '-'};
const labels: Record<StageName, string> = {connect: 'connect', banner: 'banner', ehlo: 'ehlo', starttls: 'starttls', tls: 'tls', ehloTls: 'ehlo-tls', relay: 'relay', quit: 'quit'};

export const severities: readonly Severity[] = ['info', 'warning', 'critical'];

export type TextOptions = {
	/** List only findings at or above this severity; the summary counts and the exit code keep them all. */
	minSeverity?: Severity;
};

/** Server text, made safe for a terminal or a log, and never cut: long text is wrapped. */
const safe = (text: string): string => sanitize(text);

/** The report's width; lines are wrapped to it, never cut (the evidence is the point). */
const width = 100;

/**
 * `text` (already sanitized) after `first` on the first line and `rest` on the next ones,
 * broken at spaces to fit `width`; a word longer than a line is broken where it must be.
 */
function wrap(first: string, text: string, rest: string): string[] {
	const lines: string[] = [];
	let prefix = first;
	let line = '';
	const push = (): void => {
		lines.push(prefix + line.trimEnd());
		prefix = rest;
		line = '';
	};

	const room = (): number => Math.max(20, width - prefix.length);
	for (const word of text.split(/(?<= )/)) {
		if (line.length > 0 && line.length + word.trimEnd().length > room()) {
			push();
		}

		let piece = word;
		// A word longer than a whole line is broken where it must be: nothing is dropped.
		while (line.length + piece.trimEnd().length > room()) {
			const take = room() - line.length;
			line += piece.slice(0, take);
			piece = piece.slice(take);
			push();
		}

		line += piece;
	}

	push();
	return lines;
}

function stageCell(address: AddressReport, name: StageName): string {
	const stage = address.stages[name];
	const ms = stage.ms === undefined || stage.status === 'skipped' ? '' : ` ${Math.round(stage.ms)}ms`;
	let value = '';
	if (name === 'tls' && address.tls) {
		value = ` ${address.tls.version}`;
	} else if (name === 'relay' && address.relay.tested) {
		value = address.relay.open ? ' OPEN' : (address.relay.inconclusive ? ' inconclusive' : ' closed');
	} else if (stage.outcome === 'failed' && stage.error) {
		value = ` ${stage.error}`;
	}

	return `${labels[name]} ${stageWords[stage.status]}${value}${ms}`;
}

function findingLines(findings: Finding[], where: string, indent: string): string[] {
	return findings.map(item => [
		...wrap(`${indent}${item.severity.toUpperCase().padEnd(8)} ${item.id}${where ? ` [${where}]` : ''}: `, safe(item.message), `${indent}${' '.repeat(9)}`),
		...wrap(`${indent}${' '.repeat(9)}-> `, item.advice, `${indent}${' '.repeat(12)}`),
	].join('\n'));
}

/**
 * The greeting whole, one line of the report for each line of the reply, with its code and
 * separator as the server sent them: a postscreen "220-" pre-greeting is evidence too.
 */
function bannerLines(banner: {code: number; text: string}): string[] {
	const lines = banner.text.split('\n');
	return lines.map((line, index) => {
		const separator = index < lines.length - 1 ? '-' : ' ';
		return wrap(index === 0 ? '             banner: ' : ' '.repeat(21), `${banner.code}${separator}${sanitize(line)}`, ' '.repeat(25));
	}).flat();
}

type Shown = (findings: Finding[]) => Finding[];

function addressLines(address: AddressReport, exchange: string, shown: Shown): string[] {
	const leaf = address.tls?.chain[0];
	const facts = [
		address.ptr ? `ptr ${safe(address.ptr)}` : 'no ptr',
		address.software ? safe(address.software) : undefined,
		address.softwareVersion ? `version ${safe(address.softwareVersion)}` : undefined,
		leaf ? `cert ${leaf.daysLeft} d` : undefined,
		`${Math.round(address.ms)} ms`,
	].filter(Boolean).join(', ');
	const stages = stageNames.map(name => stageCell(address, name)).join(' | ');
	const where = withPort(address.ip, address.port === 25 ? undefined : address.port);
	return [
		`    ${statusWords[address.status].padEnd(8)} ${where}  (${facts})`,
		`             ${stages}`,
		...(address.banner ? bannerLines(address.banner) : []),
		...policyLines(address),
		...findingLines(shown(address.findings), `${safe(exchange)} ${address.ip}`, '             '),
	];
}

/** What each sender would do, the blocklists and the TLS versions of one address. */
function policyLines(address: AddressReport): string[] {
	const lines: string[] = [];
	const {delivery, dnsbl, tlsVersions} = address;
	if (delivery) {
		lines.push(`             delivery: opportunistic ${delivery.opportunistic}, MTA-STS ${delivery.mtaSts}, DANE ${delivery.dane}${address.dane?.checked && address.dane.match !== 'none' ? ` (TLSA ${address.dane.match}${address.dane.depth === undefined ? '' : ` at depth ${address.dane.depth}`})` : ''}`);
	}

	const listed = (dnsbl ?? []).filter(item => item.listed).map(item => safe(item.zone));
	if (dnsbl && dnsbl.length > 0) {
		lines.push(`             blocklists: ${listed.length > 0 ? `listed on ${listed.join(', ')}` : `not listed on ${dnsbl.filter(item => !item.error).length} of ${dnsbl.length}`}`);
	}

	if (tlsVersions) {
		lines.push(`             TLS versions: ${Object.entries(tlsVersions).map(([version, accepted]) => `${version} ${accepted ? 'yes' : 'no'}`).join(', ')} (SSLv3 cannot be tried: Node's OpenSSL has none)`);
	}

	return lines;
}

function domainPolicyLine(domain: DomainReport): string[] {
	const {policy} = domain;
	if (!policy) {
		return [];
	}

	const {mtaSts, tlsRpt} = policy;
	const sts = mtaSts.policy && !mtaSts.error
		? `MTA-STS ${safe(mtaSts.policy.mode ?? '?')} (id ${safe(mtaSts.record?.id ?? '?')}, mx ${mtaSts.policy.mx.map(item => safe(item)).join(' ')}, max_age ${mtaSts.policy.maxAge ?? '?'})`
		: (mtaSts.record || mtaSts.records.length > 0 ? `MTA-STS unusable (${safe(mtaSts.error ?? '?')})` : 'no MTA-STS');
	const rpt = tlsRpt.record ? `TLS-RPT ${tlsRpt.error ? `invalid (${safe(tlsRpt.error)})` : tlsRpt.rua.map(item => safe(item)).join(' ')}` : 'no TLS-RPT';
	return [`  ${sts}; ${rpt}`];
}

function domainBlock(domain: DomainReport, shown: Shown): string {
	const addresses = domain.mx.reduce((sum, mx) => sum + mx.addresses.length, 0);
	const lines = [
		`${safe(domainLabel(domain.domain))}  ${statusWords[domain.status]}  (${domain.direct ? 'given directly, no MX lookup' : `${domain.mx.length} MX`}, ${counted(addresses, 'address', 'addresses')})`,
		...domainPolicyLine(domain),
		...findingLines(shown(domain.findings), '', '  '),
	];
	for (const mx of domain.mx) {
		const alias = mx.cname ? ` (alias of ${mx.cname.map(name => safe(name)).join(' -> ')})` : '';
		const dnssec = mx.dnssec ? `, DNSSEC ${mx.dnssec}${mx.tlsa && mx.tlsa.length > 0 ? `, ${counted(mx.tlsa.length, 'TLSA record')}` : ''}` : '';
		lines.push(domain.direct ? `  server ${safe(mx.exchange)} port ${mx.port ?? 25} (--server)` : `  MX ${mx.implicit ? '(implicit)' : String(mx.preference)} ${safe(mx.exchange)}${alias}${dnssec}`);
		lines.push(...findingLines(shown(mx.findings), safe(mx.exchange), '    '));
		for (const address of mx.addresses) {
			lines.push(...addressLines(address, mx.exchange, shown));
		}
	}

	return lines.join('\n');
}

/** The readable report for a pipe or a log: one block per domain, every server string sanitized. */
export function textReport(report: Report, {minSeverity = 'info'}: TextOptions = {}): string {
	const {summary} = report;
	const counts = `${summary.findings.critical} critical, ${summary.findings.warning} warning, ${summary.findings.info} info`;
	const floor = severities.indexOf(minSeverity);
	// Counted as the summary counts: the run's findings, repeated in every domain's list, once.
	const omittedRun = new Set<Finding>();
	let omittedOther = 0;
	const shown: Shown = findings => findings.filter(item => {
		const keep = severities.indexOf(item.severity) >= floor;
		if (!keep && report.findings.includes(item)) {
			omittedRun.add(item);
		} else if (!keep) {
			omittedOther++;
		}

		return keep;
	});
	const blocks = [...findingLines(shown(report.findings), '', ''), ...report.domains.map(domain => domainBlock(domain, shown))];
	const below = severities.slice(0, floor).join(' and ');
	const omitted = omittedRun.size + omittedOther;
	return [
		...blocks,
		...(floor > 0 ? [`${counted(omitted, `${below} finding`)} left out (--min-severity ${minSeverity}; --json lists them all)`] : []),
		`mxdash ${report.version}: ${statusWords[summary.status]} - ${counted(summary.domains, 'domain')}, ${counted(summary.hosts, 'MX host')}, ${counted(summary.addresses, 'address', 'addresses')}; ${counts}; exit ${summary.exitCode}`,
	].join('\n\n') + '\n';
}
