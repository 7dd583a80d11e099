import type {Finding, MxHost, MxPlan, ProtocolError, PtrInfo, SessionFacts, Severity, StageName} from '../types.js';
import {protocolErrors} from '../types.js';
import {InternTable} from '../intern-table.js';
import type {StsState} from '../policy/sts-state.js';
import type {DaneResult, Delivery, DnsblAnswer, DnsblHealth, DomainPolicy, MxPolicy, ResolverValidation, TlsVersionScan} from '../policy/types.js';

/** One catalogue entry: the contract scripts match on (ids are never renamed). */
export type Entry = {
	severity: Severity;
	/**
	 * The session stage it judges; `where-seen` when each finding names the stage it came from;
	 * none for findings about DNS, PTR or the certificate itself.
	 */
	stage?: StageName | 'where-seen';
	/** When it fires, in one sentence (the catalogue document is made from it). */
	when: string;
	advice: string;
};

/** What a check may depend on besides the facts: flags, limits, and (later) a domain's policy. */
export type CheckContext = {
	warnDays: number;
	bannerSlowMs: number;
	/** Milliseconds since the epoch, for certificate dates (a verdict may be drawn again later). */
	now: () => number;
};

/** What the policy layer knows around a plan: its domain's policy, each MX host's TLSA set, the resolver. */
export type PolicyFacts = {
	domain?: DomainPolicy;
	mx: (exchange: string) => MxPolicy | undefined;
	validation?: ResolverValidation;
};

export type AddressFacts = {
	result: SessionFacts;
	ptr?: PtrInfo;
	mxPolicy?: MxPolicy;
	dane?: DaneResult;
	validation?: ResolverValidation;
	dnsbl?: DnsblAnswer[];
	/** The blocklists that failed their self-test: their answers give no verdict. */
	unusableLists?: string[];
	tlsVersions?: TlsVersionScan;
};

/** One address as a sender of one domain sees it (MTA-STS depends on the domain). */
export type DeliveryFacts = {result: SessionFacts; plan: MxPlan; sts?: StsState; delivery: Delivery};

export type RunFacts = {results: SessionFacts[]; validation?: ResolverValidation; dnsblHealth?: DnsblHealth[]};

/** What a finding may change from its entry: the severity (a policy, a flag), the advice, the stage. */
export type Override = {severity?: Severity; advice?: string; stage?: StageName};

export type Report<Id extends string> = (id: Id, message: string, override?: Override) => void;

/** A registry module: its catalogue and a pure diagnosis for each scope it judges. */
export type Check<Name extends string, Id extends string> = {
	name: Name;
	catalogue: Record<Id, Entry>;
	/** The domain's plan: the MX query and what it found. */
	domain?: (plan: MxPlan, context: CheckContext, report: Report<Id>, policy: PolicyFacts) => void;
	/** One MX host of the plan. */
	mx?: (host: MxHost, plan: MxPlan, context: CheckContext, report: Report<Id>, policy: PolicyFacts) => void;
	/** One session with one address, and its PTR. */
	address?: (facts: AddressFacts, context: CheckContext, report: Report<Id>) => void;
	/** One address as a sender of the plan's domain sees it. */
	delivery?: (facts: DeliveryFacts, context: CheckContext, report: Report<Id>) => void;
	/** Every latest session together (this machine's own trouble). */
	run?: (facts: RunFacts, context: CheckContext, report: Report<Id>) => void;
};

/** Typed helper: the ids a module may report are the keys of its own catalogue. */
export function defineCheck<const Name extends string, const Id extends string>(check: Check<Name, Id>): Check<Name, Id> {
	return check;
}

// A provider's addresses get the same findings, word for word: one object each (~300 bytes with
// its message), not one per session.
const sharedFindings = new InternTable<Finding>(20_000);

/** Run one scope of `check`, collecting its findings (never changed once made: they are shared). */
export function collect<Name extends string, Id extends string>(check: Check<Name, Id>, run: (report: Report<Id>) => void): Finding[] {
	const findings: Finding[] = [];
	run((id, message, override = {}) => {
		const entry = check.catalogue[id];
		const stage = override.stage ?? (entry.stage === 'where-seen' ? undefined : entry.stage);
		const severity = override.severity ?? entry.severity;
		const advice = override.advice ?? entry.advice;
		// The catalogue's advice goes with the id: only an advice of its own is part of the key.
		findings.push(sharedFindings.get(`${id}\n${severity}\n${stage ?? ''}\n${message}${override.advice === undefined ? '' : `\n${advice}`}`, () => ({
			id: id as Finding['id'],
			severity,
			...(stage ? {stage} : {}),
			check: check.name as Finding['check'],
			message,
			advice,
		})));
	});
	return findings;
}

const rank: Record<Severity, number> = {info: 0, warning: 1, critical: 2};

export function worst(findings: readonly Finding[]): Severity | undefined {
	let result: Severity | undefined;
	for (const item of findings) {
		if (!result || rank[item.severity] > rank[result]) {
			result = item.severity;
		}
	}

	return result;
}

export function bySeverity(a: Finding, b: Finding): number {
	return rank[b.severity] - rank[a.severity];
}

export function countBySeverity(findings: Iterable<Finding>, into: Record<Severity, number> = {info: 0, warning: 0, critical: 0}): Record<Severity, number> {
	for (const item of findings) {
		into[item.severity]++;
	}

	return into;
}

export const opportunistic = 'Opportunistic TLS between MTAs does not require a valid certificate, so this is a warning unless MTA-STS (enforce) or DANE applies.';

export function firstLine(text: string | undefined): string {
	return (text ?? '').split('\n')[0] ?? '';
}

export const stageLabels: Record<StageName, string> = {
	connect: 'connect',
	banner: 'greeting',
	ehlo: 'EHLO',
	starttls: 'STARTTLS',
	tls: 'TLS handshake',
	ehloTls: 'EHLO after TLS',
	relay: 'relay test',
	quit: 'QUIT',
};

/** The stages of a session that failed (QUIT aside: after it the session is over anyway). */
export function failedStages(result: SessionFacts): Array<[StageName, SessionFacts['stages'][StageName]]> {
	return (Object.entries(result.stages) as Array<[StageName, SessionFacts['stages'][StageName]]>)
		.filter(([name, stage]) => stage.outcome === 'failed' && name !== 'quit');
}

export function timeoutMessage(name: StageName, stage: {ms?: number}): string {
	return `No answer to the ${stageLabels[name]} within ${Math.round(stage.ms ?? 0)} ms.`;
}

export function isProtocolError(error: string | undefined): error is ProtocolError {
	return (protocolErrors as readonly string[]).includes(error ?? '');
}
