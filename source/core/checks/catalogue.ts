import type {Finding, Severity} from '../types.js';

/** The catalogue of ../shared/checks.md: a stable id, its severity and what to do about it. */
const catalogue = {
	'dns-nxdomain': ['critical', 'Check the spelling; if the domain is yours, make sure it is registered and delegated to working name servers.'],
	'dns-error': ['critical', 'Check the domain\'s authoritative name servers (dig +trace); a resolver timeout may also be this machine\'s resolver: try --resolver.'],
	'mx-null': ['info', 'Nothing to do if the domain must never receive mail; otherwise replace the null MX with real MX records.'],
	'mx-null-mixed': ['warning', 'A null MX must be the only MX record (RFC 7505 §3): remove it or the other records.'],
	'mx-implicit': ['warning', 'Publish an explicit MX record for the domain, even one pointing at the same host.'],
	'mx-none': ['critical', 'Publish an MX record (or at least an A/AAAA record) if the domain should receive mail, or a null MX ("0 .") if it should not.'],
	'mx-unresolvable': ['critical', 'Give the MX host name an A and/or AAAA record, or remove that MX record.'],
	'mx-cname': ['warning', 'Point the MX record at the canonical host name instead of the alias (RFC 2181 §10.3, RFC 5321 §5.1).'],
	'mx-cname-loop': ['critical', 'Fix the CNAME records: they form a loop or a chain too long to follow.'],
	'mx-ip-literal': ['warning', 'An MX record must name a host, not an address: create an A/AAAA record for the host and point the MX at that name.'],
	'mx-too-many': ['info', 'Consider fewer MX hosts; raise the limit with the config key limits.maxMxHosts to probe them all.'],
	'mx-reserved-address': ['info', 'Point the MX host at a public address; a private, loopback or documentation address only works inside your own network (fine for tests and split DNS).'],
	'mx-single-point': ['info', 'Add a second MX host on another address (ideally another network) for redundancy.'],
	'mx-no-ipv6': ['info', 'Consider giving at least one MX host an AAAA record so IPv6-only senders can reach you.'],
	'ptr-missing': ['warning', 'Ask whoever owns the address block to set a PTR record naming the mail host; many receivers penalise mail from addresses without one.'],
	'ptr-mismatch': ['info', 'Make the PTR name resolve back to the same address (forward-confirmed reverse DNS).'],
	'tcp-refused': ['critical', 'Make sure the MTA listens on port 25 on this address and that no firewall rejects the connection.'],
	'tcp-timeout': ['critical', 'Check the firewall and that the host is up; also make sure this machine may connect out on port 25.'],
	'tcp-unreachable': ['critical', 'Check routing to this address; for IPv6, check that this machine has IPv6 connectivity.'],
	'egress-blocked': ['warning', 'Run mxdash from a machine with outbound port 25 open (most cloud providers block it by default); the servers themselves were not judged.'],
	'banner-timeout': ['critical', 'Check that the MTA is running and not overloaded; a greeting must come within a few seconds.'],
	'banner-rejected': ['critical', 'The server refuses connections from here; check its access rules, blocklists or load.'],
	'banner-slow': ['warning', 'Shorten the greeting delay (postscreen_greet_wait, smtpd delays); senders give up after their timeout.'],
	'banner-hostname-mismatch': ['info', 'Make the greeting name the MX host name (Postfix: myhostname / smtpd_banner).'],
	'banner-software-disclosed': ['info', 'Consider a greeting that does not name the software and version (Postfix: smtpd_banner = $myhostname ESMTP).'],
	'rate-limited': ['warning', 'The server limited this client; try again later or with lower --concurrency. This is not a failure of TLS or relay.'],
	'ehlo-rejected': ['critical', 'Make the server accept EHLO from any client with a proper host name.'],
	'ehlo-no-esmtp': ['warning', 'Enable ESMTP (EHLO): without it there is no STARTTLS, SIZE or PIPELINING.'],
	'starttls-missing': ['critical', 'Enable STARTTLS with a certificate (Postfix: smtpd_tls_security_level = may, smtpd_tls_chain_files).'],
	'starttls-failed': ['critical', 'Fix the TLS configuration: certificate and key files, protocols and ciphers; check the MTA log at the time of this probe.'],
	'starttls-injection': ['critical', 'Upgrade or fix the MTA (or the middlebox in front of it): it sends data in plaintext after 220 to STARTTLS, the STARTTLS command-injection class (CVE-2011-0411 and kin).'],
	'tls-old-version': ['warning', 'Disable TLS 1.0 and 1.1; offer TLS 1.2 and 1.3.'],
	'tls-no-1.3': ['info', 'Enable TLS 1.3 (OpenSSL 1.1.1 or later).'],
	'tls-weak-cipher': ['warning', 'Prefer ECDHE with AES-GCM or ChaCha20-Poly1305; drop RSA key exchange, CBC and ciphers under 128 bits.'],
	'cert-expired': ['critical', 'Renew the certificate and reload the MTA; automate renewal (ACME).'],
	'cert-not-yet-valid': ['critical', 'Check the certificate dates and the server clock.'],
	'cert-expiring': ['warning', 'Renew the certificate soon and make sure renewal is automated.'],
	'cert-hostname-mismatch': ['warning', 'Get a certificate whose SAN lists the MX host name.'],
	'cert-self-signed': ['warning', 'Use a certificate from a public CA (or publish DANE TLSA records for this one).'],
	'cert-untrusted': ['warning', 'Use a certificate from a CA that senders trust, and send the full chain.'],
	'cert-chain-incomplete': ['warning', 'Configure the server to send the intermediate certificates along with the leaf (Postfix: a chain file in smtpd_tls_chain_files).'],
	'cert-weak-key': ['warning', 'Use an RSA key of at least 2048 bits or an EC key of at least 256 bits.'],
	'cert-weak-signature': ['warning', 'Reissue the certificate with a SHA-256 (or better) signature.'],
	'open-relay': ['critical', 'Close the relay now: accept mail for other domains only from authenticated or trusted clients (Postfix: reject_unauth_destination, a tight mynetworks).'],
	'relay-inconclusive': ['info', 'Run again later or from another address; the server deferred the test.'],
	'size-small': ['info', 'Raise the message size limit to at least 10 MB (Postfix: message_size_limit), or senders will bounce larger mail.'],
	'protocol-error': ['critical', 'The server broke the SMTP protocol; check the MTA and any middlebox in front of it.'],
	'ehlo-timeout': ['critical', 'The server stopped answering after the greeting; check the MTA\'s load and logs.'],
	'starttls-timeout': ['critical', 'The server did not answer STARTTLS in time; check the MTA\'s TLS setup and load.'],
	'tls-timeout': ['critical', 'The TLS handshake stalled; check the MTA\'s TLS setup and any middlebox that inspects port 25.'],
	'relay-timeout': ['warning', 'The server stopped answering during the relay test (a tarpit?); the relay verdict is unknown.'],
	'connection-lost': ['critical', 'The server dropped the connection mid-dialogue; check the MTA\'s log and any middlebox in front of it.'],
} satisfies Record<string, [Severity, string]>;

export type FindingId = keyof typeof catalogue;

export function finding(id: FindingId, message: string, advice?: string): Finding {
	const [severity, standard] = catalogue[id];
	return {id, severity, message, advice: advice ?? standard};
}

const rank: Record<Severity, number> = {info: 0, warning: 1, critical: 2};

export function worst(findings: Finding[]): Severity | undefined {
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
