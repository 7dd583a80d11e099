import type {Stage, StageName} from '../types.js';
import {defineCheck, failedStages, isProtocolError, stageLabels} from './registry.js';

/** The server broke SMTP's syntax or sequence (Go's textproto.ProtocolError), as opposed to saying no. */
export const protocol = defineCheck({
	name: 'protocol',
	catalogue: {
		'protocol-error': {severity: 'critical', stage: 'where-seen', when: 'the server broke the protocol: a line or reply over the limits, a malformed reply, a NUL byte, a reply nobody asked for, or replies out of step with the commands', advice: 'The server broke the SMTP protocol; check the MTA and any middlebox in front of it.'},
	},
	address({result}, _context, report) {
		for (const [name, stage] of failedStages(result)) {
			if (isProtocolError(stage.error)) {
				report('protocol-error', `Protocol error in the ${stageLabels[name]} after ${Math.round(stage.startedAt ?? 0)} ms: ${stage.detail ?? stage.error}.`, {stage: name});
			}
		}

		for (const [name, stage] of Object.entries(result.stages) as Array<[StageName, Stage]>) {
			if (stage.violation) {
				const code = stage.reply ? ` (read by its code, ${stage.reply.code})` : '';
				report('protocol-error', `Protocol error in the ${stageLabels[name]}: ${stage.violation.detail}${code}.`, {stage: name});
			}
		}

		const {quit} = result.stages;
		if (quit.error !== 'out-of-step' && isProtocolError(quit.error)) {
			// Bytes that break the syntax after the last reply (a bare LF splitting a 554 greeting
			// in two): the verdict of that reply stands, and the violation is reported beside it.
			report('protocol-error', `Protocol error after the last reply, before QUIT was answered: ${quit.detail ?? quit.error}.`, {stage: 'quit'});
		} else if (quit.error === 'out-of-step') {
			report('protocol-error', `The server's replies were out of step with the commands: ${quit.detail ?? 'QUIT was not answered 221'}; no relay verdict is drawn from them.`, {stage: 'quit'});
		}
	},
});
