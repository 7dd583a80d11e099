// Section 4 of the hostile suite (test/driver/hostile.test.ts): the terminal is never the server's.
import {execFile} from 'node:child_process';
import {X509Certificate} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {beforeAll, describe, expect, it} from 'vitest';
import type {AddressReport, Report} from '../../../source/core/run/report-model.js';
import {reverseName, startDnsServer} from '../../../source/peers/dns-server.js';
import type {DnsServer, Zone} from '../../../source/peers/dns-server.js';
import {bytes, dialogue, hostileAddress, startHostile} from '../../helpers/hostile-servers.js';
import type {Behaviour, HostileServer} from '../../helpers/hostile-servers.js';
import {cliPath} from '../../helpers/run-cli.js';
import {Terminal, has, tmuxMissing} from '../../helpers/tmux.js';
import {ehloName, evilTls, greeting, plainEhlo, servers, tlsEhlo} from './fixtures.js';

// ---------------------------------------------------------------------------------------------
// 4. The terminal is never the server's
// ---------------------------------------------------------------------------------------------

type CliBytes = {code: number; stdout: Buffer; stderr: string; ms: number};

async function runCliBytes(args: string[], timeoutMs = 30_000): Promise<CliBytes> {
	const started = performance.now();
	const config = mkdtempSync(path.join(tmpdir(), 'mxdash-hostile-config-'));
	return new Promise(resolve => {
		execFile(process.execPath, [cliPath, ...args], {env: {...process.env, NO_COLOR: '1', MXDASH_CONFIG_DIR: config}, timeout: timeoutMs, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024}, (error, stdout, stderr) => {
			rmSync(config, {recursive: true, force: true});
			const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
			resolve({code, stdout, stderr: stderr.toString('utf8'), ms: performance.now() - started});
		});
	});
}

/** Every byte or character of `out` that a terminal would act on, described. */
export function terminalHazards(out: Buffer): string[] {
	const hazards: string[] = [];
	for (const [index, byte] of out.entries()) {
		if ((byte < 0x20 && byte !== 0x0A) || byte === 0x7F) {
			hazards.push(`byte 0x${byte.toString(16).padStart(2, '0')} at ${index}`);
		}
	}

	let text: string;
	try {
		text = new TextDecoder('utf-8', {fatal: true}).decode(out);
	} catch {
		return [...hazards, 'invalid UTF-8'];
	}

	for (const match of text.matchAll(/[\u0080-\u009F\u200B-\u200F\u2028-\u202E\u2066-\u2069\uFEFF]/g)) {
		hazards.push(`U+${match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} at ${match.index}`);
	}

	return hazards;
}

