// The bench network: two namespaces joined by a delay link (link.py), the addresses inside
// them (10.250.0.0/16, ours alone) and the three mail domains, one per protocol case.
export const nsNear = 'mxdash-bench-a';
export const nsFar = 'mxdash-bench-b';
export const nearIp = '10.250.0.1';
export const farIp = '10.250.1.1';
export const dnsIp = '10.250.1.53';
export const echoIp = '10.250.1.7';
export const echoPort = 7;
/** One way; the round trip is twice this. */
export const delayMs = 25;

export type Case = {key: 'fast' | 'tls12' | 'nopipe' | 'tickets'; domain: string; exchange: string; ip: string; rtts: number; label: string; postfix: string[]};
export const cases: Case[] = [
	{key: 'fast', domain: 'fast.bench', exchange: 'mx.fast.bench', ip: '10.250.1.10', rtts: 7, label: 'TLS 1.3 + PIPELINING', postfix: []},
	{key: 'tls12', domain: 'tls12.bench', exchange: 'mx.tls12.bench', ip: '10.250.1.11', rtts: 8, label: 'TLS 1.2 only', postfix: ['smtpd_tls_protocols=!SSLv2:!SSLv3:!TLSv1:!TLSv1.1:!TLSv1.3']},
	{key: 'nopipe', domain: 'nopipe.bench', exchange: 'mx.nopipe.bench', ip: '10.250.1.12', rtts: 9, label: 'no PIPELINING', postfix: ['smtpd_discard_ehlo_keywords=pipelining']},
	// Postfix as shipped: TLS 1.3 session tickets (see postfix.ts); shown, not a target.
	{key: 'tickets', domain: 'tickets.bench', exchange: 'mx.tickets.bench', ip: '10.250.1.13', rtts: 8, label: 'TLS 1.3 with session tickets', postfix: ['tls_ssl_options=', 'tls_config_file=default']},
];
export const farAddresses = [farIp, dnsIp, echoIp, ...cases.map(item => item.ip)];
