// A real Postfix in the far namespace: its own instance under runDir (never /etc/postfix), one
// smtpd listener per protocol case, a certificate from a CA made here with openssl. Never
// delivers anything (discard transports; mxdash and the peers stop before DATA).
import {execFile} from 'node:child_process';
import {mkdir, rm, utimes, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {promisify} from 'node:util';
import {cases, nsFar, scaleConcurrency, scalePort} from './layout.js';

export const runDir = '/var/tmp/mxdash-bench-postfix';
const configDir = path.join(runDir, 'etc');
const tlsDir = path.join(runDir, 'tls');
export const caFile = path.join(tlsDir, 'ca.crt');
/** A main.cf for posttls-finger on the near side (it reads one, and must not see the server's). */
export const fingerConfigDir = path.join(runDir, 'finger');
const run = promisify(execFile);
const commandTimeoutMs = 20_000;

async function inFar(command: string, args: string[]): Promise<string> {
	const {stdout, stderr} = await run('ip', ['netns', 'exec', nsFar, command, ...args], {timeout: commandTimeoutMs});
	return `${stdout}${stderr}`;
}

async function openssl(args: string[]): Promise<void> {
	await run('openssl', args, {timeout: commandTimeoutMs});
}

// A CA and one EC leaf naming every exchange: mxdash is given the CA (--ca), so TLS verifies.
async function certificates(): Promise<string> {
	await mkdir(tlsDir, {recursive: true});
	const file = (name: string) => path.join(tlsDir, name);
	await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file('ca.key'), '-out', caFile, '-days', '30', '-subj', '/CN=mxdash bench CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
	await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', file('mx.key'), '-out', file('mx.csr'), '-subj', `/CN=${cases[0]!.exchange}`]);
	await writeFile(file('mx.ext'), `subjectAltName=${cases.map(item => `DNS:${item.exchange}`).join(',')},DNS:*.scale.bench\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n`);
	await openssl(['x509', '-req', '-in', file('mx.csr'), '-CA', caFile, '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '30', '-extfile', file('mx.ext'), '-out', file('mx.crt')]);
	return `${file('mx.key')},${file('mx.crt')}`;
}

const internal = ['postlog unix-dgram n - n - 1 postlogd', 'pickup unix n - n 60 1 pickup', 'cleanup unix n - n - 0 cleanup', 'qmgr unix n - n 300 1 qmgr', 'tlsmgr unix - - n 1000? 1 tlsmgr', 'rewrite unix - - n - - trivial-rewrite', 'bounce unix - - n - 0 bounce', 'defer unix - - n - 0 bounce', 'trace unix - - n - 0 bounce', 'verify unix - - n - 1 verify', 'flush unix n - n 1000? 0 flush', 'proxymap unix - - n - - proxymap', 'smtp unix - - n - - smtp', 'showq unix n - n - - showq', 'error unix - - n - - error', 'retry unix - - n - - error', 'discard unix - - n - - discard', 'anvil unix - - n - 1 anvil', 'scache unix - - n - 1 scache'];

// Postfix re-reads a main.cf younger than a second for ~2.5 s: backdate the files.
async function writeConfig(name: string, text: string): Promise<void> {
	const file = path.join(configDir, name);
	await writeFile(file, text);
	const past = new Date(Date.now() - 60_000);
	await utimes(file, past, past);
}

export async function stopPostfix(): Promise<void> {
	await inFar('/usr/sbin/postfix', ['-c', configDir, 'abort']).catch(() => undefined);
}

export async function startPostfix(): Promise<void> {
	await rm(runDir, {recursive: true, force: true});
	await mkdir(configDir, {recursive: true});
	await mkdir(path.join(runDir, 'spool'));
	await mkdir(fingerConfigDir);
	await writeFile(path.join(fingerConfigDir, 'main.cf'), 'compatibility_level = 3.6\ninet_protocols = ipv4\n');
	const chain = await certificates();
	await writeFile(path.join(runDir, 'openssl.cnf'), 'postfix = postfix_settings\n[postfix_settings]\nssl_conf = postfix_ssl\n[postfix_ssl]\nsystem_default = no_tickets\n[no_tickets]\nNumTickets = 0\n');
	await writeConfig('main.cf', [
		'compatibility_level = 3.6',
		`queue_directory = ${runDir}/spool`,
		`data_directory = ${runDir}/data`,
		`maillog_file = ${runDir}/maillog`,
		`inet_interfaces = ${cases.map(item => item.ip).join(', ')}`,
		'inet_protocols = ipv4',
		'myhostname = mx.fast.bench',
		'mydestination =', 'relay_domains =', 'local_recipient_maps =', 'alias_maps =', 'alias_database =',
		'mynetworks = 192.0.2.1/32',
		'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination',
		'default_transport = discard:bench', 'relay_transport = discard:bench', 'local_transport = discard:bench',
		'smtpd_banner = $myhostname ESMTP Postfix',
		'smtpd_peername_lookup = no',
		'smtpd_error_sleep_time = 0s',
		'smtpd_tls_security_level = may',
		`smtpd_tls_chain_files = ${chain}`,
		'smtpd_tls_protocols = >=TLSv1.2',
		'smtpd_tls_loglevel = 0',
		// OpenSSL sends TLS 1.3 session tickets after the handshake, and smtpd's EHLO reply then
		// waits (Nagle) for the client's delayed ACK of them: 1 RTT + ~40 ms for every client.
		// Exim sends none unless asked; this gives Postfix the same (the tickets case keeps the
		// default). NO_TICKET alone leaves OpenSSL's stateful tickets: NumTickets = 0 ends those.
		'tls_ssl_options = NO_TICKET',
		`tls_config_file = ${runDir}/openssl.cnf`,
		'tls_config_name = postfix',
		'biff = no',
		// The scale run: 500 sessions at once from one client IP (the prober). Postfix's per-client
		// limits (anvil) would refuse most of them; enough smtpd processes for all (+ headroom).
		`default_process_limit = ${scaleConcurrency + 100}`,
		'smtpd_client_connection_count_limit = 0',
		'smtpd_client_connection_rate_limit = 0',
		'smtpd_client_message_rate_limit = 0',
		'smtpd_client_recipient_rate_limit = 0',
		'smtpd_client_new_tls_session_rate_limit = 0',
		'',
	].join('\n'));
	const listeners = cases.map(item => [`${item.ip}:25 inet n - n - - smtpd`, `  -o myhostname=${item.exchange}`, ...item.postfix.map(option => `  -o ${option}`)].join('\n'));
	// The scale run's addresses (an AnyIP route, see netns.ts) on a port of their own: a wildcard
	// listener on 25 would clash with the per-case ones.
	const scale = `0.0.0.0:${scalePort} inet n - n - ${scaleConcurrency + 100} smtpd\n  -o myhostname=mx.scale.bench`;
	await writeConfig('master.cf', `${[...listeners, scale, ...internal].join('\n')}\n`);
	await inFar('/usr/sbin/postfix', ['-c', configDir, 'start']);
}
