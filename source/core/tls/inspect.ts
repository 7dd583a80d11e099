import {X509Certificate} from 'node:crypto';
import {readFileSync} from 'node:fs';
import net from 'node:net';
import process from 'node:process';
import tls from 'node:tls';
import type {CertInfo, TlsInfo} from '../types.js';
import {InternTable} from '../intern-table.js';
import {certInfo, sentChainOf, sentOf, TrustedRoots, verifiedPathOf} from './certificate.js';

/**
 * The SNI to send: only a plain host name. An IP literal has none, and a name from hostile DNS
 * with odd bytes in it must not make tls.connect throw.
 */
export function serverNameFor(name: string): string | undefined {
	return /^[a-z\d](?:[a-z\d.-]{0,251}[a-z\d])?$/i.test(name) && !net.isIP(name) ? name : undefined;
}

// Keyed by what the context is for and the roots' text (a round from the worker brings a fresh
// copy of the same array).
const contexts = new Map<string, tls.SecureContext>();

/** A secure context built once per key: not again per session or per fetch. */
export function cachedContext(key: string, build: () => tls.SecureContext): tls.SecureContext {
	let context = contexts.get(key);
	if (!context) {
		context = build();
		if (contexts.size > 16) {
			contexts.clear();
		}

		contexts.set(key, context);
	}

	return context;
}

/**
 * A context trusting Node's roots and `ca` as well. Given `ca`, createSecureContext trusts only
 * that, so the roots went in beside it as PEM text, parsed again (~36 ms of CPU); added to the
 * default store instead (the native context's addCACert copies the parsed store first) they cost
 * ~1 ms. Where that method is missing, the PEM way.
 */
export function contextWithRoots(options: tls.SecureContextOptions, ca: string[] | undefined): tls.SecureContext {
	if (!ca || ca.length === 0) {
		return tls.createSecureContext(options);
	}

	const context = tls.createSecureContext(options);
	const native = (context as {context?: {addCACert?: (pem: string) => void}}).context;
	if (typeof native?.addCACert !== 'function') {
		return tls.createSecureContext({...options, ca: [...tls.rootCertificates, ...ca]});
	}

	for (const pem of ca) {
		native.addCACert(pem);
	}

	return context;
}

/**
 * The probes' context per set of trusted roots (and scanned version). With `version`, only that
 * protocol version is offered.
 */
export function secureContext(ca: string[] | undefined, version?: tls.SecureVersion): tls.SecureContext {
	return cachedContext(`probe\n${version ?? ''}\n${ca?.join('\n') ?? ''}`, () => {
		// The roots' index too, where the context is made ahead of the probes (a few ms).
		trustedRoots(ca);
		// See old protocols and weak ciphers to report them, rather than fail the handshake.
		const versions = version ? {minVersion: version, maxVersion: version} : {minVersion: 'TLSv1' as const};
		return contextWithRoots({...versions, ciphers: 'DEFAULT:@SECLEVEL=0'}, ca);
	});
}

// The trusted roots of a context, as secureContext(ca) built it: Node's default store (the
// bundled roots and NODE_EXTRA_CA_CERTS), and `ca` added to it (contextWithRoots).
const rootSets = new Map<string, TrustedRoots | undefined>();

/**
 * The roots secureContext(ca) trusts, undefined when they cannot be known (Node told to use
 * OpenSSL's store of the system): then Node's own path (getPeerCertificate(true)) is read.
 */
export function trustedRoots(ca: readonly string[] | undefined): TrustedRoots | undefined {
	const key = ca ? `ca\n${ca.join('\n')}` : 'default';
	if (!rootSets.has(key)) {
		if (rootSets.size > 16) {
			rootSets.clear();
		}

		const pems = defaultPems();
		rootSets.set(key, pems ? new TrustedRoots([...pems, ...(ca ?? [])]) : undefined);
	}

	return rootSets.get(key);
}

/** Node's default store as PEM texts, undefined when it is OpenSSL's store of the system. */
function defaultPems(): string[] | undefined {
	const flags = [...process.execArgv, ...(process.env['NODE_OPTIONS'] ?? '').split(/\s+/)];
	if (flags.includes('--use-openssl-ca')) {
		return undefined;
	}

	const extra = process.env['NODE_EXTRA_CA_CERTS'];
	let extraPems: string[] = [];
	try {
		extraPems = extra ? [readFileSync(extra, 'latin1')] : [];
	} catch {
		// Node warns and goes on without them.
	}

	return [...tls.rootCertificates, ...extraPems];
}

