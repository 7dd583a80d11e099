import {finding} from './catalogue.js';
import type {FindingId} from './catalogue.js';
import type {CertInfo, Finding, ProbeResult, PtrInfo, StageName, TlsInfo} from '../types.js';

export type DiagnoseContext = {warnDays: number; ptr?: PtrInfo};

const protocolErrors = new Set(['line-too-long', 'reply-too-large', 'session-too-large', 'bad-reply', 'code-changed', 'nul-byte', 'unexpected-reply']);

const timeoutIds: Partial<Record<StageName, FindingId>> = {
	connect: 'tcp-timeout',
	banner: 'banner-timeout',
	ehlo: 'ehlo-timeout',
	starttls: 'starttls-timeout',
	tls: 'tls-timeout',
	ehloTls: 'ehlo-timeout',
	relay: 'relay-timeout',
};

const stageLabels: Record<StageName, string> = {
	connect: 'connect',
	banner: 'greeting',
	ehlo: 'EHLO',
	starttls: 'STARTTLS',
	tls: 'TLS handshake',
	ehloTls: 'EHLO after TLS',
	relay: 'relay test',
	quit: 'QUIT',
};

const opportunistic = 'Opportunistic TLS between MTAs does not require a valid certificate, so this is a warning unless MTA-STS (enforce) or DANE applies.';

/** Every finding the session of one address supports, worst problems first in stage order. */
export function diagnoseAddress(result: ProbeResult, context: DiagnoseContext): Finding[] {
	const findings: Finding[] = [
		...stageFailures(result),
		...bannerFindings(result, context),
		...ehloFindings(result),
		...(result.tls ? tlsFindings(result.tls, result.target.exchange, context.warnDays) : []),
		...relayFindings(result),
		...ptrFindings(result.target.ip, context.ptr),
	];
	if (result.injectedBytes) {
		findings.push(finding('starttls-injection', `${result.injectedBytes} bytes came after "220" to STARTTLS and before the TLS handshake; mxdash discarded them.`));
	}

	if (result.stages.quit.error === 'out-of-step') {
		findings.push(finding('protocol-error', `The server's replies were out of step with the commands: ${result.stages.quit.detail ?? 'QUIT was not answered 221'}; no relay verdict is drawn from them.`));
	}

	if (result.rateLimited) {
		findings.push(finding('rate-limited', `The server limited this client: ${firstLine(result.rateLimited)}`));
	}

	return findings;
}

function stageFailures(result: ProbeResult): Finding[] {
	const findings: Finding[] = [];
	for (const [name, stage] of Object.entries(result.stages) as Array<[StageName, ProbeResult['stages'][StageName]]>) {
		if (stage.status !== 'critical' || !stage.error || name === 'quit') {
			continue;
		}

		const where = `${stageLabels[name]} after ${Math.round(stage.startedAt ?? 0)} ms`;
		const detail = stage.detail ?? stage.error;
		const timeoutId = timeoutIds[name];
		if (stage.error === 'timeout' && timeoutId) {
			findings.push(finding(timeoutId, `No answer to the ${stageLabels[name]} within ${Math.round(stage.ms ?? 0)} ms.`));
		} else if (stage.error === 'refused' && name === 'connect') {
			findings.push(finding('tcp-refused', `Connection to ${result.target.ip} port ${result.target.port} refused.`));
		} else if (stage.error === 'unreachable' && name === 'connect') {
			const six = result.family === 6 ? ' If other IPv6 hosts fail too, this machine probably has no IPv6 route.' : '';
			findings.push(finding('tcp-unreachable', `${result.target.ip} is unreachable: ${detail}.${six}`));
		} else if (protocolErrors.has(stage.error)) {
			findings.push(finding('protocol-error', `Protocol error in the ${where}: ${detail}.`));
		} else if (stage.error === 'closed' || stage.error === 'reset') {
			findings.push(finding('connection-lost', `The server ${stage.error === 'reset' ? 'reset' : 'closed'} the connection during the ${where}.`));
		} else if (name === 'tls' || (name === 'starttls' && stage.error === 'refused')) {
			findings.push(finding('starttls-failed', `STARTTLS is advertised but ${name === 'tls' ? 'the TLS handshake failed' : 'the command was refused'}: ${detail}.`));
		} else if (name === 'banner' && stage.error !== 'rate-limited') {
			findings.push(finding('banner-rejected', `The greeting is not 220: ${detail}.`));
		} else if ((name === 'ehlo' || name === 'ehloTls') && stage.error === 'rejected') {
			findings.push(finding('ehlo-rejected', `${stageLabels[name]} refused: ${detail}.`));
		}
	}

	return findings;
}

