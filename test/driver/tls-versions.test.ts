// scanTlsVersions against tiny STARTTLS servers on 127.0.64.x, each accepting some TLS versions.
// The servers count their connections, to show the scan never opens two at once. Loopback only.
import {readFileSync} from 'node:fs';
import net from 'node:net';
import type {AddressInfo} from 'node:net';
import tls from 'node:tls';
import {afterEach, describe, expect, it} from 'vitest';
import {defaultLimits} from '../../source/core/limits.js';
import type {Limits} from '../../source/core/limits.js';
import type {ProbeOptions} from '../../source/core/smtp/session.js';
import {scanTlsVersions} from '../../source/core/smtp/tls-versions.js';
import type {ProbeTarget} from '../../source/core/types.js';

const certs = new URL('../../source/demo/certs/', import.meta.url);
const pem = (name: string): string => readFileSync(new URL(name, certs), 'utf8');
const exchange = 'mx1.healthy.demo';

const limits: Limits = {...defaultLimits, connectMs: 2000, bannerMs: 2000, commandMs: 2000, tlsMs: 2000, quitMs: 500, sessionMs: 10_000};
const options: ProbeOptions = {ehloName: 'probe.mxdash.test', relay: 'basic', mailFrom: 'probe@mxdash.invalid', rcptTo: 'relay-check@mxdash.invalid', limits, ca: [pem('root-ca.pem')]};

type Server = {
	target: ProbeTarget;
	/** Connections accepted, and the most the client had open at one time. */
	stats: {connections: number; mostOpen: number};
	/** Every command line received, in order, over all connections. */
	commands: string[];
	/** The TLS version of each handshake that succeeded. */
	versions: string[];
	close(): Promise<void>;
};

const servers: Server[] = [];
afterEach(async () => {
	await Promise.all(servers.splice(0).map(async server => server.close()));
});

/**
 * A minimal SMTP server: greeting, EHLO (with STARTTLS when `tls` is given), STARTTLS, QUIT;
 * anything else gets 502. Lines are bounded; each connection lives at most 10 s.
 */
async function startServer(host: string, tlsOptions?: tls.SecureContextOptions): Promise<Server> {
	const context = tlsOptions ? tls.createSecureContext({key: pem('healthy-key.pem'), cert: pem('healthy.pem') + pem('intermediate.pem'), ...tlsOptions}) : undefined;
	const stats = {connections: 0, mostOpen: 0};
	const commands: string[] = [];
	const versions: string[] = [];
	const sockets = new Set<net.Socket>();
	const open = new Set<net.Socket>();
	const server = net.createServer(raw => {
		stats.connections++;
		sockets.add(raw);
		// The client has finished once it ended its side (inside TLS or not) or the socket is gone.
		// Its FIN is queued before its next SYN, so by the next turn of the event loop after an
		// accept every connection the client finished before has said so.
		const finish = (): void => {
			open.delete(raw);
		};

		open.add(raw);
		raw.on('close', () => {
			finish();
			sockets.delete(raw);
		});
		raw.on('end', finish);
		raw.on('error', finish);
		raw.setTimeout(10_000, () => raw.destroy());
		setImmediate(() => {
			stats.mostOpen = Math.max(stats.mostOpen, open.size);
		});
		serve(raw, false, finish);
	});

	function serve(socket: net.Socket, secure: boolean, finish: () => void): void {
		let buffer = '';
		const onData = (chunk: Buffer): void => {
			buffer += chunk.toString('latin1');
			if (buffer.length > 4096) {
				socket.destroy();
				return;
			}

			let end: number;
			while ((end = buffer.indexOf('\r\n')) !== -1) {
				const line = buffer.slice(0, end);
				buffer = buffer.slice(end + 2);
				commands.push(line);
				const verb = line.split(' ')[0]!.toUpperCase();
				if (verb === 'EHLO') {
					socket.write(`250-${exchange}\r\n${context && !secure ? '250-STARTTLS\r\n' : ''}250 8BITMIME\r\n`);
				} else if (verb === 'STARTTLS' && context && !secure) {
					socket.removeListener('data', onData);
					socket.write('220 2.0.0 Ready to start TLS\r\n');
					const upgraded = new tls.TLSSocket(socket, {isServer: true, secureContext: context});
					upgraded.on('error', () => {
						finish();
						socket.destroy();
					});
					upgraded.on('end', finish);
					upgraded.once('secure', () => {
						versions.push(upgraded.getProtocol() ?? 'unknown');
					});
					serve(upgraded, true, finish);
					return;
				} else if (verb === 'QUIT') {
					socket.end('221 2.0.0 Bye\r\n');
					return;
				} else {
					socket.write('502 5.5.2 Error: command not recognized\r\n');
				}
			}
		};

		socket.on('data', onData);
		if (!secure) {
			socket.write(`220 ${exchange} ESMTP\r\n`);
		}
	}

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, host, resolve);
	});
	const {port} = server.address() as AddressInfo;
	const handle: Server = {
		target: {exchange, ip: host, port},
		stats,
		commands,
		versions,
		async close() {
			for (const socket of sockets) {
				socket.destroy();
			}

			await new Promise(resolve => {
				server.close(resolve);
			});
		},
	};
	servers.push(handle);
	return handle;
}