/** The path Node built for getPeerCertificate(true), leaf first, cut at a repeat. */
function detailedPathOf(leaf: tls.DetailedPeerCertificate, now: Date): CertInfo[] {
	const chain: CertInfo[] = [];
	const seen = new Set<string>();
	let cert: tls.DetailedPeerCertificate | undefined = leaf;
	while (cert?.raw && !seen.has(cert.fingerprint256) && chain.length < 16) {
		seen.add(cert.fingerprint256);
		chain.push(certInfo(new X509Certificate(cert.raw), now));
		cert = cert.issuerCertificate;
	}

	return chain;
}

/**
 * The certificates as sent, or none when they cannot be read. Node's getPeerX509Certificate
 * takes them out of OpenSSL's peer stack as it reads them (Node 20): after it, getPeerCertificate
 * finds no certificate, and a second call finds none either.
 */
function sentLeaf(socket: tls.TLSSocket): X509Certificate | undefined {
	try {
		return socket.getPeerX509Certificate();
	} catch {
		return undefined;
	}
}

/**
 * What tls.checkServerIdentity reads of the leaf: subjectaltname, and subject only when no DNS
 * name is in it (its CN is then the name). The legacy object costs ~0.1 ms of OpenSSL parsing;
 * the alternative names' text is the same string Node puts in it.
 */
function identityOf(leaf: X509Certificate): tls.PeerCertificate {
	const san = leaf.subjectAltName ?? '';
	// Without quotes, Node splits the names at ', ': a DNS name is first or after one.
	const dnsName = !san.includes('"') && (san.startsWith('DNS:') || san.includes(', DNS:'));
	return dnsName ? {subjectaltname: san} as tls.PeerCertificate : leaf.toLegacyObject();
}

/**
 * The leaf for Node's own name check (onConnectSecure), read once the chain verified: from the
 * sent certificates, which tlsInfo then takes (`leaf`), so that the session reads them once.
 */
export function nameCheckCertificate(socket: tls.TLSSocket, ca: readonly string[] | undefined): {cert: tls.PeerCertificate; leaf?: X509Certificate} {
	const leaf = trustedRoots(ca) ? sentLeaf(socket) : undefined;
	return leaf ? {cert: identityOf(leaf), leaf} : {cert: tls.TLSSocket.prototype.getPeerCertificate.call(socket, false)};
}

// "ECDH X25519 (253 bits)" and the like: one string for every session that says it.
const keyExchanges = new InternTable<string>(64);
const sharedKeyExchange = (text: string): string => keyExchanges.get(text, () => text);

/**
 * A session's TLS facts. `ca`: the roots its secureContext(ca) was built with. `leaf`: the sent
 * leaf, if nameCheckCertificate read it in this session.
 */
export function tlsInfo(socket: tls.TLSSocket, serverName: string, now: Date, ca?: readonly string[], leaf?: X509Certificate): TlsInfo {
	const cipher = socket.getCipher();
	const key = socket.getEphemeralKeyInfo();
	const roots = trustedRoots(ca);
	// Roots unknown: Node's path, read before the sent certificates.
	const detailed = roots ? undefined : socket.getPeerCertificate(true);
	const first = leaf ?? sentLeaf(socket);
	const sentX509 = first ? sentOf(first) : [];
	// The verified path (see verifiedPathOf); `sent` is what the server sent, as it sent it.
	const chain = detailed ? ('raw' in detailed ? detailedPathOf(detailed, now) : []) : verifiedPathOf(sentX509, roots!, now);
	const sent = sentChainOf(sentX509, now);
	const identity = detailed ?? (first ? identityOf(first) : undefined);
	const identityError = chain.length > 0 && identity ? tls.checkServerIdentity(serverName, identity) : new Error('no certificate');
	const last = chain.at(-1);
	const authorizationError = socket.authorizationError ? String(socket.authorizationError) : undefined;
	return {
		version: socket.getProtocol() ?? 'unknown',
		cipher: cipher.name,
		...(cipher.standardName ? {cipherStandardName: cipher.standardName} : {}),
		...(key && 'type' in key && key.type ? {keyExchange: sharedKeyExchange(key.name ? `${key.type} ${key.name}${key.size ? ` (${key.size} bits)` : ''}` : key.type)} : {}),
		authorized: socket.authorized,
		...(authorizationError ? {authorizationError} : {}),
		hostnameMatch: !identityError,
		...(identityError ? {hostnameError: identityError.message} : {}),
		chain,
		...(sent.length > 0 ? {sent} : {}),
		chainIncomplete: last !== undefined && !last.selfSigned && !last.ca,
	};
}
