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

/**
 * The scale run (issue 10, "Scale"): providers whose MX hosts many domains share, 10,000
 * distinct (MX name, address) pairs in all. Each provider has `scaleHosts` names of
 * `scaleAddressesPerHost` A records; its last `scaleBackups` names (backups) carry the same
 * addresses as its first ones, so some IPs have two MX names: the per-IP rule has work to do.
 * The addresses are an AnyIP route on the far side's lo (no 10,000 `ip address add`), and
 * Postfix's scale listener is 0.0.0.0:scalePort (a wildcard on 25 would clash with the cases').
 */
export const scaleRange = '10.250.64.0/18';
export const scalePort = 2525;
export const scaleConcurrency = 500;
const scaleProviders = 25;
const scaleHosts = 50;
const scaleBackups = 10;
const scaleAddressesPerHost = 8;
const scaleDomainsPerProvider = 120;

export type ScaleLayout = {domains: Array<{domain: string; mx: string[]}>; hosts: Array<{exchange: string; ips: string[]}>; pairs: number; ips: number};

function scaleIp(index: number): string {
	// 10.250.64.0 + index, skipping nothing: the /18 has 16,384 addresses.
	return `10.250.${64 + Math.floor(index / 256)}.${index % 256}`;
}

export function scaleLayout(): ScaleLayout {
	const hosts: ScaleLayout['hosts'] = [];
	const domains: ScaleLayout['domains'] = [];
	let next = 1; // 10.250.64.0 is a network address to some eyes: start at .1
	for (let provider = 0; provider < scaleProviders; provider++) {
		const own: string[][] = [];
		for (let host = 0; host < scaleHosts; host++) {
			const backup = host >= scaleHosts - scaleBackups;
			const ips = backup ? own[host - (scaleHosts - scaleBackups)]! : Array.from({length: scaleAddressesPerHost}, () => scaleIp(next++));
			own.push(ips);
			hosts.push({exchange: `mx${host}-p${provider}.scale.bench`, ips});
		}

		for (let index = 0; index < scaleDomainsPerProvider; index++) {
			domains.push({domain: `d${index}.p${provider}.scale.bench`, mx: [`mx${index % scaleHosts}-p${provider}.scale.bench`, `mx${(index + 1) % scaleHosts}-p${provider}.scale.bench`]});
		}
	}

	return {domains, hosts, pairs: hosts.reduce((sum, host) => sum + host.ips.length, 0), ips: next - 1};
}

/** A row of the printed table and last-run.json; `target` null: printed, not judged. */
export type Row = {what: string; ratio: number; target: number | null; detail: string};
