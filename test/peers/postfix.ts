// A real Postfix on loopback that plays seven mail servers, one per address in 127.0.25.0/24.
// It runs as its own instance (config, queue and data under RUN_DIR), so /etc/postfix is never touched.
import {execFile} from 'node:child_process';
import {generateKeyPairSync} from 'node:crypto';
import {accessSync, constants} from 'node:fs';
import {mkdir, readFile, rm, utimes, writeFile} from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {promisify} from 'node:util';

export type PostfixListener = {ip: string; name: string};
export type PostfixPeer = {
	caFile: string;
	listeners: {
		healthy: PostfixListener;
		plain: PostfixListener;
		relay: PostfixListener;
		expired: PostfixListener;
		mismatch: PostfixListener;
		leafOnly: PostfixListener;
		tls10: PostfixListener;
	};
	/** Where each TLS listener's leaf certificate is (PEM), and the intermediate that signed them all. */
	certFiles: Partial<Record<ListenerKey | 'intermediate', string>>;
	stop(): Promise<void>;
};
type ListenerKey = keyof PostfixPeer['listeners'];

// Postfix refuses a maillog_file outside /var, so everything lives under /var/tmp.
const RUN_DIR = '/var/tmp/mxdash-postfix';
const CONFIG_DIR = path.join(RUN_DIR, 'etc');
const TLS_DIR = path.join(RUN_DIR, 'tls');
const LOG_FILE = path.join(RUN_DIR, 'maillog');
const POSTFIX = '/usr/sbin/postfix';
const READY_TIMEOUT_MS = 15_000;
const UNUSED_NETWORK = '192.0.2.1/32'; // TEST-NET-1: a config value only, never contacted
export const HEALTHY_EXTRA_NAMES = ['*.dane.test', 'mx.unsigned.test', 'mx.deep.wild.test'];

type Tls = {certName: string; extraNames?: string[]; expired?: boolean; sendIntermediate: boolean};
type Spec = {ip: string; name: string; tls?: Tls; options?: string[]};
const SPECS: Record<ListenerKey, Spec> = {
	// The extra names are the MX hosts of the policy layer's DANE and MTA-STS domains (test/peers/policy.ts).
	healthy: {ip: '127.0.25.10', name: 'mx.good.test', tls: {certName: 'mx.good.test', extraNames: HEALTHY_EXTRA_NAMES, sendIntermediate: true}},
	plain: {ip: '127.0.25.11', name: 'mx.plain.test'},
	relay: {ip: '127.0.25.12', name: 'mx.relay.test', tls: {certName: 'mx.relay.test', sendIntermediate: true}, options: ['mynetworks=0.0.0.0/0']},
	expired: {ip: '127.0.25.13', name: 'mx.expired.test', tls: {certName: 'mx.expired.test', expired: true, sendIntermediate: true}},
	mismatch: {ip: '127.0.25.14', name: 'mx.mismatch.test', tls: {certName: 'other.name.test', sendIntermediate: true}},
	leafOnly: {ip: '127.0.25.15', name: 'mx.leafonly.test', tls: {certName: 'mx.leafonly.test', sendIntermediate: false}},
	// TLS 1.0 only: the other versions are off and SECLEVEL=0 lets OpenSSL 3 offer its SHA-1 suites.
	tls10: {
		ip: '127.0.25.16', name: 'mx.tls10.test', tls: {certName: 'mx.tls10.test', sendIntermediate: true},
		options: ['smtpd_tls_protocols=!SSLv2:!SSLv3:!TLSv1.1:!TLSv1.2:!TLSv1.3', 'tls_medium_cipherlist=DEFAULT:@SECLEVEL=0'],
	},
};

const run = promisify(execFile);

function findOnPath(command: string): string | undefined {
	for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
		const candidate = path.join(dir, command);
		try {
			accessSync(candidate, constants.X_OK);
			return candidate;
		} catch {
			// Not in this directory.
		}
	}

	return undefined;
}

export function postfixMissing(): string | undefined {
	const missing = [];
	try {
		accessSync(POSTFIX, constants.X_OK);
	} catch {
		missing.push(POSTFIX);
	}

	if (findOnPath('openssl') === undefined) missing.push('openssl');
	if (missing.length === 0) return undefined;
	return `${missing.join(' and ')} not found: run \`bash .ci/setup-peers.sh\` as root to install them`;
}

// --- Certificates --------------------------------------------------------------------------

const OPENSSL_CNF = `
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
default_ca = test_ca
[test_ca]
database = ${TLS_DIR}/index.txt
serial = ${TLS_DIR}/serial
new_certs_dir = ${TLS_DIR}/issued
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
[any_name]
commonName = supplied
`;