const untried = ['SSLv3 (Node\'s OpenSSL has no SSLv3)', 'SSLv2'];

describe('scanTlsVersions', () => {
	it('finds TLSv1.2 and TLSv1.3 accepted and the older two refused', async () => {
		const server = await startServer('127.0.64.1', {minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3'});
		const scan = await scanTlsVersions(server.target, options);
		expect(scan.accepted).toEqual({'TLSv1': false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true});
		expect(scan.untried).toEqual(untried);
		expect(scan.detail).toEqual({
			'TLSv1': 'TLSv1 refused: the server sent the TLS alert protocol_version (70)',
			'TLSv1.1': 'TLSv1.1 refused: the server sent the TLS alert protocol_version (70)',
		});
		expect(server.versions).toEqual(['TLSv1.2', 'TLSv1.3']);

		// One session per version, one at a time, and no relay test in any of them.
		expect(server.stats.connections).toBe(4);
		expect(server.stats.mostOpen).toBe(1);
		expect(server.commands.some(line => /^(MAIL|RCPT)\b/i.test(line))).toBe(false);
		expect(server.commands.filter(line => line === 'QUIT')).toHaveLength(2);
	});

	it('has a connection counter that does see two scans at once', async () => {
		// The check of the other tests, shown to catch what it is meant to catch.
		const server = await startServer('127.0.64.6', {minVersion: 'TLSv1.2'});
		const [first, second] = await Promise.all([scanTlsVersions(server.target, options), scanTlsVersions(server.target, options)]);
		expect(first.accepted).toEqual(second.accepted);
		expect(server.stats.mostOpen).toBe(2);
	});

	it('finds TLSv1 alone accepted on a TLS 1.0 server', async () => {
		const server = await startServer('127.0.64.2', {minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0'});
		const scan = await scanTlsVersions(server.target, options);
		expect(scan.accepted).toEqual({'TLSv1': true, 'TLSv1.1': false, 'TLSv1.2': false, 'TLSv1.3': false});
		expect(scan.detail).toEqual({
			// The server answers an offer of only TLS 1.1 or 1.2 with its TLS 1.0, which the client refuses.
			'TLSv1.1': 'TLSv1.1 refused: the server chose another version (OpenSSL reported "unsupported protocol")',
			'TLSv1.2': 'TLSv1.2 refused: the server chose another version (OpenSSL reported "unsupported protocol")',
			'TLSv1.3': 'TLSv1.3 refused: the server sent the TLS alert protocol_version (70)',
		});
		expect(server.versions).toEqual(['TLSv1']);
		expect(server.stats).toMatchObject({connections: 4, mostOpen: 1});
	});

	it('stops after one session when STARTTLS is not offered', async () => {
		const server = await startServer('127.0.64.3');
		const scan = await scanTlsVersions(server.target, options);
		expect(scan.accepted).toEqual({});
		expect(scan.detail).toEqual({
			'TLSv1': 'not tried: STARTTLS not offered',
			'TLSv1.1': 'not tried: STARTTLS not offered',
			'TLSv1.2': 'not tried: STARTTLS not offered',
			'TLSv1.3': 'not tried: STARTTLS not offered',
		});
		expect(server.stats.connections).toBe(1);
		expect(server.commands.some(line => /^(MAIL|RCPT)\b/i.test(line))).toBe(false);
	});

	it('stops after one session when nothing listens', async () => {
		// A port just closed on our own address: refused at once.
		const server = await startServer('127.0.64.4');
		const {target} = server;
		await server.close();
		servers.length = 0;
		const scan = await scanTlsVersions(target, options);
		expect(scan.accepted).toEqual({});
		expect(scan.detail['TLSv1']).toMatch(/^not tried: the connection failed/);
		expect(scan.detail['TLSv1.3']).toBe(scan.detail['TLSv1']);
	});

	it('tries nothing once cancelled', async () => {
		const server = await startServer('127.0.64.5', {minVersion: 'TLSv1.2'});
		const controller = new AbortController();
		controller.abort();
		const scan = await scanTlsVersions(server.target, {...options, signal: controller.signal});
		expect(scan.accepted).toEqual({});
		expect(Object.values(scan.detail).every(detail => detail.startsWith('not tried: cancelled'))).toBe(true);
		expect(server.stats.connections).toBe(0);
	});
});
