import type {Finding, Severity, StageName} from '../core/types.js';
import type {HostState} from './store.js';
import type {Theme, Tone} from './theme.js';
import {toneOf} from './theme.js';

export type Cell = {text: string; tone: Tone};

export type ColumnId = 'connect' | 'banner' | 'ehlo' | 'starttls' | 'tls' | 'cert' | 'relay';

/** The stage columns: their width, the stage they show, and the findings that colour them. */
export const stageColumns: Array<{id: ColumnId; title: string; width: number; stage: StageName; findings: RegExp}> = [
	{id: 'connect', title: 'Connect', width: 9, stage: 'connect', findings: /^tcp-/},
	{id: 'banner', title: 'Banner', width: 7, stage: 'banner', findings: /^banner-(?:timeout|rejected|slow)$|^rate-limited$/},
	{id: 'ehlo', title: 'EHLO', width: 6, stage: 'ehlo', findings: /^ehlo-/},
	{id: 'starttls', title: 'STLS', width: 6, stage: 'starttls', findings: /^starttls-(?:missing|timeout)$/},
	{id: 'tls', title: 'TLS', width: 5, stage: 'tls', findings: /^tls-(?!no-1\.3)|^starttls-(?:failed|injection)$/},
	{id: 'cert', title: 'Cert', width: 7, stage: 'tls', findings: /^cert-/},
	{id: 'relay', title: 'Relay', width: 8, stage: 'relay', findings: /^open-relay$|^relay-/},
];

export const totalWidth = 6;

export function duration(ms: number | undefined): string {
	if (ms === undefined) {
		return '';
	}

	return ms < 1000 ? `${Math.round(ms)}ms` : (ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`);
}

const errorWords: Record<string, string> = {refused: 'refused', timeout: 'timeout', unreachable: 'unreach', reset: 'reset', closed: 'closed', 'rate-limited': '421', 'tls-failed': 'fail', missing: 'none'};

function worstOf(findings: Finding[], pattern: RegExp): Severity | undefined {
	const ranked: Severity[] = ['critical', 'warning'];
	return ranked.find(severity => findings.some(item => item.severity === severity && pattern.test(item.id)));
}

/** What one grid cell shows for a host: glyph and short value, toned by the findings when known. */
export function stageCell(host: HostState, column: (typeof stageColumns)[number], theme: Theme, frame: number): Cell {
	const stage = host.stages[column.stage];
	const {glyph} = theme;
	if (stage.status === 'running') {
		return {text: theme.spinner[frame % theme.spinner.length]!, tone: 'running'};
	}

	if (stage.status === 'pending') {
		return {text: host.phase === 'done' ? glyph.skipped : glyph.pending, tone: 'muted'};
	}

	if (stage.status === 'skipped') {
		return {text: column.id === 'relay' && stage.detail === 'relay test off' ? `${glyph.skipped}off` : glyph.skipped, tone: 'muted'};
	}

	// Toned by the findings once the round's report is in; until then by the stage itself.
	const severity = host.status ? worstOf(host.findings, column.findings) : provisional(host, column.id);
	const tone: Tone = severity ? toneOf(severity) : toneOf(stage.status === 'ok' ? 'ok' : stage.status);
	const mark = tone === 'critical' ? glyph.critical : (tone === 'warning' ? glyph.warning : glyph.ok);
	return {text: `${mark}${cellValue(host, column.id)}`, tone};
}

function provisional(host: HostState, column: ColumnId): Severity | undefined {
	const leaf = host.tls?.chain[0];
	if (column === 'cert' && leaf) {
		return leaf.daysLeft < 0 ? 'critical' : (host.tls!.hostnameMatch && host.tls!.authorized ? undefined : 'warning');
	}

	return column === 'relay' && host.result?.relay.open ? 'critical' : undefined;
}

/** Days as a short value: 9d, 364d, 3y; negative when past. */
function days(value: number): string {
	return Math.abs(value) < 1000 ? `${value}d` : `${Math.trunc(value / 365)}y`;
}

function cellValue(host: HostState, column: ColumnId): string {
	const stage = host.stages[column === 'cert' ? 'tls' : column];
	const failed = stage.status === 'critical' && stage.error;
	const result = host.result;
	switch (column) {
		case 'connect':
		case 'banner': {
			if (failed) {
				return column === 'banner' && /^\d{3}/.test(stage.detail ?? '') ? stage.detail!.slice(0, 3) : errorWords[stage.error!] ?? stage.error!.slice(0, 6);
			}

			return duration(stage.ms);
		}

		case 'ehlo': {
			return result?.ehlo?.greeting === 'HELO' ? 'HELO' : (failed ? errorWords[stage.error!] ?? 'fail' : '');
		}

		case 'starttls': {
			return failed ? (stage.error === 'missing' ? 'none' : (stage.detail?.match(/\d{3}/)?.[0] ?? errorWords[stage.error!] ?? 'fail')) : '';
		}

		case 'tls': {
			return failed ? errorWords[stage.error!] ?? 'fail' : (host.tls?.version.replace(/^TLSv/, '') ?? '');
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
				return failed ? errorWords[stage.error!] ?? 'fail' : '';
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