function bannerFindings(result: ProbeResult, context: DiagnoseContext): Finding[] {
	const {banner} = result;
	if (!banner || banner.code !== 220) {
		return [];
	}

	const findings: Finding[] = [];
	if (result.stages.banner.status === 'warning') {
		findings.push(finding('banner-slow', `The greeting came after ${(banner.delayMs / 1000).toFixed(1)} s.`));
	}

	const names = [result.target.exchange, ...(context.ptr?.ptrNames ?? [])].map(name => name.toLowerCase().replace(/\.$/, ''));
	const hostname = banner.hostname?.toLowerCase().replace(/\.$/, '');
	if (hostname && !names.includes(hostname)) {
		findings.push(finding('banner-hostname-mismatch', `The greeting names "${banner.hostname}", not the MX name ${result.target.exchange}${context.ptr?.ptr ? ` or the PTR ${context.ptr.ptr}` : ''}.`));
	}

	if (result.software && result.softwareDisclosed) {
		findings.push(finding('banner-software-disclosed', `The server says it runs ${result.software}.`));
	}

	return findings;
}

function ehloFindings(result: ProbeResult): Finding[] {
	const {ehlo} = result;
	if (!ehlo) {
		return [];
	}

	const findings: Finding[] = [];
	if (ehlo.greeting === 'HELO') {
		findings.push(finding('ehlo-no-esmtp', `EHLO was refused (${ehlo.code ?? ''}) but HELO accepted: the server speaks plain SMTP only.`));
	}

	if (result.stages.starttls.error === 'missing') {
		const why = ehlo.greeting === 'HELO' ? ' (no ESMTP, so no STARTTLS)' : '';
		findings.push(finding('starttls-missing', `STARTTLS is not advertised${why}: mail to this host travels in clear text.`));
	}

	const extensions = ehlo.extensionsAfterTls ?? ehlo.extensions;
	const size = extensions.find(extension => extension.keyword === 'SIZE')?.params[0];
	if (size && /^\d+$/.test(size) && Number(size) > 0 && Number(size) < 10_000_000) {
		findings.push(finding('size-small', `SIZE ${size}: messages over ${(Number(size) / 1_000_000).toFixed(1)} MB are refused.`));
	}

	return findings;
}

export function tlsFindings(tls: TlsInfo, exchange: string, warnDays: number): Finding[] {
	const findings: Finding[] = [];
	if (tls.version === 'TLSv1' || tls.version === 'TLSv1.1') {
		findings.push(finding('tls-old-version', `The session used ${tls.version}.`));
	}

	if (tls.version !== 'TLSv1.3') {
		findings.push(finding('tls-no-1.3', `The session used ${tls.version}, not TLS 1.3.`));
		const weakness = cipherWeakness(tls.cipher);
		if (weakness) {
			findings.push(finding('tls-weak-cipher', `The cipher ${tls.cipher} ${weakness}.`));
		}
	}

	const [leaf, ...rest] = tls.chain;
	if (!leaf) {
		return findings;
	}

	findings.push(...validityFindings(leaf, 'The certificate', warnDays));
	for (const cert of rest) {
		findings.push(...validityFindings(cert, `The chain certificate "${cert.subject}"`, -Infinity));
	}

	const known = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'DEPTH_ZERO_SELF_SIGNED_CERT']);
	if (!tls.hostnameMatch) {
		const names = leaf.san.length > 0 ? leaf.san.join(', ') : leaf.subject;
		findings.push(finding('cert-hostname-mismatch', `The certificate is for ${names}, not ${exchange}. ${opportunistic}`));
	}

	if (leaf.selfSigned) {
		findings.push(finding('cert-self-signed', `The certificate "${leaf.subject}" is self-signed. ${opportunistic}`));
	} else if (tls.chainIncomplete) {
		known.add('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
		findings.push(finding('cert-chain-incomplete', `The server sent ${tls.chain.length} certificate(s) ending at "${tls.chain.at(-1)!.subject}", whose issuer "${tls.chain.at(-1)!.issuer}" it did not send. ${opportunistic}`));
	} else if (!tls.authorized && tls.authorizationError && !known.has(tls.authorizationError)) {
		findings.push(finding('cert-untrusted', `The chain does not lead to a trusted root: ${tls.authorizationError}. ${opportunistic}`));
	}

	const weakKey = tls.chain.find(cert => hasWeakKey(cert));
	if (weakKey) {
		findings.push(finding('cert-weak-key', `"${weakKey.subject}" has a ${weakKey.keyBits ?? '?'}-bit ${weakKey.keyType.toUpperCase()} key.`));
	}

	const weakSignature = tls.chain.find(cert => hasWeakSignature(cert));
	if (weakSignature) {
		findings.push(finding('cert-weak-signature', `"${weakSignature.subject}" is signed with ${weakSignature.signatureAlgorithm}.`));
	}

	return findings;
}