describe('4. the terminal is never the server\'s', () => {
	/** Each server carries a few hazards early in its text, since the report cuts long lines. */
	const banners = {
		csi: bytes('220 evil\u001B[2J\u001B[31m.test ESMTP \u001B]0;pwned title\u0007 end\r\n'),
		osc: bytes('220 x \u001B]8;;http://evil.test/\u001B\\click\u001B]8;;\u001B\\ \u001B]52;c;cHduZWQ=\u0007 end\r\n'),
		dcs: bytes('220 x \u001BP+q544e\u001B\\ ', [0x9B], '31m \u009B1m cr\rbs\bdel\u007F end\r\n'),
		bidi: bytes('220 x \u202Eevil\u202C \u2066iso\u2069 zw\u200Bsp \uFEFF ', [0xFF], ' ', [0xE2, 0x82], ' ', [0xC3], '\r\n'),
		rejected: bytes('554 5.7.1 \u001B]0;rejected\u0007\u202E no\r\n'),
	};
	/** The banner text each should give back through --json: the bytes after "220 ", invalid ones as U+DC80+byte. */
	const bannerTexts: Record<keyof typeof banners, string> = {
		csi: 'evil\u001B[2J\u001B[31m.test ESMTP \u001B]0;pwned title\u0007 end',
		osc: 'x \u001B]8;;http://evil.test/\u001B\\click\u001B]8;;\u001B\\ \u001B]52;c;cHduZWQ=\u0007 end',
		dcs: 'x \u001BP+q544e\u001B\\ \uDC9B31m \u009B1m cr\rbs\bdel\u007F end',
		bidi: 'x \u202Eevil\u202C \u2066iso\u2069 zw\u200Bsp \uFEFF \uDCFF \uDCE2\uDC82 \uDCC3',
		rejected: '5.7.1 \u001B]0;rejected\u0007\u202E no',
	};
	const evilEhlo = bytes('250-mx\u001B[5m.evil.test\r\n250-X\u001B]0;t\u0007KEY p\u202Earam\r\n250 8BITMIME\r\n');
	const evilRcpt = bytes('450 4.7.1 \u001B]52;c;Zm9v\u0007 greylisted \u202Eyalp\u200B ', [0xFF], '\r\n');
	const evilEhloRefusal = bytes('550 \u001B[2Jno\u001BP q\u001B\\\r\n');
	const evilExtra = bytes('250 \u001B[2Jextra\u009B\r\n');
	const evilMx = 'mx\u001B[2J.evil.test';
	const evilPtr = 'ptr\u001B]0;pwn\u0007.evil.test';

	let dns: DnsServer;
	let port = 0;
	const hosts: Record<string, string> = {};

	beforeAll(async () => {
		const specs: Array<[string, Behaviour]> = [
			['csi', dialogue({banner: banners.csi, ehlo: evilEhlo})],
			['osc', dialogue({banner: banners.osc, ehlo: evilEhlo})],
			['dcs', dialogue({banner: banners.dcs, ehlo: evilEhlo})],
			['bidi', dialogue({banner: banners.bidi, ehlo: evilEhlo})],
			['rejected', dialogue({banner: banners.rejected})],
			['relay', dialogue({banner: greeting, ehlo: evilEhlo, rcpt: evilRcpt})],
			['refusal', dialogue({banner: greeting, ehlo: evilEhloRefusal, helo: evilEhloRefusal})],
			['tls', dialogue({banner: greeting, ehlo: tlsEhlo, ehloTls: evilEhlo, tls: evilTls})],
			['extra', async conn => {
				conn.write(greeting);
				conn.session.greeted = true;
				if (await conn.nextLine()) {
					conn.write(Buffer.concat([bytes(plainEhlo), evilExtra]));
				}

				await dialogue({})(conn).catch(() => undefined);
			}],
		];
		// Every server on one port, each on its own address: --port is one number.
		for (let attempt = 0; attempt < 5 && port === 0; attempt++) {
			const started: HostileServer[] = [];
			try {
				for (const [name, behaviour] of specs) {
					const server = await startHostile(`cli ${name}`, behaviour, {port: started[0]?.port ?? 0});
					started.push(server);
					hosts[name] = server.host;
				}

				port = started[0]!.port;
				servers.push(...started);
			} catch {
				await Promise.all(started.map(async server => server.close()));
			}
		}

		expect(port).toBeGreaterThan(0);
		const names = Object.keys(hosts).map(name => `mx${name}.evil.test`);
		const zone: Zone = {
			// The last MX (preference 19) has an ESC in its name.
			'evil.test': {MX: [...names, evilMx].map((name, index) => [10 + index, name] as [number, string])},
			...Object.fromEntries(Object.entries(hosts).map(([name, ip]) => [`mx${name}.evil.test`, {A: [ip]}])),
			[evilMx.toLowerCase()]: {A: [hosts.csi!]},
			[reverseName(hosts.csi!)]: {PTR: [evilPtr]},
			[evilPtr.toLowerCase()]: {A: [hosts.csi!]},
		};
		dns = await startDnsServer(zone, hostileAddress());
		servers.push(dns);
	});

	const cliArgs = (): string[] => ['--resolver', dns.address, '--port', String(port), '--timeout', '3', '--ehlo-name', ehloName, 'evil.test'];

	it('plain text on a pipe: not one byte a terminal would act on, and every hazard shown as a visible escape [guards sanitize() in source/report/text.ts]', async () => {
		const cli = await runCliBytes(cliArgs());
		// The text report wraps long findings: their continuation lines are joined back (at
		// the space the break took) before the evidence is looked for, as a reader would.
		const text = unwrap(cli.stdout.toString('utf8'));

		expect(cli.stderr).toBe('');
		expect(cli.code).toBe(2);
		expect(terminalHazards(cli.stdout)).toEqual([]);
		for (const visible of ['\\x1b[2J', '\\x1b]0;pwned title\\x07', '\\x1b]8;;http://evil.test/', '\\x1b]52;c;cHduZWQ=', '\\x1bP+q544e', '\\x9b31m', '\\u009b1m', 'cr\\rbs\\x08del\\x7f', '\\u202eevil\\u202c', '\\u2066iso\\u2069', 'zw\\u200bsp', '\\ufeff', '\\xff', '\\xe2\\x82', '\\xc3']) {
			expect(text).toContain(visible);
		}

		// Server text in findings: the 554 greeting, the greylisting reason, the EHLO refusal, the extra reply.
		expect(text).toMatch(/banner-rejected.*\\x1b\]0;rejected\\x07\\u202e no/);
		expect(text).toMatch(/relay-inconclusive.*\\x1b\]52;c;Zm9v\\x07 greylisted \\u202eyalp\\u200b \\xff/);
		expect(text).toMatch(/ehlo-rejected.*\\x1b\[2Jno\\x1bP q\\x1b\\\\/);
		expect(text).toMatch(/\\x1b\[2Jextra\\u009b/);
		// The certificate: OpenSSL escapes the C0 bytes of the subject itself; the rest is ours to escape.
		expect(text).toMatch(/cert-self-signed.*\\u202eflip\\u200bzw/);
		// DNS names: c-ares hands them over as \DDD escapes; a backslash is doubled so it cannot pass for ours.
		expect(text).toContain('MX 19 mx\\\\027[2j.evil.test');
		expect(text).toContain('ptr\\\\027]0\\\\;pwn\\\\007.evil.test');
	});

	it('--json gives back the exact server text, invalid bytes as \\udcXX [guards decodeBytes and the JSON report]', async () => {
		const cli = await runCliBytes(['--json', ...cliArgs()]);
		expect(cli.stderr).toBe('');
		expect(cli.code).toBe(2);
		const report = JSON.parse(cli.stdout.toString('utf8')) as Report;
		const addresses = new Map<string, AddressReport & {exchange: string}>(report.domains[0]!.mx.flatMap(mx => mx.addresses.map(address => [address.ip, {...address, exchange: mx.exchange}] as const)));

		for (const [name, text] of Object.entries(bannerTexts)) {
			expect(addresses.get(hosts[name]!)?.banner?.text).toBe(text);
		}

		const relay = addresses.get(hosts.relay!)!;
		expect(relay.ehlo?.hostname).toBe('mx\u001B[5m.evil.test');
		expect(relay.ehlo?.extensions[0]).toEqual({keyword: 'X\u001B]0;T\u0007KEY', params: ['p\u202Earam']});
		expect(relay.relay.attempts[0]?.text).toBe('4.7.1 \u001B]52;c;Zm9v\u0007 greylisted \u202Eyalp\u200B \uDCFF');
		expect(relay.transcript.filter(line => line.dir === 'server').map(line => line.text)).toContain('250-X\u001B]0;t\u0007KEY p\u202Earam');
		expect(addresses.get(hosts.refusal!)?.ehlo?.text).toBe('\u001B[2Jno\u001BP q\u001B\\');
		expect(addresses.get(hosts.extra!)?.transcript.map(line => line.text)).toContain('250 \u001B[2Jextra\u009B');

		const tlsAddress = addresses.get(hosts.tls!)!;
		const leaf = new X509Certificate(evilTls.cert);
		expect(tlsAddress.tls?.chain[0]?.subject).toBe(leaf.subject.split('\n').join(', '));
		expect(tlsAddress.tls?.chain[0]?.subject).toContain('\u202Eflip\u200Bzw');
		expect(tlsAddress.tls?.chain[0]?.san).toEqual((leaf.subjectAltName ?? '').split(', '));
		expect(tlsAddress.ehlo?.extensionsAfterTls?.[0]?.keyword).toBe('X\u001B]0;T\u0007KEY');

		// DNS names as c-ares gave them: every byte outside printable ASCII as a \DDD escape. c-ares
		// then refuses to look such a name up (EBADNAME), so that MX host is reported, not probed.
		const evilHost = report.domains[0]!.mx.find(mx => mx.exchange.startsWith('mx\\'));
		expect(evilHost?.exchange).toBe('mx\\027[2j.evil.test');
		expect(evilHost?.addresses).toEqual([]);
		expect(evilHost?.findings.map(item => item.id)).toEqual(['dns-error']);
		expect(addresses.get(hosts.csi!)?.ptr).toBe('ptr\\027]0\\;pwn\\007.evil.test');
	});

	it('--json printed on a terminal is inert too: C1, bidi and zero-width characters escaped as \\uXXXX, still the exact text once parsed [guards the JSON writer in run-cli.tsx]', async () => {
		const cli = await runCliBytes(['--json', ...cliArgs()]);
		// JSON.stringify escapes C0 and lone surrogates; U+009B, U+202E, U+200B, U+FEFF it writes raw.
		expect(terminalHazards(cli.stdout)).toEqual([]);
	});
	it.skipIf(tmuxMissing)('the dashboard over all of them at once: completes, answers keys, draws every hazard as a visible escape, writes none raw, and Ctrl-C restores the terminal [guards the sanitizer in source/ui and the terminal restore]', async () => {
		const terminal = new Terminal();
		const raw = path.join(terminal.workDir, 'terminal.out');
		const session = 'evil';
		try {
			terminal.start(session, 80, 24, cliArgs(), terminal.workDir, raw);
			await terminal.waitForScreen(session, 'the host rows', has(/127\.0\.66\./));
			terminal.press(session, 'Down');
			await terminal.waitForScreen(session, 'the selection on the first host', has(/^› .*127\.0\.66\./), 3000);
			await terminal.waitForScreen(session, 'the round to finish', current => /last \d/.test(current[0] ?? ''), 30_000);
			terminal.press(session, 'Enter');
			await terminal.waitForScreen(session, 'the detail screen', has('[1 Summary]'));
			terminal.press(session, '2');
			const transcript = await terminal.waitForScreen(session, 'the transcript', has('[2 Transcript]'));
			expect(transcript.join('\n')).toMatch(/← 220 evil\\x1b\[2J\\x1b\[31m\.test ESMTP \\x1b\]0;pwned/);
			terminal.press(session, '4');
			await terminal.waitForScreen(session, 'the findings', has('[4 Findings]'));
			terminal.press(session, 'Escape');
			await terminal.waitForScreen(session, 'the grid again', has('MX host'));
			expect(terminal.display(session, '#{pane_title}')).not.toMatch(/pwn/);
			terminal.press(session, 'C-c');
			// Quitting exits with the last round's Nagios code: these servers are critical.
			expect(await terminal.waitForExit(session)).toEqual({status: 2});
			expect(terminal.display(session, '#{alternate_on}')).toBe('0');
			expect(terminal.display(session, '#{pane_title}')).not.toMatch(/pwn/);

			// What the program wrote, byte for byte: Ink's own CSI sequences only, nothing of the servers'.
			const written = readFileSync(raw);
			const text = written.toString('utf8');
			expect(written.length).toBeGreaterThan(1000);
			const osc = text.indexOf('\u001B]');
			expect(osc, 'an OSC sequence (title, link, clipboard)').toBe(-1);
			expect(text.indexOf('\u001BP'), 'a DCS sequence').toBe(-1);
			expect(written.includes(0x07), 'BEL').toBe(false);
			expect(written.includes(0x7F), 'DEL').toBe(false);
			expect(written.includes(0xFF), 'an invalid byte from a server').toBe(false);
			expect([...text].filter(char => /[\u0080-\u009F\u200B-\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/.test(char)), 'C1, bidi or zero-width characters').toEqual([]);
			// Every ESC starts one of the sequences Ink and the alternate screen use: CSI, nothing else.
			const escapes = text.split('\u001B').slice(1).map(rest => rest.slice(0, 1));
			expect(escapes.filter(next => next !== '['), 'an ESC that does not start a CSI').toEqual([]);
		} finally {
			terminal.close();
		}
	}, 60_000);
});

/** The text report with each wrapped finding or advice back on one line. */
function unwrap(text: string): string {
	// Not joined: advice, the next finding, the stage line, the greeting's own lines (21 spaces).
	return text.replace(/\n( {11,})(?!-> |(?:INFO|WARNING|CRITICAL) |connect |banner: )/g, (match, indent: string, at: number) =>
		(indent.length === 21 && /^\d{3}[ -]/.test(text.slice(at + match.length, at + match.length + 4)) ? match : ' '));
}
