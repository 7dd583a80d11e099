import {worst} from '../core/checks/index.js';
import type {Finding, Severity, Stage, StageError, StageName} from '../core/types.js';
import type {Verdict} from '../core/policy/types.js';
import type {DomainState, HostState} from './store.js';
import type {Theme, Tone} from './theme.js';
import {toneOf} from './theme.js';

export type Cell = {text: string; tone: Tone};

export type ColumnId = 'connect' | 'banner' | 'ehlo' | 'starttls' | 'tls' | 'cert' | 'relay';

const ofStages = (...stages: StageName[]) => (item: Finding): boolean => item.stage !== undefined && stages.includes(item.stage);

/**
 * The stage columns: their width, the stage whose facts they show, and the findings that tone
 * them: those judging these stages or, for the certificate (no stage), the certificate check's.
 */
export const stageColumns: Array<{id: ColumnId; title: string; width: number; stage: StageName; judges: (item: Finding) => boolean}> = [
	{id: 'connect', title: 'Connect', width: 9, stage: 'connect', judges: ofStages('connect')},
	{id: 'banner', title: 'Banner', width: 7, stage: 'banner', judges: ofStages('banner')},
	{id: 'ehlo', title: 'EHLO', width: 6, stage: 'ehlo', judges: ofStages('ehlo', 'ehloTls')},
	{id: 'starttls', title: 'STLS', width: 6, stage: 'starttls', judges: ofStages('starttls')},
	{id: 'tls', title: 'TLS', width: 5, stage: 'tls', judges: ofStages('tls')},
	// Without a certificate (no handshake) the cell says why, toned like the TLS stage.
	{id: 'cert', title: 'Cert', width: 7, stage: 'tls', judges: item => item.check === 'certificate'},
	{id: 'relay', title: 'Relay', width: 8, stage: 'relay', judges: ofStages('relay', 'quit')},
];

export const totalWidth = 6;

