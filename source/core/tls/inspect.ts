import net from 'node:net';
import tls from 'node:tls';
import type {TlsInfo} from '../types.js';
import {chainOf} from './certificate.js';

/**
 * The SNI to send: only a plain host name. An IP literal has none, and a name from hostile DNS
 * with odd bytes in it must not make tls.connect throw.
 */
export function serverNameFor(name: string): string | undefined {
	return /^[a-z\d](?:[a-z\d.-]{0,251}[a-z\d])?$/i.test(name) && !net.isIP(name) ? name : undefined;
}

// Keyed by the roots' text: a round from the worker brings a fresh copy of the same array.
const contexts = new Map<string, tls.SecureContext>();

/**
 * One secure context per set of trusted roots, built once: building it parses every root
 * certificate (about 45 ms of blocked event loop), far too much to repeat per session.
 */
export function secureContext(ca: string[] | undefined): tls.SecureContext {
	const key = ca?.join('\n') ?? '';
	let context = contexts.get(key);
	if (!context) {
		// See old protocols and weak ciphers to report them, rather than fail the handshake.
		context = tls.createSecureContext({minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0', ...(ca ? {ca: [...tls.rootCertificates, ...ca]} : {})});
		if (contexts.size > 16) {
			contexts.clear();
		}

		contexts.set(key, context);
	}

	return context;
}

export function tlsInfo(socket: tls.TLSSocket, serverName: string, now: Date): TlsInfo {
	const cipher = socket.getCipher();
	const key = socket.getEphemeralKeyInfo();
	const leaf = socket.getPeerCertificate(true);
	const chain = leaf && 'raw' in leaf ? chainOf(leaf, now) : [];
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
		chainIncomplete: last !== undefined && !last.selfSigned && !last.ca,
	};
}
