// tlsInfo's two chains against real TLS servers on 127.0.0.1: `sent` is what the server sent, in
// its order; `chain` is the verified path, completed from the trusted roots. Loopback only.
import {X509Certificate} from 'node:crypto';
import {readFileSync} from 'node:fs';
import type {AddressInfo} from 'node:net';
import tls from 'node:tls';
import {afterEach, describe, expect, it} from 'vitest';
import {secureContext, tlsInfo} from '../../source/core/tls/inspect.js';
import type {TlsInfo} from '../../source/core/types.js';

const certs = new URL('../../source/demo/certs/', import.meta.url);
const pem = (name: string): string => readFileSync(new URL(name, certs), 'utf8');
const root = pem('root-ca.pem');
const intermediate = pem('intermediate.pem');
const leaf = pem('healthy.pem');
const stray = pem('relay.pem');
const key = pem('healthy-key.pem');
const cn = (name: string): string => `CN=${name}`;

const servers: tls.Server[] = [];
afterEach(async () => {
	await Promise.all(servers.splice(0).map(async server => new Promise(resolve => {
		server.close(resolve);
	})));
});

/** A TLS server that sends `cert` (a PEM bundle, in that order), and what a client trusting the demo root sees. */
async function handshake(cert: string): Promise<TlsInfo> {
	const server = tls.createServer({key, cert});
	servers.push(server);
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as AddressInfo;
	const socket = tls.connect({host: '127.0.0.1', port, servername: 'mx1.healthy.demo', rejectUnauthorized: false, secureContext: secureContext([root])});
	try {
		await new Promise<void>((resolve, reject) => {
			socket.once('secureConnect', resolve);
			socket.once('error', reject);
		});
		return tlsInfo(socket, 'mx1.healthy.demo', new Date(), [root]);
	} finally {
		socket.destroy();
	}
}

const subjects = (chain: TlsInfo['chain'] | undefined): string[] => (chain ?? []).map(cert => cert.subject.split(', ').at(-1)!);

describe('the chain as sent', () => {
	it('keeps leaf and intermediate as sent, and the verified path adds the trusted root', async () => {
		const info = await handshake(leaf + intermediate);
		expect(info.authorized).toBe(true);
		expect(subjects(info.sent)).toEqual([cn('mx1.healthy.demo'), cn('mxdash demo intermediate CA')]);
		expect(subjects(info.chain)).toEqual([cn('mx1.healthy.demo'), cn('mxdash demo intermediate CA'), cn('mxdash demo root CA')]);
		// Each sent certificate carries its DER, the same certificate as the PEM the server has.
		expect(info.sent!.map(cert => new X509Certificate(Buffer.from(cert.der!, 'base64')).fingerprint256))
			.toEqual([new X509Certificate(leaf).fingerprint256, new X509Certificate(intermediate).fingerprint256]);
		expect(info.sent![0]!.fingerprint256).toBe(info.chain[0]!.fingerprint256);
		// The verified path carries no DER.
		expect(info.chain.every(cert => cert.der === undefined)).toBe(true);
	});

	it('has three when the server sends the root too', async () => {
		const info = await handshake(leaf + intermediate + root);
		expect(subjects(info.sent)).toEqual([cn('mx1.healthy.demo'), cn('mxdash demo intermediate CA'), cn('mxdash demo root CA')]);
		expect(info.sent![2]!.selfSigned).toBe(true);
		expect(info.chain).toHaveLength(3);
	});

	it('has the leaf alone when the server sends only it', async () => {
		const info = await handshake(leaf);
		expect(info.authorized).toBe(false);
		expect(subjects(info.sent)).toEqual([cn('mx1.healthy.demo')]);
		expect(info.chain).toHaveLength(1);
		expect(info.chainIncomplete).toBe(true);
	});

	it('keeps the server\'s order when it sends the root before the intermediate', async () => {
		const info = await handshake(leaf + root + intermediate);
		expect(subjects(info.sent)).toEqual([cn('mx1.healthy.demo'), cn('mxdash demo root CA'), cn('mxdash demo intermediate CA')]);
		expect(subjects(info.chain)).toEqual([cn('mx1.healthy.demo'), cn('mxdash demo intermediate CA'), cn('mxdash demo root CA')]);
	});

	it('keeps an unrelated extra certificate where it was sent', async () => {
		const info = await handshake(leaf + stray + intermediate);
		expect(subjects(info.sent)).toEqual([cn('mx1.healthy.demo'), cn('mx.relay.demo'), cn('mxdash demo intermediate CA')]);
		expect(subjects(info.chain)).toEqual([cn('mx1.healthy.demo'), cn('mxdash demo intermediate CA'), cn('mxdash demo root CA')]);
	});

	it('keeps a certificate sent twice, twice', async () => {
		const info = await handshake(leaf + intermediate + intermediate);
		expect(subjects(info.sent)).toEqual([cn('mx1.healthy.demo'), cn('mxdash demo intermediate CA'), cn('mxdash demo intermediate CA')]);
	});
});