export function duration(ms: number | undefined): string {
	if (ms === undefined) {
		return '';
	}

	return ms < 1000 ? `${Math.round(ms)}ms` : (ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`);
}

/** A failure in at most six columns. */
const errorWords: Partial<Record<StageError, string>> = {refused: 'refused', timeout: 'timeout', unreachable: 'unreach', reset: 'reset', closed: 'closed', 'rate-limited': '421', 'tls-failed': 'fail', missing: 'none'};

function errorWord(stage: Stage): string {
	return stage.reply ? String(stage.reply.code) : (errorWords[stage.error!] ?? stage.error!.slice(0, 6));
}

/** The worst severity among the findings that judge `column`. */
export function columnSeverity(findings: readonly Finding[], column: (typeof stageColumns)[number]): Severity | undefined {
	return worst(findings.filter(item => column.judges(item)));
}

/**
 * What one grid cell shows for a host: glyph and short value, toned by the findings of its
 * stage once the engine has judged the session, and neutral until then.
 */
export function stageCell(host: HostState, column: (typeof stageColumns)[number], theme: Theme, frame: number): Cell {
	const stage = host.stages[column.stage];
	const {glyph} = theme;
	if (stage.state === 'running') {
		return {text: theme.spinner[frame % theme.spinner.length]!, tone: 'running'};
	}

	if (stage.state === 'pending') {
		return {text: host.phase === 'done' ? glyph.skipped : glyph.pending, tone: 'muted'};
	}

	if (stage.state === 'skipped') {
		return {text: column.id === 'relay' && stage.detail === 'relay test off' ? `${glyph.skipped}off` : glyph.skipped, tone: 'muted'};
	}

	const value = cellValue(host, column.id);
	if (!host.judged) {
		return {text: ` ${value}`, tone: 'muted'};
	}

	const judging = column.id === 'cert' && !host.tls?.chain[0] ? stageColumns.find(item => item.id === 'tls')! : column;
	const severity = columnSeverity(host.findings, judging);
	// An info finding (greylisted relay test, no TLS 1.3) is shown as such, not as a plain pass.
	const tone: Tone = severity ? toneOf(severity) : 'ok';
	const mark = severity ? glyph[severity] : glyph.ok;
	return {text: `${mark}${value}`, tone};
}

/** Days as a short value: 9d, 364d, 3y; negative when past. */
function days(value: number): string {
	return Math.abs(value) < 1000 ? `${value}d` : `${Math.trunc(value / 365)}y`;
}

function cellValue(host: HostState, column: ColumnId): string {
	const stage = host.stages[column === 'cert' ? 'tls' : column];
	const failed = stage.outcome === 'failed' && stage.error !== undefined;
	const result = host.result;
	switch (column) {
		case 'connect':
		case 'banner': {
			return failed ? errorWord(stage) : duration(stage.ms);
		}

		case 'ehlo': {
			return result?.ehlo?.greeting === 'HELO' ? 'HELO' : (failed ? errorWord(stage) : '');
		}

		case 'starttls':
		case 'tls': {
			return failed ? errorWord(stage) : (column === 'tls' ? host.tls?.version.replace(/^TLSv/, '') ?? '' : '');
		}

		case 'cert': {
			const leaf = host.tls?.chain[0];
			if (!leaf) {
				return failed ? 'none' : '';
			}

			if (!host.tls!.hostnameMatch && leaf.daysLeft >= 0) {
				return 'name';
			}

			return days(leaf.daysLeft);
		}

		case 'relay': {
			const relay = result?.relay;
			if (!relay?.tested) {
				return failed ? errorWord(stage) : '';
			}

			if (relay.open) {
				return 'OPEN';
			}

			const code = relay.attempts.find(attempt => attempt.code !== undefined && attempt.code >= 400 && attempt.code < 500)?.code;
			return relay.inconclusive ? String(code ?? '?') : 'closed';
		}
	}
}

/** Pad or cut `text` to exactly `width` columns, cutting with a visible marker. */
export function fit(text: string, width: number): string {
	if (width <= 0) {
		return '';
	}

	const chars = [...text];
	return chars.length > width ? `${chars.slice(0, width - 1).join('')}…` : text + ' '.repeat(width - chars.length);
}

/** One sender's verdict as one character: the glyph carries the meaning without colour. */
export function verdictGlyph(verdict: Verdict, theme: Theme): string {
	if (verdict === 'deliver') {
		return theme.ascii ? '+' : '✓';
	}

	return verdict === 'fail' ? (theme.ascii ? 'x' : '✗') : (theme.ascii ? '.' : '·');
}

/** Listed on at least one blocklist (a refused or failed lookup is no listing). */
export function blocklisted(host: HostState): boolean {
	return host.dnsbl?.some(answer => answer.listed && !answer.error) ?? false;
}

/**
 * The Policy cell: what an opportunistic, an MTA-STS and a DANE sender would each do with this
 * address under the row's domain (`✓ ✗ ·`, or `✓✗·` when narrow), then `B` when the address is
 * on a blocklist. A spinner while the session or a TLS scan runs; empty until it is known.
 */
export function policyCell(host: HostState, domain: DomainState | undefined, theme: Theme, frame: number, narrow: boolean): Cell {
	const delivery = domain?.addresses[host.key]?.delivery;
	const listed = blocklisted(host);
	if (host.scanning || (!delivery && (host.phase === 'probing' || host.phase === 'queued'))) {
		return {text: theme.spinner[frame % theme.spinner.length]!, tone: 'running'};
	}

	if (!delivery) {
		return {text: listed ? `${narrow ? '   ' : '     '}B` : '', tone: listed ? 'warning' : 'muted'};
	}

	const verdicts = [delivery.opportunistic, delivery.mtaSts, delivery.dane];
	const glyphs = verdicts.map(verdict => verdictGlyph(verdict, theme)).join(narrow ? '' : ' ');
	// One tone for the cell: a sender that would fail is the worst news, then a listing.
	const tone: Tone = verdicts.includes('fail') ? 'critical' : (listed ? 'warning' : (host.judged ? 'ok' : 'muted'));
	return {text: `${glyphs}${listed ? 'B' : ''}`, tone};
}
