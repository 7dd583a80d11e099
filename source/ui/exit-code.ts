import type {Status} from '../core/run/knowledge.js';

/**
 * The Nagios code of the statuses the last finished round gave, as `--json` orders them: a
 * critical domain wins over one that could not be judged. No domain judged yet is UNKNOWN,
 * unless there is no domain at all (an empty dashboard checked nothing and found nothing).
 */
export function nagiosCode(statuses: readonly Status[], domainsInView: number): 0 | 1 | 2 | 3 {
	if (statuses.includes('critical')) {
		return 2;
	}

	if (statuses.includes('unknown') || (statuses.length === 0 && domainsInView > 0)) {
		return 3;
	}

	return statuses.includes('warning') ? 1 : 0;
}
