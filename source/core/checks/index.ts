import type {Finding, MxPlan} from '../types.js';
import {certificate} from './certificate.js';
import {connection} from './connection.js';
import {dnsPlan} from './dns-plan.js';
import {ehlo} from './ehlo.js';
import {greeting} from './greeting.js';
import {pipelining} from './pipelining.js';
import {protocol} from './protocol.js';
import {ptr} from './ptr.js';
import {bySeverity, collect} from './registry.js';
import type {AddressFacts, Check, CheckContext, DeliveryFacts, Entry, PolicyFacts, RunFacts} from './registry.js';
import {dane} from './dane.js';
import {dnsbl} from './dnsbl.js';
import {mtaSts} from './mta-sts.js';
import {tlsRpt} from './tlsrpt.js';
import {tlsVersions} from './tls-versions.js';
import {relay} from './relay.js';
import {starttls} from './starttls.js';

/**
 * The registry: every check mxdash makes, one module per concern. The monitor, the reports and
 * the dashboard loop over it; a new check is one module here (plus a gatherer where it needs I/O).
 */
export const checks = [dnsPlan, connection, greeting, ehlo, pipelining, starttls, certificate, relay, ptr, protocol, mtaSts, tlsRpt, dane, dnsbl, tlsVersions] as const;

type Checks = (typeof checks)[number];
export type CheckName = Checks['name'];
export type FindingId = Checks extends infer C ? (C extends {catalogue: Record<infer Id, Entry>} ? Id : never) : never;

// Each module reports only its own ids; looping over them needs no more than that.
const all: ReadonlyArray<Check<string, string>> = checks;

/** Every finding id with its entry, in registry order (the catalogue document is made from it). */
export const catalogue: ReadonlyArray<{id: FindingId; check: CheckName} & Entry> = checks.flatMap(check =>
	(Object.entries(check.catalogue) as Array<[FindingId, Entry]>).map(([id, entry]) => ({id, check: check.name, ...entry})));

export type {AddressFacts, CheckContext, DeliveryFacts, PolicyFacts, RunFacts} from './registry.js';
export {bySeverity, countBySeverity, worst} from './registry.js';

/** The domain-level findings of a plan, and those of each MX host (parallel to `plan.mx`), in the order found. */
export function diagnosePlan(plan: MxPlan, context: CheckContext, policy: PolicyFacts = {mx: () => undefined}): {findings: Finding[]; mx: Finding[][]} {
	const findings = all.flatMap(check => (check.domain ? collect(check, report => check.domain!(plan, context, report, policy)) : []));
	const mx = plan.mx.map(host => all.flatMap(check => (check.mx ? collect(check, report => check.mx!(host, plan, context, report, policy)) : [])));
	return {findings, mx};
}

/** Every finding one session (and its address's PTR) supports, worst first. */
export function diagnoseAddress(facts: AddressFacts, context: CheckContext): Finding[] {
	return all.flatMap(check => (check.address ? collect(check, report => check.address!(facts, context, report)) : [])).sort(bySeverity);
}

/** The findings that depend on the domain an address serves (MTA-STS), worst first. */
export function diagnoseDelivery(facts: DeliveryFacts, context: CheckContext): Finding[] {
	return all.flatMap(check => (check.delivery ? collect(check, report => check.delivery!(facts, context, report)) : [])).sort(bySeverity);
}

/** Findings about the run itself, from every latest session. */
export function diagnoseRun(facts: RunFacts, context: CheckContext): Finding[] {
	return all.flatMap(check => (check.run ? collect(check, report => check.run!(facts, context, report)) : []));
}
