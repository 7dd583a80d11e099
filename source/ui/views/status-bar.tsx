import {Text} from 'ink';
import {counted} from '../../core/text.js';
import {fit} from '../format.js';
import type {HostState, Snapshot} from '../store.js';
import type {Theme} from '../theme.js';

export type StatusBarProps = {
	snapshot: Pick<Snapshot, 'domains' | 'hosts' | 'round' | 'counts'>;
	width: number;
	theme: Theme;
	/** The clock's time, for the countdown to the next round. */
	now: number;
	/**
	 * The grid's spinner clock (use-terminal.ts). A spinner with a timer of its own would make a
	 * render of the whole frame of its every step, beside the grid's.
	 */
	frame?: number;
};

/** The top line: domains, progress of the round, finding counts, last and next round. */
export function StatusBar({snapshot, width, theme, now, frame = 0}: StatusBarProps) {
	const done = doneCount(snapshot.hosts);
	const {round, counts} = snapshot;
	const lead = ` mxdash  ${counted(snapshot.domains.length, 'domain')}  `;
	// While a round runs a spinner stands before "probing": one column, held here by a space
	// so that the line is cut to the width with it counted.
	// Addresses as the report counts them: once per domain whose MX hosts have it. Probing counts
	// sessions: an address two domains share is probed once.
	const addresses = snapshot.domains.reduce((sum, domain) => sum + (domain.plan?.mx.reduce((count, mx) => count + mx.addresses.length, 0) ?? 0), 0);
	const progress = round.running ? `  probing ${done}/${snapshot.hosts.size}` : counted(addresses, 'address', 'addresses');
	const last = round.finishedAt ? `last ${round.finishedAt.slice(11, 19)}Z` : 'first round';
	const next = round.nextAt && !round.running ? `  next in ${Math.max(0, Math.ceil((round.nextAt - now) / 1000))}s` : '';
	const text = fit(`${lead}${progress}  ${theme.glyph.critical}${counts.critical} ${theme.glyph.warning}${counts.warning} ${theme.glyph.info}${counts.info}  ${last}${next}${round.error ? `  error: ${round.error}` : ''}`, width);
	const chars = [...text];
	if (!round.running || chars.length <= lead.length) {
		return <Text inverse wrap="truncate">{text}</Text>;
	}

	return (
		<Text inverse wrap="truncate">
			{chars.slice(0, lead.length).join('')}
			{theme.spinner[frame % theme.spinner.length]}
			{chars.slice(lead.length + 1).join('')}
		</Text>
	);
}

const doneCounts = new WeakMap<ReadonlyMap<string, HostState>, number>();

/** The sessions done: counted once per snapshot's hosts (a key press draws the same map again). */
function doneCount(hosts: ReadonlyMap<string, HostState>): number {
	let done = doneCounts.get(hosts);
	if (done === undefined) {
		done = 0;
		for (const host of hosts.values()) {
			done += host.phase === 'done' ? 1 : 0;
		}

		doneCounts.set(hosts, done);
	}

	return done;
}
