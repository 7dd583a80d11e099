// The verified path tlsInfo builds itself (no getPeerCertificate(true)) against the one Node builds,
// on the same connection, for each kind of chain a server may send; and the TLS facts of a real
// probe (STARTTLS, where Node's own read of the chain is made cheap) against what Node decides
// without that. Real TLS servers on 127.0.0.1 only.
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import type {AddressInfo} from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import {secureContext, tlsInfo} from '../../source/core/tls/inspect.js';
import type {TlsInfo} from '../../source/core/types.js';
import {expectLine, send, startTls} from '../helpers/scripted-server.js';
import {bye, ehloLine, greeting, quitLine, runProbe, scripted, tlsEhlo, useScriptedServers} from './scripted-fixtures.js';

useScriptedServers();

const certs = new URL('../../source/demo/certs/', import.meta.url);
const pem = (name: string): string => readFileSync(new URL(name, certs), 'utf8');
const root = pem('root-ca.pem');
const intermediate = pem('intermediate.pem');
const healthy = {key: pem('healthy-key.pem'), cert: pem('healthy.pem')};
const expired = {key: pem('expired-key.pem'), cert: pem('expired.pem')};
const policy = {key: pem('policy-key.pem'), cert: pem('policy.pem')};
const policyRoot = pem('policy-root.pem');
const stray = pem('relay.pem');

