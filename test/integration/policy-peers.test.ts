// Self-checks of the policy layer's fixtures with independent tools (dig, openssl s_client),
// so no mxdash test can pass against a wrong fixture.
import {spawn} from 'node:child_process';
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {describe, expect, inject, it} from 'vitest';

const postfix = inject('postfix');
const policy = inject('policy');
const missing = inject('policyMissing');

type Output = {code: number | null; out: string};
// Runs a tool with stdin, bounded in time and size; never throws (a failure is in code/out).
async function tool(command: string, args: string[], input = '', timeoutMs = 10_000): Promise<Output> {
	return new Promise(resolve => {
		const child = spawn(command, args, {timeout: timeoutMs});
		let out = '';
		const collect = (chunk: Buffer) => {
			if (out.length < 1_000_000) out += chunk.toString('latin1');
		};

		child.stdout.on('data', collect);
		child.stderr.on('data', collect);
		child.on('error', error => {
			resolve({code: -1, out: String(error)});
		});
		child.on('close', code => {
			resolve({code, out});
		});
		child.stdin.end(input);
	});
}

type Dig = {status: string; flags: string[]; answers: string[]};
async function dig(server: string, name: string, type: string, ...options: string[]): Promise<Dig> {
	const {out} = await tool('dig', [`@${server}`, '+tries=2', '+time=2', '+dnssec', ...options, name, type]);
	const flags = /;; flags: ([^;]*);/.exec(out)?.[1]?.trim().split(' ') ?? [];
	const status = /status: (\w+)/.exec(out)?.[1] ?? `no answer: ${out}`;
	const rdata = new RegExp(`^[^;].*\\sIN\\t${type}\\t(.*)$`);
	// dig splits long hex data with spaces: TLSA data becomes "u s m HEX" again.
	const answers = out.split('\n').flatMap(line => rdata.exec(line)?.[1] ?? [])
		.map(data => (type === 'TLSA' ? data.replace(/^(\d+ \d+ \d+) (.*)$/, (_, head: string, hex: string) => `${head} ${hex.replaceAll(' ', '')}`) : data));
	return {status, flags, answers};
}

// An SMTP STARTTLS session that verifies the chain against the given TLSA records (OpenSSL's own DANE code).
async function daneCheck(ip: string, host: string, records: string[]): Promise<string> {
	const rrdata = records.flatMap(record => ['-dane_tlsa_rrdata', record]);
	const {out} = await tool('openssl', ['s_client', '-starttls', 'smtp', '-connect', `${ip}:25`, '-dane_tlsa_domain', host, ...rrdata], 'Q\n');
	return out;
}

