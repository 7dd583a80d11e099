import {defineCheck, failedStages, stageLabels, timeoutMessage} from './registry.js';

/** The TCP connection: could it be made, and did it last. */
export const connection = defineCheck({
	name: 'connection',
	catalogue: {
		'tcp-refused': {severity: 'critical', stage: 'connect', when: 'the connection to port 25 was refused', advice: 'Make sure the MTA listens on port 25 on this address and that no firewall rejects the connection.'},
		'tcp-timeout': {severity: 'critical', stage: 'connect', when: 'no answer to the connection (a filtered port or a host down)', advice: 'Check the firewall and that the host is up; also make sure this machine may connect out on port 25.'},
		'tcp-unreachable': {severity: 'critical', stage: 'connect', when: 'no route to the address (for IPv6, says so when it is probably this machine\'s)', advice: 'Check routing to this address; for IPv6, check that this machine has IPv6 connectivity.'},
		'connection-lost': {severity: 'critical', stage: 'where-seen', when: 'the server closed or reset the connection mid-dialogue', advice: 'The server dropped the connection mid-dialogue; check the MTA\'s log and any middlebox in front of it.'},
		'egress-blocked': {severity: 'warning', when: 'every connection of the run, to two or more addresses, timed out: this machine\'s outbound port 25 is probably blocked; those addresses are not judged (status unknown)', advice: 'Run mxdash from a machine with outbound port 25 open (most cloud providers block it by default); the servers themselves were not judged.'},
	},
	address({result}, _context, report) {
		const {connect} = result.stages;
		if (connect.error === 'timeout') {
			report('tcp-timeout', timeoutMessage('connect', connect));
		} else if (connect.error === 'refused') {
			report('tcp-refused', `Connection to ${result.target.ip} port ${result.target.port} refused.`);
		} else if (connect.error === 'unreachable') {
			const six = result.family === 6 ? ' If other IPv6 hosts fail too, this machine probably has no IPv6 route.' : '';
			report('tcp-unreachable', `${result.target.ip} is unreachable: ${connect.detail ?? 'no route'}.${six}`);
		}

		for (const [name, stage] of failedStages(result)) {
			if (stage.error === 'closed' || stage.error === 'reset') {
				report('connection-lost', `The server ${stage.error === 'reset' ? 'reset' : 'closed'} the connection during the ${stageLabels[name]} after ${Math.round(stage.startedAt ?? 0)} ms.`, {stage: name});
			}
		}
	},
	run({results}, _context, report) {
		if (egressBlocked(results)) {
			report('egress-blocked', `All ${results.length} connections to port 25 timed out, on every host: this machine's outbound port 25 is probably blocked.`);
		}
	},
});

/** True when every connection timed out, on two or more addresses: blame this machine. */
export function egressBlocked(results: ReadonlyArray<{target: {ip: string}; stages: {connect: {error?: string}}}>): boolean {
	const addresses = new Set(results.map(result => result.target.ip));
	return addresses.size >= 2 && results.every(result => result.stages.connect.error === 'timeout');
}
