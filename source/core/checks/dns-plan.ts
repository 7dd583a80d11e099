import net from 'node:net';
import {reservedRange} from '../dns/address-ranges.js';
import {failureWords} from '../dns/resolver.js';
import type {DnsFailure, MxPlan} from '../types.js';
import {defineCheck} from './registry.js';

const temporary = (failure: DnsFailure): boolean => !['nxdomain', 'nodata'].includes(failure.kind);

/** The MX plan of a domain and its hosts: what DNS says before any connection. */
export const dnsPlan = defineCheck({
	name: 'dns-plan',
	catalogue: {
		'dns-nxdomain': {severity: 'critical', when: 'the domain does not exist (NXDOMAIN)', advice: 'Check the spelling; if the domain is yours, make sure it is registered and delegated to working name servers.'},
		'dns-error': {severity: 'critical', when: 'the MX query, or an MX host\'s address lookup, failed with SERVFAIL, REFUSED or a timeout (which one is said); nothing is guessed from a temporary error', advice: 'Check the domain\'s authoritative name servers (dig +trace); a resolver timeout may also be this machine\'s resolver: try --resolver.'},
		'mx-null': {severity: 'info', when: 'the domain publishes a null MX (RFC 7505): it accepts no mail, and nothing is probed', advice: 'Nothing to do if the domain must never receive mail; otherwise replace the null MX with real MX records.'},
		'mx-null-mixed': {severity: 'warning', when: 'a null MX stands beside other MX records', advice: 'A null MX must be the only MX record (RFC 7505 §3): remove it or the other records.'},
		'mx-implicit': {severity: 'warning', when: 'no MX record: mail goes to the domain\'s own A/AAAA (RFC 5321 §5.1)', advice: 'Publish an explicit MX record for the domain, even one pointing at the same host.'},
		'mx-none': {severity: 'critical', when: 'no MX record and no A/AAAA record either: no mail can be delivered', advice: 'Publish an MX record (or at least an A/AAAA record) if the domain should receive mail, or a null MX ("0 .") if it should not.'},
		'mx-too-many': {severity: 'info', when: 'more MX hosts than the limit; only the first by preference are probed', advice: 'Consider fewer MX hosts; raise the limit with the config key limits.maxMxHosts to probe them all.'},
		'mx-single-point': {severity: 'info', when: 'every MX host resolves to one address: no redundancy', advice: 'Add a second MX host on another address (ideally another network) for redundancy.'},
		'mx-no-ipv6': {severity: 'info', when: 'no MX host has an IPv6 address', advice: 'Consider giving at least one MX host an AAAA record so IPv6-only senders can reach you.'},
		'mx-unresolvable': {severity: 'critical', when: 'an MX host name has no A or AAAA record', advice: 'Give the MX host name an A and/or AAAA record, or remove that MX record.'},
		'mx-cname': {severity: 'warning', when: 'an MX host name is an alias (RFC 2181 §10.3)', advice: 'Point the MX record at the canonical host name instead of the alias (RFC 2181 §10.3, RFC 5321 §5.1).'},
		'mx-cname-loop': {severity: 'critical', when: 'an MX host\'s CNAME chain loops or is longer than the limit', advice: 'Fix the CNAME records: they form a loop or a chain too long to follow.'},
		'mx-ip-literal': {severity: 'warning', when: 'an MX exchange is an IP address, not a host name', advice: 'An MX record must name a host, not an address: create an A/AAAA record for the host and point the MX at that name.'},
		'mx-reserved-address': {severity: 'info', when: 'an MX host resolves to a private, loopback or documentation address, which Internet senders cannot reach (info: tests and split DNS do it on purpose)', advice: 'Point the MX host at a public address; a private, loopback or documentation address only works inside your own network (fine for tests and split DNS).'},
	},
	domain(plan, _context, report) {
		const {domain, query} = plan;
		// A server given directly (--server) was never looked up by MX: nothing to say of MX records.
		if (query.answer === 'direct') {
			return;
		}

		if (query.answer === 'failed') {
			if (query.failure.kind === 'nxdomain') {
				report('dns-nxdomain', `${domain} does not exist (NXDOMAIN).`);
			} else {
				report('dns-error', `The MX query for ${domain} failed: ${failureWords[query.failure.kind]} (${query.failure.message}). Nothing was probed; mxdash never falls back to the implicit MX on a temporary error.`);
			}

			return;
		}

		if (query.answer === 'records' && query.nullRecords > 0) {
			report('mx-null', `${domain} publishes a null MX (RFC 7505): it accepts no mail.`);
			if (query.nullRecords !== query.records) {
				report('mx-null-mixed', `${domain} has a null MX beside ${query.records - query.nullRecords} other MX record(s).`);
			}

			return;
		}

		if (query.answer === 'none') {
			const addresses = plan.mx[0]?.addresses ?? [];
			if (addresses.length === 0) {
				report('mx-none', `${domain} has no MX record and no A/AAAA record: no mail can be delivered to it.`);
				return;
			}

			report('mx-implicit', `${domain} has no MX record; mail goes to its own ${addresses.length === 1 ? 'address' : 'addresses'}: ${addresses.join(', ')} (RFC 5321 §5.1).`);
		} else if (query.hosts > plan.mx.length) {
			report('mx-too-many', `${domain} has ${query.hosts} MX hosts; mxdash probes the first ${plan.mx.length} by preference.`);
		}

		const addresses = new Set(plan.mx.flatMap(host => host.addresses));
		if (addresses.size === 1) {
			report('mx-single-point', `Every MX host of ${domain} resolves to one address, ${[...addresses][0]!}: no redundancy.`);
		}

		if (addresses.size > 0 && ![...addresses].some(address => net.isIPv6(address))) {
			report('mx-no-ipv6', `No MX host of ${domain} has an IPv6 address.`);
		}
	},
	mx(host, plan: MxPlan, _context, report) {
		const {exchange} = host;
		if (plan.query.answer === 'direct') {
			// Only whether a name given directly has an address: the rest judges MX records.
			if (host.addresses.length === 0) {
				const failure = (host.lookupFailures ?? []).find(item => temporary(item));
				report(failure ? 'dns-error' : 'mx-unresolvable', failure
					? `The address lookup of ${exchange} failed: ${failureWords[failure.kind]} (${failure.message}).`
					: `The server ${exchange} (given with --server) has no A or AAAA record.`);
			}

			return;
		}

		if (host.ipLiteral) {
			report('mx-ip-literal', `The MX exchange "${exchange}" is an IP address, not a host name.`);
		}

		if (host.cnameLoop) {
			report('mx-cname-loop', `${exchange} is an alias whose CNAME chain ${host.cname?.join(' → ') ?? ''} loops or is too long to follow.`);
			return;
		}

		if (host.cname && !host.implicit) {
			report('mx-cname', `The MX host ${exchange} is an alias (CNAME → ${host.cname.join(' → ')}).`);
		}

		for (const ip of host.addresses) {
			const range = reservedRange(ip);
			if (range) {
				report('mx-reserved-address', `${exchange} resolves to ${ip}, in the ${range} range, which senders on the Internet cannot reach.`);
			}
		}

		if (host.addresses.length === 0 && !host.implicit) {
			const failures = host.lookupFailures ?? [];
			const failure = failures.find(item => temporary(item));
			if (failure) {
				report('dns-error', `The address lookup of ${exchange} failed: ${failureWords[failure.kind]} (${failure.message}).`);
			} else {
				report('mx-unresolvable', `The MX host ${exchange} has no A or AAAA record${failures[0]?.kind === 'nxdomain' ? ' (NXDOMAIN)' : ''}.`);
			}
		}
	},
});
