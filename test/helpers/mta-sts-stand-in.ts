// A stand-in for source/core/policy/mta-sts.ts (written in parallel on another branch), for the
// UI tests only, with its signatures: `vi.mock('../../source/core/policy/mta-sts.js', …)` uses it
// until the real module is merged. Just enough of RFC 8461 §3.2 and §4.1 for the panes' tests.
import type {ParsedPolicy} from '../../source/core/policy/types.js';

export function parsePolicy(body: string): ParsedPolicy {
	const policy: ParsedPolicy['policy'] = {mx: []};
	const errors: string[] = [];
	for (const line of body.split(/\r?\n/)) {
		const match = /^([a-z_]+):\s*(.*?)\s*$/i.exec(line);
		if (!match) {
			continue;
		}

		const [, key, value] = match as unknown as [string, string, string];
		if (key === 'version') {
			policy.version = value;
		} else if (key === 'mode') {
			policy.mode = value;
		} else if (key === 'max_age') {
			policy.maxAge = Number(value);
		} else if (key === 'mx') {
			policy.mx.push(value);
		}
	}

	if (policy.version !== 'STSv1') {
		errors.push('version is not STSv1');
	}

	return {policy, errors};
}

export function matchingPattern(patterns: string[], host: string): string | undefined {
	const name = host.toLowerCase().replace(/\.$/, '');
	return patterns.find(pattern => {
		const wanted = pattern.toLowerCase();
		return wanted.startsWith('*.') ? name.slice(name.indexOf('.') + 1) === wanted.slice(2) && name.indexOf('.') > 0 : name === wanted;
	});
}
