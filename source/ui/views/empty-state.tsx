import {Box, Text} from 'ink';
import {fit} from '../format.js';

export type EmptyStateProps = {width: number; bodyHeight: number};

/** The first run: no domains yet, and how to get some. */
export function EmptyState({width, bodyHeight}: EmptyStateProps) {
	return (
		<Box flexDirection="column" height={bodyHeight + 1}>
			<Text> </Text>
			<Text bold>{fit('  No domains yet.', width)}</Text>
			<Text wrap="truncate">{fit('  Press a to add one (it is saved), or start with: mxdash example.com', width)}</Text>
			<Text wrap="truncate">{fit('  To try mxdash on built-in test servers: mxdash --demo', width)}</Text>
		</Box>
	);
}
