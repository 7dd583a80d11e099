export type RelayPair = {label: string; mailFrom: string; rcptTo: string};

export type RelayMode = 'off' | 'basic' | 'thorough';

function split(address: string): {local: string; domain: string} {
	const at = address.lastIndexOf('@');
	return at === -1 ? {local: address, domain: ''} : {local: address.slice(0, at), domain: address.slice(at + 1)};
}

/**
 * The relay attempts of one session. `basic` is one external sender to one external
 * recipient; `thorough` is the 16 tricks of nmap's smtp-open-relay script (null sender,
 * IP-literal sender, percent hack, quoted local part, source route, bang path), with our
 * sender and recipient in place of nmap's.
 */
export function relayPairs(mode: RelayMode, mailFrom: string, rcptTo: string, serverName: string, ip: string): RelayPair[] {
	if (mode === 'off') {
		return [];
	}

	const basic = {label: 'external sender to external recipient', mailFrom, rcptTo};
	if (mode === 'basic') {
		return [basic];
	}

	const from = split(mailFrom).local;
	const {local: to, domain} = split(rcptTo);
	const literal = ip.includes(':') ? `[IPv6:${ip}]` : `[${ip}]`;
	const fromLiteral = `${from}@${literal}`;
	const pairs: Array<[string, string, string]> = [
		['null sender', '', rcptTo],
		['external sender', mailFrom, rcptTo],
		['sender at the server name', `${from}@${serverName}`, rcptTo],
		['sender at the IP literal', fromLiteral, rcptTo],
		['percent hack at the IP literal', fromLiteral, `${to}%${domain}@${literal}`],
		['percent hack at the server name', fromLiteral, `${to}%${domain}@${serverName}`],
		['quoted local part', fromLiteral, `"${to}@${domain}"`],
		['quoted percent hack', fromLiteral, `"${to}%${domain}"`],
		['double @ at the IP literal', fromLiteral, `${to}@${domain}@${literal}`],
		['quoted address at the IP literal', fromLiteral, `"${to}@${domain}"@${literal}`],
		['double @ at the server name', fromLiteral, `${to}@${domain}@${serverName}`],
		['source route via the IP literal', fromLiteral, `@${literal}:${to}@${domain}`],
		['source route via the server name', fromLiteral, `@${serverName}:${to}@${domain}`],
		['bang path', fromLiteral, `${domain}!${to}`],
		['bang path at the IP literal', fromLiteral, `${domain}!${to}@${literal}`],
		['bang path at the server name', fromLiteral, `${domain}!${to}@${serverName}`],
	];
	return pairs.map(([label, pairFrom, pairTo]) => ({label, mailFrom: pairFrom, rcptTo: pairTo}));
}
