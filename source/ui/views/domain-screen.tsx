import {Box, Text} from 'ink';
import {sanitize} from '../../core/sanitize.js';
import {domainLabel} from '../../core/text.js';
import {fit} from '../format.js';
import type {SearchView} from '../pane-search.js';
import type {Line} from '../panes.js';
import type {DomainState} from '../store.js';
import type {Theme} from '../theme.js';
import {toneOf} from '../theme.js';
import {Lines} from './lines.js';

export type DomainScreenProps = {domain: DomainState; lines: Line[]; paneTop: number; bodyHeight: number; width: number; theme: Theme; search?: SearchView};

/** One domain: a title line, then its plan and findings (panes.ts domainLines) scrolled to `paneTop`. */
export function DomainScreen({domain, lines, paneTop, bodyHeight, width, theme, search}: DomainScreenProps) {
	const status = domain.status ? domain.status.toUpperCase() : (domain.plan ? 'probing' : 'resolving');
	const title = ` ${sanitize(domainLabel(domain.domain, theme.ascii))}  ${status}  ${domain.plan?.mx.length ?? 0} MX`;
	return (
		<Box flexDirection="column" height={bodyHeight + 1}>
			<Text bold color={theme.color(toneOf(domain.status))} wrap="truncate">{fit(title, width)}</Text>
			<Box flexDirection="column" height={bodyHeight}>
				<Text wrap="truncate" color={theme.color('muted')}>{fit(' Domain: its MX plan and findings (Enter on a host row opens the host)', width)}</Text>
				<Lines lines={lines} top={paneTop} height={bodyHeight - 1} width={width} theme={theme} {...(search ? {search} : {})}/>
			</Box>
		</Box>
	);
}
