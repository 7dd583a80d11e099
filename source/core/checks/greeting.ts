import {defineCheck, firstLine, timeoutMessage} from './registry.js';
import {endedAfterErrors} from './relay.js';

/** The 220 greeting: did it come, in time, and what does it say. */
export const greeting = defineCheck({
	name: 'greeting',
	catalogue: {
		'banner-timeout': {severity: 'critical', stage: 'banner', when: 'connected, but no greeting within the deadline', advice: 'Check that the MTA is running and not overloaded; a greeting must come within a few seconds.'},
		'banner-rejected': {severity: 'critical', stage: 'banner', when: 'the greeting is 554 or another code than 220 (421 is `rate-limited`)', advice: 'The server refuses connections from here; check its access rules, blocklists or load.'},
		'banner-slow': {severity: 'warning', stage: 'banner', when: 'the greeting came later than 5 s (greet pause, tarpit, postscreen); says how late', advice: 'Shorten the greeting delay (postscreen_greet_wait, smtpd delays); senders give up after their timeout.'},
		'banner-hostname-mismatch': {severity: 'info', stage: 'banner', when: 'the greeting\'s host name is neither the MX name nor its PTR', advice: 'Make the greeting name the MX host name (Postfix: myhostname / smtpd_banner).'},
		'banner-software-disclosed': {severity: 'info', stage: 'banner', when: 'the greeting or EHLO names the software (and maybe its version)', advice: 'Consider a greeting that does not name the software and version (Postfix: smtpd_banner = $myhostname ESMTP).'},
		'rate-limited': {severity: 'warning', stage: 'where-seen', when: 'a 421, or a 4xx that says too many connections: not a failure of TLS or relay (a 421 for too many errors in the relay test is `session-ended-after-errors`)', advice: 'The server limited this client; try again later or with lower --concurrency. This is not a failure of TLS or relay.'},
	},
	address({result, ptr}, context, report) {
		const {banner: stage} = result.stages;
		if (stage.error === 'timeout') {
			report('banner-timeout', timeoutMessage('banner', stage));
		} else if (stage.error === 'rejected') {
			report('banner-rejected', `The greeting is not 220: ${stage.detail ?? ''}.`);
		}

		// A 421 for too many errors in the relay test is the relay check's session-ended-after-errors.
		if (result.rateLimited && !endedAfterErrors(result)) {
			const where = (Object.keys(result.stages) as Array<keyof typeof result.stages>).find(name => result.stages[name].error === 'rate-limited');
			report('rate-limited', `The server limited this client: ${firstLine(result.rateLimited)}`, where ? {stage: where} : {});
		}

		const {banner} = result;
		if (!banner || banner.code !== 220) {
			return;
		}

		if (banner.delayMs > context.bannerSlowMs) {
			report('banner-slow', `The greeting came after ${(banner.delayMs / 1000).toFixed(1)} s.`);
		}

		const names = [result.target.exchange, ...(ptr?.ptrNames ?? [])].map(name => name.toLowerCase().replace(/\.$/, ''));
		const hostname = banner.hostname?.toLowerCase().replace(/\.$/, '');
		if (hostname && !names.includes(hostname)) {
			report('banner-hostname-mismatch', `The greeting names "${banner.hostname}", not the MX name ${result.target.exchange}${ptr?.ptr ? ` or the PTR ${ptr.ptr}` : ''}.`);
		}

		if (result.software && result.softwareDisclosed) {
			report('banner-software-disclosed', `The server says it runs ${result.software}.`);
		}
	},
});