// One HTTPS request over openssl s_client, checking the chain against the test root and the name.
async function https(host: string): Promise<Output> {
	const request = `GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
	return tool('openssl', [
		's_client', '-quiet', '-connect', `${policy!.ips.policyHost}:443`, '-servername', host,
		'-CAfile', postfix!.caFile, '-verify_return_error', '-verify_hostname', host,
	], request);
}

describe.skipIf(!policy || !postfix)(`policy layer peers${missing ? ` (skipped: ${missing})` : ''}`, () => {
	const validating = policy?.ips.validating ?? '';
	const forwarding = policy?.ips.forwarding ?? '';

	it('Unbound validates test. and dane.test names (AD) and the TLSA records', async () => {
		for (const [name, type] of [['mx.good.test', 'A'], ['rollover.dane.test', 'A'], ['_25._tcp.rollover.dane.test', 'TLSA'], ['_mta-sts.sts-good.test', 'TXT'], ['12.25.0.127.bl.test', 'A']]) {
			const answer = await dig(validating, name!, type!);
			expect(answer.status, name).toBe('NOERROR');
			expect(answer.flags, name).toContain('ad');
			expect(answer.answers.length, name).toBeGreaterThan(0);
		}

		expect((await dig(validating, '_25._tcp.rollover.dane.test', 'TLSA')).answers).toHaveLength(2);
		expect((await dig(validating, '_mta-sts.sts-multiple.test', 'TXT')).answers).toHaveLength(2);
	});

	it('unsigned.test. resolves without AD; bogus.test. is SERVFAIL, its data only with +cd', async () => {
		const unsigned = await dig(validating, 'mx.unsigned.test', 'A');
		expect(unsigned).toMatchObject({status: 'NOERROR', answers: [postfix!.listeners.healthy.ip]});
		expect(unsigned.flags).not.toContain('ad');
		expect((await dig(validating, '_25._tcp.mx.unsigned.test', 'TLSA')).flags).not.toContain('ad');

		for (const [name, type] of [['mx.bogus.test', 'A'], ['_25._tcp.mx.bogus.test', 'TLSA']]) {
			expect((await dig(validating, name!, type!)).status, name).toBe('SERVFAIL');
			const unchecked = await dig(validating, name!, type!, '+cd');
			expect(unchecked.status, name).toBe('NOERROR');
			expect(unchecked.answers.length, name).toBeGreaterThan(0);
		}
	});

	it('dnsmasq forwards the same data, signatures included, and never sets AD', async () => {
		for (const [name, type] of [['mx.good.test', 'A'], ['_25._tcp.rollover.dane.test', 'TLSA'], ['mx.bogus.test', 'A'], ['mx.unsigned.test', 'A']]) {
			const answer = await dig(forwarding, name!, type!);
			expect(answer.status, name).toBe('NOERROR');
			expect(answer.flags, name).not.toContain('ad');
		}

		expect((await dig(forwarding, 'mx.good.test', 'RRSIG')).answers.length).toBeGreaterThan(0);
	});

	it('delv, with the private root as its own anchor, agrees: secure, insecure, bogus (expired signatures)', async () => {
		// delv validates by itself (through dnsmasq, which passes the signatures on): independent of Unbound.
		const [owner, , , tag, algorithm, digestType, ...digest] = (await readFile(policy!.rootAnchorFile, 'utf8')).trim().split(/\s+/);
		expect(owner).toBe('.');
		const dir = await mkdtemp(path.join(tmpdir(), 'mxdash-delv-'));
		try {
			const anchors = path.join(dir, 'anchors.conf');
			await writeFile(anchors, `trust-anchors { "." static-ds ${tag!} ${algorithm!} ${digestType!} "${digest.join('')}"; };\n`);
			const delv = async (name: string, type: string) => (await tool('delv', [`@${forwarding}`, '-a', anchors, '+root=.', name, type])).out;
			expect(await delv('mx.good.test', 'A')).toMatch(/^; fully validated$/m);
			expect(await delv('_25._tcp.single.dane.test', 'TLSA')).toMatch(/^; fully validated$/m);
			expect(await delv('mx.unsigned.test', 'A')).toMatch(/^; unsigned answer$/m);
			expect(await delv('mx.bogus.test', 'A')).toMatch(/RRSIG has expired/);
		} finally {
			await rm(dir, {recursive: true, force: true});
		}
	});

	it('PTR of every listener names its MX host (and that name points back)', async () => {
		for (const {ip, name} of Object.values(postfix!.listeners)) {
			const reverse = `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
			expect((await dig(validating, reverse, 'PTR')).answers, ip).toEqual([`${name}.`]);
			expect((await dig(validating, name, 'A')).answers, name).toEqual([ip]);
		}
	});

	it('blocklists: bl.test lists the relay and 127.0.0.2, not 127.0.0.1; refuse.test refuses everything', async () => {
		expect((await dig(validating, '12.25.0.127.bl.test', 'A')).answers).toEqual(['127.0.0.2']);
		expect((await dig(validating, '12.25.0.127.bl.test', 'TXT')).answers[0]).toMatch(/listed/);
		expect((await dig(validating, '2.0.0.127.bl.test', 'A')).answers).toEqual(['127.0.0.2']);
		expect((await dig(validating, '1.0.0.127.bl.test', 'A')).status).toBe('NXDOMAIN');
		expect((await dig(validating, '10.25.0.127.bl.test', 'A')).status).toBe('NXDOMAIN');
		expect((await dig(validating, '12.25.0.127.refuse.test', 'A')).answers).toEqual(['127.255.255.254']);
	});

	it('OpenSSL DANE: the published TLSA records match what the healthy listener sends, the mismatch one does not', async () => {
		const ip = postfix!.listeners.healthy.ip;
		const published = async (host: string) => (await dig(validating, `_25._tcp.${host}`, 'TLSA')).answers;
		const rollover = await daneCheck(ip, 'rollover.dane.test', await published('rollover.dane.test'));
		expect(rollover).toMatch(/DANE TLSA 3 1 1 .*matched EE certificate at depth 0/);
		expect(rollover).toMatch(/Verification: OK/);
		const ta = await daneCheck(ip, 'ta.dane.test', await published('ta.dane.test'));
		expect(ta).toMatch(/DANE TLSA 2 0 1 .*matched TA certificate at depth 1/);
		expect(ta).toMatch(/Verification: OK/);
		const mismatch = await daneCheck(ip, 'mismatch.dane.test', await published('mismatch.dane.test'));
		expect(mismatch).not.toMatch(/Verification: OK/);
		expect(mismatch).toMatch(/Verification error/);
		expect(await published('notlsa.dane.test')).toEqual([]);
		// The published data is what the peer computed from the certificate files.
		const hex = (records: string[]) => records.map(record => record.replaceAll(' ', '').toLowerCase()).sort();
		expect(hex(await published('single.dane.test'))).toEqual(hex(policy!.tlsa['single.dane.test']!.map(r => `${r.usage}${r.selector}${r.matchingType}${r.data}`)));
	});

	it('nginx serves the MTA-STS policies with certificates from the test CA', async () => {
		const good = await https('mta-sts.sts-good.test');
		expect(good.out).toMatch(/^HTTP\/1\.1 200 OK\r$/m);
		expect(good.out).toMatch(/^Content-Type: text\/plain\r$/m);
		expect(good.out).toMatch(/version: STSv1\nmode: enforce\nmx: mx\.good\.test\nmax_age: 604800\n/);
		expect((await https('mta-sts.sts-testing.test')).out).toMatch(/mode: testing/);
		expect((await https('mta-sts.sts-wildcard.test')).out).toMatch(/mx: \*\.wild\.test/);
		const redirect = await https('mta-sts.sts-redirect.test');
		expect(redirect.out).toMatch(/^HTTP\/1\.1 301 /m);
		expect(redirect.out).toMatch(/^Location: https:\/\/mta-sts\.sts-good\.test\//m);
		expect((await https('mta-sts.sts-ctype.test')).out).toMatch(/^Content-Type: text\/html\r$/m);
		const badCert = await https('mta-sts.sts-badcert.test');
		expect(badCert.out).toMatch(/hostname mismatch/);
		expect(badCert.out).not.toMatch(/HTTP\/1\.1/);
	});

	it('the tls10 listener speaks TLS 1.0 only; the healthy one refuses TLS 1.0', async () => {
		const starttls = async (ip: string, ...options: string[]) => (await tool('openssl', ['s_client', '-starttls', 'smtp', '-connect', `${ip}:25`, ...options], 'Q\n')).out;
		const tls10 = postfix!.listeners.tls10.ip;
		// "New, <version>, Cipher is <suite>" only when a session was made; a failure says "New, (NONE)".
		const session = (version: string) => new RegExp(`^New, ${version.replaceAll('.', '\\.')}, Cipher is \\w`, 'm');
		expect(await starttls(tls10, '-tls1', '-cipher', 'DEFAULT@SECLEVEL=0')).toMatch(session('TLSv1.0'));
		for (const version of ['1_1', '1_2', '1_3']) {
			expect(await starttls(tls10, `-tls${version}`, '-cipher', 'DEFAULT@SECLEVEL=0')).toMatch(/^New, \(NONE\), Cipher is \(NONE\)/m);
		}

		const healthy = postfix!.listeners.healthy.ip;
		expect(await starttls(healthy, '-tls1', '-cipher', 'DEFAULT@SECLEVEL=0')).toMatch(/^New, \(NONE\), Cipher is \(NONE\)/m);
		expect(await starttls(healthy, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0')).toMatch(/^New, \(NONE\), Cipher is \(NONE\)/m);
		expect(await starttls(healthy, '-tls1_2')).toMatch(session('TLSv1.2'));
		expect(await starttls(healthy, '-tls1_3')).toMatch(session('TLSv1.3'));
	});
});
