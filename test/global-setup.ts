import type {TestProject} from 'vitest/node';
import {postfixMissing, startPostfix} from './peers/postfix.js';
import type {PostfixPeer} from './peers/postfix.js';

declare module 'vitest' {
	export interface ProvidedContext {
		postfix: Omit<PostfixPeer, 'stop'> | null;
		postfixMissing: string | null;
	}
}

let peer: PostfixPeer | undefined;

/** One real Postfix for every test file; where it is missing, say so plainly (and fail in CI). */
export async function setup(project: TestProject): Promise<void> {
	// MXDASH_PEERS=none: a quick run of the tests that need no peer (never in CI).
	const missing = process.env.MXDASH_PEERS === 'none' && !process.env.CI ? 'MXDASH_PEERS=none' : postfixMissing();
	if (missing) {
		const line = `\n*** Postfix integration tests skipped: ${missing} ***\n`;
		if (process.env.CI) {
			throw new Error(line);
		}

		process.stderr.write(line);
		project.provide('postfix', null);
		project.provide('postfixMissing', missing);
		return;
	}

	peer = await startPostfix();
	project.provide('postfix', {caFile: peer.caFile, listeners: peer.listeners});
	project.provide('postfixMissing', null);
}

export async function teardown(): Promise<void> {
	await peer?.stop();
}
