import type {TestProject} from 'vitest/node';
import {postfixMissing, startPostfix} from './peers/postfix.js';
import type {PostfixPeer} from './peers/postfix.js';
import {policyPeersMissing, startPolicyPeers} from './peers/policy.js';
import type {PolicyPeer} from './peers/policy.js';

declare module 'vitest' {
	export interface ProvidedContext {
		postfix: Omit<PostfixPeer, 'stop'> | null;
		postfixMissing: string | null;
		policy: Omit<PolicyPeer, 'stop'> | null;
		policyMissing: string | null;
	}
}

let peer: PostfixPeer | undefined;
let policy: PolicyPeer | undefined;

/** One real Postfix (and the policy layer's DNS and HTTPS peers) for every test file; where one is missing, say so plainly (and fail in CI). */
export async function setup(project: TestProject): Promise<void> {
	// MXDASH_PEERS=none: a quick run of the tests that need no peer (never in CI).
	const quick = process.env.MXDASH_PEERS === 'none' && !process.env.CI ? 'MXDASH_PEERS=none' : undefined;
	const missing = quick ?? postfixMissing();
	// The policy peers need the Postfix peer's CA and listeners.
	const policyMissing = missing ?? policyPeersMissing();
	for (const [what, why] of [['Postfix', missing], ['Policy layer (DNSSEC, MTA-STS)', policyMissing]] as const) {
		if (!why) continue;
		const line = `\n*** ${what} integration tests skipped: ${why} ***\n`;
		if (process.env.CI) {
			throw new Error(line);
		}

		process.stderr.write(line);
	}

	project.provide('postfixMissing', missing ?? null);
	project.provide('policyMissing', policyMissing ?? null);
	project.provide('postfix', null);
	project.provide('policy', null);
	if (missing) return;

	peer = await startPostfix();
	project.provide('postfix', {caFile: peer.caFile, listeners: peer.listeners, certFiles: peer.certFiles});
	if (policyMissing) return;

	try {
		policy = await startPolicyPeers(peer);
	} catch (error: unknown) {
		await peer.stop();
		throw error;
	}

	project.provide('policy', {ips: policy.ips, rootAnchorFile: policy.rootAnchorFile, tlsa: policy.tlsa});
}

export async function teardown(): Promise<void> {
	await policy?.stop();
	await peer?.stop();
}
