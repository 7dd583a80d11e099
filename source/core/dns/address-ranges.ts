import net from 'node:net';

/** Address blocks no Internet sender can deliver to (RFC 6890 and kin), with their names. */
const ranges: Array<[name: string, prefix: string, bits: number, family: 'ipv4' | 'ipv6']> = [
	['"this network"', '0.0.0.0', 8, 'ipv4'],
	['private (RFC 1918)', '10.0.0.0', 8, 'ipv4'],
	['shared address space (RFC 6598)', '100.64.0.0', 10, 'ipv4'],
	['loopback', '127.0.0.0', 8, 'ipv4'],
	['link-local', '169.254.0.0', 16, 'ipv4'],
	['private (RFC 1918)', '172.16.0.0', 12, 'ipv4'],
	['IETF protocol assignments', '192.0.0.0', 24, 'ipv4'],
	['documentation (TEST-NET-1)', '192.0.2.0', 24, 'ipv4'],
	['private (RFC 1918)', '192.168.0.0', 16, 'ipv4'],
	['benchmarking', '198.18.0.0', 15, 'ipv4'],
	['documentation (TEST-NET-2)', '198.51.100.0', 24, 'ipv4'],
	['documentation (TEST-NET-3)', '203.0.113.0', 24, 'ipv4'],
	['multicast', '224.0.0.0', 4, 'ipv4'],
	['reserved', '240.0.0.0', 4, 'ipv4'],
	['loopback', '::', 127, 'ipv6'],
	['IPv4-mapped', '::ffff:0:0', 96, 'ipv6'],
	['documentation', '2001:db8::', 32, 'ipv6'],
	['unique local (fc00::/7)', 'fc00::', 7, 'ipv6'],
	['link-local', 'fe80::', 10, 'ipv6'],
	['multicast', 'ff00::', 8, 'ipv6'],
];

const lists = ranges.map(([name, prefix, bits, family]) => {
	const list = new net.BlockList();
	list.addSubnet(prefix, bits, family);
	return {name, family, list};
});

// The checks ask about each address of every plan again and again (~0.2 ms of CPU a time).
const known = new Map<string, string | undefined>();

/** The name of the reserved block `ip` is in, or undefined for a global address. */
export function reservedRange(ip: string): string | undefined {
	if (known.has(ip)) {
		return known.get(ip);
	}

	const family = net.isIPv6(ip) ? 'ipv6' : 'ipv4';
	const name = lists.find(item => item.family === family && item.list.check(ip, family))?.name;
	if (known.size >= 65_536) {
		known.clear();
	}

	known.set(ip, name);
	return name;
}
