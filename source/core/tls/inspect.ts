import net from 'node:net';
import tls from 'node:tls';
import type {CertInfo, TlsInfo} from '../types.js';
import {chainOf, sentChainOf} from './certificate.js';

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
		// See old protocols and weak ciphers to report them, rather than fail the handshake.
		const versions = version ? {minVersion: version, maxVersion: version} : {minVersion: 'TLSv1' as const};
		return contextWithRoots({...versions, ciphers: 'DEFAULT:@SECLEVEL=0'}, ca);
	});
}

/**
 * The certificates as sent, or none when they cannot be read. Only after getPeerCertificate(true):
 * getPeerX509Certificate rewrites OpenSSL's peer chain, and the verified path read later breaks.
 */
function sentOf(socket: tls.TLSSocket, now: Date): CertInfo[] {
	try {
		const leaf = socket.getPeerX509Certificate();
		return leaf ? sentChainOf(leaf, now) : [];
	} catch {
		return [];
	}
}

/** `peer`: the chain as Node read it for its own name check (getPeerCertificate(true)), if it did. */
export function tlsInfo(socket: tls.TLSSocket, serverName: string, now: Date, peer?: tls.DetailedPeerCertificate): TlsInfo {
	const cipher = socket.getCipher();
	const key = socket.getEphemeralKeyInfo();
	const leaf = peer ?? socket.getPeerCertificate(true);
	// The verified path (see chainOf); `sent` below is what the server sent, as it sent it.
	const chain = leaf && 'raw' in leaf ? chainOf(leaf, now) : [];
	const sent = sentOf(socket, now);
	const identityError = chain.length > 0 ? tls.checkServerIdentity(serverName, leaf) : new Error('no certificate');
	const last = chain.at(-1);
	const authorizationError = socket.authorizationError ? String(socket.authorizationError) : undefined;
	return {
		version: socket.getProtocol() ?? 'unknown',
		cipher: cipher.name,
		...(cipher.standardName ? {cipherStandardName: cipher.standardName} : {}),
		...(key && 'type' in key && key.type ? {keyExchange: key.name ? `${key.type} ${key.name}${key.size ? ` (${key.size} bits)` : ''}` : key.type} : {}),
		authorized: socket.authorized,
		...(authorizationError ? {authorizationError} : {}),
		hostnameMatch: !identityError,
		...(identityError ? {hostnameError: identityError.message} : {}),
		chain,
		...(sent.length > 0 ? {sent} : {}),
		chainIncomplete: last !== undefined && !last.selfSigned && !last.ca,
	};
}