/** RSA under 2048 bits or EC under 256, on a certificate that is not a self-signed root. */
export function hasWeakKey(cert: CertInfo): boolean {
	const bits = cert.keyBits ?? 0;
	return !cert.selfSigned && ((cert.keyType.startsWith('rsa') && bits < 2048) || (cert.keyType === 'ec' && bits < 256));
}

/** SHA-1, MD5 or MD2 signature on a certificate that is not a self-signed root. */
export function hasWeakSignature(cert: CertInfo): boolean {
	return !cert.selfSigned && /sha1|md5|md2/i.test(cert.signatureAlgorithm);
}

function validityFindings(cert: CertInfo, what: string, warnDays: number): Finding[] {
	const now = Date.now();
	if (Date.parse(cert.validFrom) > now) {
		return [finding('cert-not-yet-valid', `${what} is not valid before ${cert.validFrom}.`)];
	}

	if (cert.daysLeft < 0) {
		return [finding('cert-expired', `${what} expired ${-cert.daysLeft} day(s) ago (${cert.validTo}).`)];
	}

	if (cert.daysLeft < warnDays) {
		return [finding('cert-expiring', `${what} expires in ${cert.daysLeft} day(s) (${cert.validTo}).`)];
	}

	return [];
}

/** Why a TLS 1.2-or-older cipher suite is weak, or undefined. */
export function cipherWeakness(cipher: string): string | undefined {
	if (/RC4|DES|NULL|EXP|MD5|anon|IDEA|SEED/i.test(cipher)) {
		return 'is broken or under 128 bits';
	}

	if (!/^(?:ECDHE|DHE|EDH)-/.test(cipher)) {
		return 'has no forward secrecy (static RSA key exchange)';
	}

	if (!/GCM|CHACHA20|CCM/.test(cipher)) {
		return 'is not AEAD (CBC mode)';
	}

	return undefined;
}

function relayFindings(result: ProbeResult): Finding[] {
	const {relay} = result;
	if (relay.open) {
		const accepted = relay.attempts.filter(attempt => attempt.accepted);
		const list = accepted.map(attempt => `${attempt.label} (MAIL FROM:<${attempt.mailFrom}> RCPT TO:<${attempt.rcptTo}> → ${attempt.code ?? '?'})`).join('; ');
		return [finding('open-relay', `The server accepted ${accepted.length} of ${relay.attempts.length} relay attempt(s): ${list}.`)];
	}

	if (relay.tested && relay.inconclusive && result.stages.relay.error !== 'timeout') {
		return [finding('relay-inconclusive', `The relay test gave no verdict: ${relay.reason ?? 'unknown reason'}.`)];
	}

	return [];
}

function ptrFindings(ip: string, ptr: PtrInfo | undefined): Finding[] {
	if (!ptr || ptr.error) {
		return [];
	}

	if (ptr.ptrNames.length === 0) {
		return [finding('ptr-missing', `${ip} has no PTR record.`)];
	}

	if (ptr.fcrdns === false) {
		return [finding('ptr-mismatch', `${ip} has the PTR ${ptr.ptrNames.join(', ')}, which does not resolve back to ${ip}.`)];
	}

	return [];
}

function firstLine(text: string): string {
	return text.split('\n')[0] ?? '';
}