const CA_EXTENSIONS = (pathLength: number) => `basicConstraints = critical, CA:TRUE, pathlen:${pathLength}
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

const LEAF_EXTENSIONS = (dnsNames: string[]) => `basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = ${dnsNames.map(name => `DNS:${name}`).join(', ')}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;

type Issued = {key: string; cert: string};
type Validity = {start: Date; end: Date};

function asn1Time(date: Date): string {
	return `${date.toISOString().replaceAll(/[-:T]/g, '').slice(0, 14)}Z`;
}

// Writes <id>.key and <id>.crt (EC P-256) signed by `issuer`, or self-signed when issuer is undefined.
async function issue(id: string, commonName: string, extensions: string, validity: Validity, issuer?: Issued): Promise<Issued> {
	const issued = {key: path.join(TLS_DIR, `${id}.key`), cert: path.join(TLS_DIR, `${id}.crt`)};
	const {privateKey} = generateKeyPairSync('ec', {namedCurve: 'prime256v1'});
	await writeFile(issued.key, privateKey.export({type: 'pkcs8', format: 'pem'}), {mode: 0o600});
	const csr = path.join(TLS_DIR, `${id}.csr`);
	const extFile = path.join(TLS_DIR, `${id}.ext`);
	await writeFile(extFile, `[ext]\n${extensions}`);
	const config = path.join(TLS_DIR, 'openssl.cnf');
	await run('openssl', ['req', '-new', '-config', config, '-key', issued.key, '-subj', `/CN=${commonName}`, '-out', csr]);
	const signer = issuer === undefined ? ['-selfsign', '-keyfile', issued.key] : ['-cert', issuer.cert, '-keyfile', issuer.key];
	await run('openssl', [
		'ca', '-batch', '-notext', '-config', config, ...signer,
		'-startdate', asn1Time(validity.start), '-enddate', asn1Time(validity.end),
		'-extfile', extFile, '-extensions', 'ext', '-in', csr, '-out', issued.cert,
	]);
	return issued;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const validFromNow = (): Validity => ({start: new Date(Date.now() - DAY_MS), end: new Date(Date.now() + (365 * DAY_MS))});

/**
 * Issues one more leaf from the test intermediate, for other peers (the MTA-STS policy hosts):
 * call it after startPostfix, one call at a time (`openssl ca` shares one index file).
 * `chain` is the leaf followed by the intermediate, as a server should send it.
 */
export async function issueLeaf(id: string, dnsNames: string[]): Promise<{key: string; cert: string; chain: string}> {
	const intermediate = {key: path.join(TLS_DIR, 'intermediate.key'), cert: path.join(TLS_DIR, 'intermediate.crt')};
	const leaf = await issue(id, dnsNames[0] ?? id, LEAF_EXTENSIONS(dnsNames), validFromNow(), intermediate);
	const chain = path.join(TLS_DIR, `${id}.fullchain.pem`);
	await writeFile(chain, `${await readFile(leaf.cert, 'utf8')}${await readFile(intermediate.cert, 'utf8')}`);
	return {...leaf, chain};
}

// Returns the root CA file and, per TLS listener, the file given to smtpd_tls_chain_files (key, leaf, maybe intermediate).
async function makeCertificates(): Promise<{caFile: string; chainFiles: Map<ListenerKey, string>; certFiles: PostfixPeer['certFiles']}> {
	await mkdir(path.join(TLS_DIR, 'issued'), {recursive: true});
	await writeFile(path.join(TLS_DIR, 'index.txt'), '');
	await writeFile(path.join(TLS_DIR, 'serial'), '01\n');
	await writeFile(path.join(TLS_DIR, 'openssl.cnf'), OPENSSL_CNF);
	const day = DAY_MS;
	const now = Date.now();
	const valid = validFromNow();
	const expired = {start: new Date('2020-01-01T00:00:00Z'), end: new Date('2021-01-01T00:00:00Z')};

	const root = await issue('root', 'mxdash test root CA', CA_EXTENSIONS(1), {start: valid.start, end: new Date(now + (3650 * day))});
	const intermediate = await issue('intermediate', 'mxdash test intermediate CA', CA_EXTENSIONS(0), valid, root);
	const intermediatePem = await readFile(intermediate.cert, 'utf8');
	const chainFiles = new Map<ListenerKey, string>();
	const certFiles: PostfixPeer['certFiles'] = {intermediate: intermediate.cert};
	for (const [key, spec] of Object.entries(SPECS) as Array<[ListenerKey, Spec]>) {
		if (spec.tls === undefined) continue;
		// `openssl ca` shares one index file, so leaves are issued one after the other.
		const leaf = await issue(key, spec.tls.certName, LEAF_EXTENSIONS([spec.tls.certName, ...(spec.tls.extraNames ?? [])]), spec.tls.expired ? expired : valid, intermediate);
		certFiles[key] = leaf.cert;
		const parts = [await readFile(leaf.key, 'utf8'), await readFile(leaf.cert, 'utf8')];
		if (spec.tls.sendIntermediate) parts.push(intermediatePem);
		const chainFile = path.join(TLS_DIR, `${key}.chain.pem`);
		await writeFile(chainFile, parts.join(''), {mode: 0o600});
		chainFiles.set(key, chainFile);
	}

	return {caFile: root.cert, chainFiles, certFiles};
}

// --- Postfix configuration -----------------------------------------------------------------

function mainCf(): string {
	return `# Generated by test/peers/postfix.ts; a private instance, see \`postfix -c ${CONFIG_DIR} status\`.
compatibility_level = 3.6
queue_directory = ${RUN_DIR}/spool
data_directory = ${RUN_DIR}/data
maillog_file = ${LOG_FILE}
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = mx.good.test
mydomain = good.test
myorigin = $myhostname
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = ${UNUSED_NETWORK}
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
default_transport = discard:mxdash test peer
relay_transport = discard:mxdash test peer
local_transport = discard:mxdash test peer
smtpd_banner = $myhostname ESMTP Postfix
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0s
smtpd_tls_security_level = none
# TLS 1.2 and up (OpenSSL at SECLEVEL=0 would get TLS 1.0 from Postfix's defaults): only tls10 offers less.
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_loglevel = 0
smtp_tls_security_level = none
biff = no
`;
}

// Standard internal services, none chrooted (a chroot would need copies of /etc files).
const INTERNAL_SERVICES = `
postlog   unix-dgram n  -       n       -       1       postlogd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
`;

function masterCf(chainFiles: Map<ListenerKey, string>): string {
	const listeners = (Object.entries(SPECS) as Array<[ListenerKey, Spec]>).map(([key, spec]) => {
		const options = [`myhostname=${spec.name}`, ...(spec.options ?? [])];
		const chainFile = chainFiles.get(key);
		if (chainFile !== undefined) options.push('smtpd_tls_security_level=may', `smtpd_tls_chain_files=${chainFile}`);
		return `# ${key}\n${spec.ip}:25 inet n - n - - smtpd\n${options.map(option => `  -o ${option}`).join('\n')}`;
	});
	return `# Generated by test/peers/postfix.ts\n${listeners.join('\n')}\n${INTERNAL_SERVICES}`;
}

// Postfix re-reads a "hot" main.cf (mtime within the last second) every 300 ms until it cools,
// in each of the commands `postfix start` runs: about 2.5 s in all. Backdating the files avoids that.
async function writeConfig(file: string, text: string): Promise<void> {
	await writeFile(file, text);
	const aMinuteAgo = new Date(Date.now() - 60_000);
	await utimes(file, aMinuteAgo, aMinuteAgo);
}

// --- Process control -----------------------------------------------------------------------

type PostfixCommand = 'start' | 'stop' | 'abort' | 'status';
async function postfix(command: PostfixCommand): Promise<{ok: boolean; output: string}> {
	try {
		const {stdout, stderr} = await run(POSTFIX, ['-c', CONFIG_DIR, command]);
		return {ok: true, output: `${stdout}${stderr}`.trim()};
	} catch (error: unknown) {
		const {stdout = '', stderr = ''} = error as {stdout?: string; stderr?: string};
		return {ok: false, output: `${stdout}${stderr}`.trim() || String(error)};
	}
}

const sleep = async (ms: number) => new Promise(resolve => {
	setTimeout(resolve, ms);
});

// `postfix stop` polls with `sleep 1`; sending the same SIGTERM (`abort`) and polling faster saves up to a second.
async function stopInstance(): Promise<void> {
	const configured = await readFile(path.join(CONFIG_DIR, 'main.cf')).then(() => true, () => false);
	if (!configured || !(await postfix('status')).ok) return;
	await postfix('abort');
	const deadline = Date.now() + 5000;
	while (Date.now() < deadline) {
		if (!(await postfix('status')).ok) return;
		await sleep(25);
	}

	await postfix('stop'); // Escalates to SIGKILL.
}

async function logTail(lines = 20): Promise<string> {
	const log = await readFile(LOG_FILE, 'utf8').catch(() => '(no mail log)');
	return log.trimEnd().split('\n').slice(-lines).join('\n');
}

// Binds (with SO_REUSEADDR, as Postfix does) and releases ip:port; resolves with the error code, if any.
async function tryBind(ip: string, port: number): Promise<string | undefined> {
	return new Promise(resolve => {
		const server = net.createServer();
		server.once('error', (error: NodeJS.ErrnoException) => {
			resolve(error.code ?? error.message);
		});
		server.listen({host: ip, port, exclusive: true}, () => {
			server.close(() => {
				resolve(undefined);
			});
		});
	});
}

// All of 127/8 is local on Linux, so this normally adds nothing; then waits for port 25 to be free.
async function prepareAddress(ip: string): Promise<void> {
	if (await tryBind(ip, 0) === 'EADDRNOTAVAIL') await run('ip', ['address', 'add', `${ip}/32`, 'dev', 'lo']);
	const deadline = Date.now() + 5000;
	let error = await tryBind(ip, 25);
	while (error === 'EADDRINUSE' && Date.now() < deadline) {
		await sleep(50);
		error = await tryBind(ip, 25);
	}

	if (error !== undefined) throw new Error(`Cannot listen on ${ip}:25 (${error}): is another mail server running? (try \`ss -ltnp\`)`);
}

// Resolves with the first line smtpd sends, or with why there is none.
async function greeting(ip: string, timeoutMs: number): Promise<string> {
	return new Promise(resolve => {
		const socket = net.connect({host: ip, port: 25});
		let received = '';
		const finish = (result: string) => {
			clearTimeout(timer);
			socket.destroy();
			resolve(result);
		};

		const timer = setTimeout(() => {
			finish('no greeting in time');
		}, timeoutMs);
		socket.on('data', (chunk: Buffer) => {
			received += chunk.toString('latin1');
			if (received.includes('\n')) finish(received.split('\r\n')[0] ?? '');
		});
		socket.on('error', (error: Error) => {
			finish(error.message);
		});
		socket.on('end', () => {
			finish(`closed after ${JSON.stringify(received)}`);
		});
	});
}

// Ready = every listener sends its 220 greeting (a bad TLS setting only kills smtpd at its first connection).
async function waitReady(): Promise<void> {
	const deadline = Date.now() + READY_TIMEOUT_MS;
	const pending = new Map(Object.values(SPECS).map(spec => [spec.ip, 'not tried']));
	while (pending.size > 0 && Date.now() < deadline) {
		await Promise.all([...pending.keys()].map(async ip => {
			const line = await greeting(ip, Math.min(2000, Math.max(1, deadline - Date.now())));
			if (line.startsWith('220 ')) pending.delete(ip);
			else pending.set(ip, line);
		}));
		if (pending.size > 0) await sleep(100);
	}

	if (pending.size > 0) {
		const failures = [...pending].map(([ip, why]) => `${ip}:25 (${why})`).join(', ');
		throw new Error(`Postfix test peer not ready after ${READY_TIMEOUT_MS} ms: ${failures}\n--- ${LOG_FILE} ---\n${await logTail()}`);
	}
}

export async function startPostfix(): Promise<PostfixPeer> {
	const missing = postfixMissing();
	if (missing !== undefined) throw new Error(missing);

	await stopInstance(); // An earlier run may have left it running.
	await Promise.all(Object.values(SPECS).map(async spec => prepareAddress(spec.ip)));
	await rm(RUN_DIR, {recursive: true, force: true});
	await mkdir(CONFIG_DIR, {recursive: true});
	await mkdir(path.join(RUN_DIR, 'spool'));
	const {caFile, chainFiles, certFiles} = await makeCertificates();
	await writeConfig(path.join(CONFIG_DIR, 'main.cf'), mainCf());
	await writeConfig(path.join(CONFIG_DIR, 'master.cf'), masterCf(chainFiles));

	const started = await postfix('start');
	if (!started.ok) throw new Error(`postfix -c ${CONFIG_DIR} start failed: ${started.output}\n--- ${LOG_FILE} ---\n${await logTail()}`);
	try {
		await waitReady();
	} catch (error: unknown) {
		await stopInstance();
		throw error;
	}

	const listeners = Object.fromEntries((Object.entries(SPECS) as Array<[ListenerKey, Spec]>)
		.map(([key, {ip, name}]) => [key, {ip, name}])) as PostfixPeer['listeners'];
	return {caFile, listeners, certFiles, stop: stopInstance};
}