// Self-signed certificates made for this file: one that may sign (keyCertSign), one that may not,
// which X509_check_issued does not take as its own issuer.
const self: Record<'signing' | 'leaf', {key: string; cert: string}> = {signing: {key: '', cert: ''}, leaf: {key: '', cert: ''}};
let signed = {key: '', cert: ''};
let cnOnly = {key: '', cert: ''};
let dir = '';
beforeAll(() => {
	dir = mkdtempSync(path.join(tmpdir(), 'mxdash-chain-path-'));
	for (const [kind, usage] of [['signing', 'keyCertSign,digitalSignature'], ['leaf', 'digitalSignature']] as const) {
		const key = path.join(dir, `${kind}-key.pem`);
		const cert = path.join(dir, `${kind}.pem`);
		execFileSync('openssl', [
			'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
			'-subj', `/CN=self.chain.test`, '-addext', 'subjectAltName=DNS:self.chain.test', '-addext', `keyUsage=critical,${usage}`, '-days', '30',
			'-keyout', key, '-out', cert,
		], {stdio: 'ignore', timeout: 20_000});
		self[kind] = {key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8')};
	}

	// No alternative name: the name check reads the subject's CN.
	const cnKey = path.join(dir, 'cn-key.pem');
	const cnCert = path.join(dir, 'cn.pem');
	execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/O=mxdash test/CN=cn.chain.test', '-days', '30', '-keyout', cnKey, '-out', cnCert], {stdio: 'ignore', timeout: 20_000});
	cnOnly = {key: readFileSync(cnKey, 'utf8'), cert: readFileSync(cnCert, 'utf8')};

	// A leaf signed by the one that may not sign: OpenSSL's store still finds it as the issuer.
	const key = path.join(dir, 'signed-key.pem');
	const request = path.join(dir, 'signed.csr');
	const cert = path.join(dir, 'signed.pem');
	const extensions = path.join(dir, 'signed.ext');
	writeFileSync(extensions, 'subjectAltName=DNS:signed.chain.test\n');
	execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=signed.chain.test', '-keyout', key, '-out', request], {stdio: 'ignore', timeout: 20_000});
	execFileSync('openssl', ['x509', '-req', '-in', request, '-CA', path.join(dir, 'leaf.pem'), '-CAkey', path.join(dir, 'leaf-key.pem'), '-days', '30', '-extfile', extensions, '-out', cert], {stdio: 'ignore', timeout: 20_000});
	signed = {key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8')};
});

afterAll(() => {
	rmSync(dir, {recursive: true, force: true});
});

const servers: tls.Server[] = [];
afterEach(async () => {
	await Promise.all(servers.splice(0).map(async server => new Promise(resolve => {
		server.close(resolve);
	})));
});

type Case = {name: string; key: () => string; cert: () => string; ca?: () => string[]; host: string};

const cases: Case[] = [
	{name: 'a healthy chain', key: () => healthy.key, cert: () => healthy.cert + intermediate, ca: () => [root], host: 'mx1.healthy.demo'},
	{name: 'the root sent too', key: () => healthy.key, cert: () => healthy.cert + intermediate + root, ca: () => [root], host: 'mx1.healthy.demo'},
	{name: 'the root sent before the intermediate', key: () => healthy.key, cert: () => healthy.cert + root + intermediate, ca: () => [root], host: 'mx1.healthy.demo'},
	{name: 'an incomplete chain (the leaf alone)', key: () => healthy.key, cert: () => healthy.cert, ca: () => [root], host: 'mx1.healthy.demo'},
	{name: 'the leaf alone, the intermediate trusted', key: () => healthy.key, cert: () => healthy.cert, ca: () => [intermediate, root], host: 'mx1.healthy.demo'},
	{name: 'an intermediate as the only trusted certificate', key: () => healthy.key, cert: () => healthy.cert, ca: () => [intermediate], host: 'mx1.healthy.demo'},
	{name: 'a stray certificate among the sent', key: () => healthy.key, cert: () => healthy.cert + stray + intermediate, ca: () => [root], host: 'mx1.healthy.demo'},
	{name: 'the intermediate sent twice', key: () => healthy.key, cert: () => healthy.cert + intermediate + intermediate, ca: () => [root], host: 'mx1.healthy.demo'},
	{name: 'the wrong host name', key: () => healthy.key, cert: () => healthy.cert + intermediate, ca: () => [root], host: 'other.healthy.demo'},
	{name: 'an expired leaf', key: () => expired.key, cert: () => expired.cert + intermediate, ca: () => [root], host: 'www.elsewhere.demo'},
	{name: 'a chain to a root not trusted', key: () => policy.key, cert: () => policy.cert, ca: () => [root], host: 'mta-sts.healthy.demo'},
	{name: 'a chain to a trusted root not sent', key: () => policy.key, cert: () => policy.cert, ca: () => [root, policyRoot], host: 'mta-sts.healthy.demo'},
	{name: 'the default roots only', key: () => healthy.key, cert: () => healthy.cert + intermediate, host: 'mx1.healthy.demo'},
	{name: 'a self-signed certificate', key: () => self.signing.key, cert: () => self.signing.cert, ca: () => [root], host: 'self.chain.test'},
	{name: 'a self-signed certificate sent twice', key: () => self.signing.key, cert: () => self.signing.cert + self.signing.cert, ca: () => [root], host: 'self.chain.test'},
	{name: 'a trusted self-signed certificate', key: () => self.signing.key, cert: () => self.signing.cert, ca: () => [self.signing.cert], host: 'self.chain.test'},
	{name: 'a trusted self-signed certificate that may not sign', key: () => self.leaf.key, cert: () => self.leaf.cert, ca: () => [self.leaf.cert], host: 'self.chain.test'},
	{name: 'a leaf whose trusted issuer may not sign certificates', key: () => signed.key, cert: () => signed.cert, ca: () => [self.leaf.cert], host: 'signed.chain.test'},
	{name: 'a leaf whose issuer that may not sign is sent', key: () => signed.key, cert: () => signed.cert + self.leaf.cert, ca: () => [root], host: 'signed.chain.test'},
	{name: 'a trusted certificate named by its CN alone', key: () => cnOnly.key, cert: () => cnOnly.cert, ca: () => [cnOnly.cert], host: 'cn.chain.test'},
	{name: 'a trusted certificate named by its CN alone, another host', key: () => cnOnly.key, cert: () => cnOnly.cert, ca: () => [cnOnly.cert], host: 'other.chain.test'},
	{name: 'a self-signed certificate that may not sign, not trusted', key: () => self.leaf.key, cert: () => self.leaf.cert, ca: () => [root], host: 'self.chain.test'},
];

/** Fingerprints along Node's detailed chain, leaf first, stopping where it loops. */
function nodePath(leaf: tls.DetailedPeerCertificate): string[] {
	const path: string[] = [];
	let cert: tls.DetailedPeerCertificate | undefined = leaf;
	while (cert?.raw && !path.includes(cert.fingerprint256)) {
		path.push(cert.fingerprint256);
		cert = cert.issuerCertificate;
	}

	return path;
}

type Reference = {path: string[]; authorized: boolean; authorizationError?: string; hostnameError?: string; info: TlsInfo};

/** A plain TLS connection, as Node does it unaided; Node's chain read first, then tlsInfo's. */
async function reference(item: Case): Promise<Reference> {
	const server = tls.createServer({key: item.key(), cert: item.cert()});
	servers.push(server);
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const {port} = server.address() as AddressInfo;
	const ca = item.ca?.();
	const socket = tls.connect({host: '127.0.0.1', port, servername: item.host, rejectUnauthorized: false, secureContext: secureContext(ca)});
	try {
		await new Promise<void>((resolve, reject) => {
			socket.once('secureConnect', resolve);
			socket.once('error', reject);
		});
		const detailed = socket.getPeerCertificate(true);
		const hostnameError = tls.checkServerIdentity(item.host, detailed)?.message;
		const authorizationError = socket.authorizationError ? String(socket.authorizationError) : undefined;
		return {path: nodePath(detailed), authorized: socket.authorized, ...(authorizationError ? {authorizationError} : {}), ...(hostnameError ? {hostnameError} : {}), info: tlsInfo(socket, item.host, new Date(), ca)};
	} finally {
		socket.destroy();
	}
}

/** A server that greets, offers STARTTLS, takes the handshake, answers EHLO inside TLS and QUIT. */
async function starttlsServer(tls: {key: string; cert: string}) {
	return scripted([
		send(greeting),
		expectLine(ehloLine, tlsEhlo),
		expectLine(/^STARTTLS$/, '220 2.0.0 Ready to start TLS\r\n'),
		startTls(),
		expectLine(ehloLine, '250-mx Hello again\r\n250 8BITMIME\r\n', {tls: true}),
		expectLine(quitLine, bye, {tls: true}),
	], {tls});
}

const fingerprints = (chain: TlsInfo['chain'] | undefined): string[] => (chain ?? []).map(cert => cert.fingerprint256);

describe('the verified path, built without getPeerCertificate(true)', () => {
	it.each(cases)('is the path Node builds: $name', async item => {
		const node = await reference(item);
		expect(node.path.length).toBeGreaterThan(0);
		expect(fingerprints(node.info.chain)).toEqual(node.path);
		expect(node.info.authorized).toBe(node.authorized);
		expect(node.info.authorizationError).toBe(node.authorizationError);
		expect(node.info.hostnameMatch).toBe(node.hostnameError === undefined);
		expect(node.info.hostnameError).toBe(node.hostnameError);
	});

	it.each(cases)('gives a probe the same TLS facts: $name', async item => {
		const node = await reference(item);
		const server = await starttlsServer({key: item.key(), cert: item.cert()});
		const ca = item.ca?.();
		const {result} = await runProbe(server.port, {exchange: item.host, relay: 'off', ...(ca ? {ca} : {})});
		const info = result.tls!;
		// Node decided the same with the leaf alone for its name check.
		expect(info.authorized).toBe(node.authorized);
		expect(info.authorizationError).toBe(node.authorizationError);
		expect(info.hostnameMatch).toBe(node.hostnameError === undefined);
		expect(info.hostnameError).toBe(node.hostnameError);
		expect(fingerprints(info.chain)).toEqual(node.path);
		expect(info.chainIncomplete).toBe(node.info.chainIncomplete);
		expect(fingerprints(info.sent)).toEqual(fingerprints(node.info.sent));
		expect(info.sent?.map(cert => cert.der)).toEqual(node.info.sent?.map(cert => cert.der));
		expect(info.chain).toEqual(node.info.chain);
	});

	it('never reads the detailed chain in a probe, not even in Node\'s own name check', async () => {
		const {getPeerCertificate} = tls.TLSSocket.prototype;
		const reads: unknown[] = [];
		tls.TLSSocket.prototype.getPeerCertificate = function (this: tls.TLSSocket, detailed?: boolean) {
			reads.push(detailed);
			return getPeerCertificate.call(this, detailed);
		} as typeof getPeerCertificate;
		try {
			const server = await starttlsServer({key: healthy.key, cert: healthy.cert + intermediate});
			const {result} = await runProbe(server.port, {exchange: 'mx1.healthy.demo', relay: 'off', ca: [root]});
			expect(result.tls?.authorized).toBe(true);
			expect(result.tls?.chain).toHaveLength(3);
		} finally {
			tls.TLSSocket.prototype.getPeerCertificate = getPeerCertificate;
		}

		// Node's read (the chain verified) took the sent certificates instead.
		expect(reads).toEqual([]);
	});
});
