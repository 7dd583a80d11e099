// The policy layer's real peers: a DNSSEC-signed private tree (root, test., bogus.test., unsigned.test.,
// the reverse zone) served by Knot DNS, a validating Unbound and a non-validating dnsmasq in front of it,
// and nginx serving the MTA-STS policy hosts. Private instances only: config, pid and log under RUN_DIR.
import {execFile, spawn} from 'node:child_process';
import {accessSync, constants} from 'node:fs';
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {promisify} from 'node:util';
import {issueLeaf} from './postfix.js';
import type {PostfixPeer} from './postfix.js';

export const POLICY_IPS = {
	authoritative: '127.0.63.1', // Knot DNS
	validating: '127.0.63.2', // Unbound
	forwarding: '127.0.63.3', // dnsmasq, never sets AD
	policyHost: '127.0.62.1', // nginx
} as const;

export type TlsaRecord = {usage: number; selector: number; matchingType: number; data: string};
export type PolicyPeer = {
	ips: typeof POLICY_IPS;
	/** The DS of the private root, as Unbound's trust anchor (for delv or other validators). */
	rootAnchorFile: string;
	/** TLSA records published at _25._tcp.<host>, by host name. */
	tlsa: Record<string, TlsaRecord[]>;
	stop(): Promise<void>;
};

const RUN_DIR = '/var/tmp/mxdash-policy';
const ZONE_DIR = path.join(RUN_DIR, 'zones');
const KEY_DIR = path.join(RUN_DIR, 'keys');
const READY_TIMEOUT_MS = 15_000;
const TOOL_TIMEOUT_MS = 20_000;
const TOOLS = ['/usr/sbin/knotd', '/usr/sbin/unbound', '/usr/sbin/dnsmasq', '/usr/sbin/nginx', '/usr/bin/dnssec-keygen', '/usr/bin/dnssec-signzone', '/usr/bin/dig'];

const run = promisify(execFile);

export function policyPeersMissing(): string | undefined {
	const missing = TOOLS.filter(tool => {
		try {
			accessSync(tool, constants.X_OK);
			return false;
		} catch {
			return true;
		}
	});
	if (missing.length === 0) return undefined;
	return `${missing.join(', ')} not found: run \`bash .ci/setup-peers.sh\` as root to install them`;
}

// Runs openssl with optional stdin, resolving with stdout (binary-safe: DER flows through pipes).
async function openssl(args: string[], input?: Buffer): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const child = spawn('openssl', args, {stdio: ['pipe', 'pipe', 'pipe'], timeout: TOOL_TIMEOUT_MS});
		const out: Buffer[] = [];
		let errors = '';
		child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
		child.stderr.on('data', (chunk: Buffer) => {
			errors += chunk.toString();
		});
		child.on('error', reject);
		child.on('close', code => {
			if (code === 0) resolve(Buffer.concat(out));
			else reject(new Error(`openssl ${args.join(' ')} failed (${code}): ${errors}`));
		});
		child.stdin.end(input);
	});
}

const sha256Hex = async (der: Buffer) => (await openssl(['dgst', '-sha256', '-r'], der)).toString().split(' ')[0]!;
const certDer = async (certFile: string) => openssl(['x509', '-in', certFile, '-outform', 'DER']);
async function spkiDer(certFile: string): Promise<Buffer> {
	const pem = await openssl(['x509', '-in', certFile, '-noout', '-pubkey']);
	return openssl(['pkey', '-pubin', '-outform', 'DER'], pem);
}

// The TLSA records of the DANE cases, computed from the certificate files the listeners really use.
async function makeTlsa(postfix: Pick<PostfixPeer, 'certFiles'>): Promise<Record<string, TlsaRecord[]>> {
	const healthyCert = postfix.certFiles.healthy!;
	const leafSpki = await sha256Hex(await spkiDer(healthyCert));
	const intermediateCert = await sha256Hex(await certDer(postfix.certFiles.intermediate!));
	const otherKey = await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']);
	const otherSpki = await sha256Hex(await openssl(['pkey', '-pubout', '-outform', 'DER'], otherKey));
	const wrong = await sha256Hex(Buffer.from('not the key of any listener'));
	const tlsa = (usage: number, selector: number, matchingType: number, data: string) => ({usage, selector, matchingType, data});
	return {
		'rollover.dane.test': [tlsa(3, 1, 1, leafSpki), tlsa(3, 1, 1, otherSpki)],
		'single.dane.test': [tlsa(3, 1, 1, leafSpki)],
		'mismatch.dane.test': [tlsa(3, 1, 1, wrong)],
		'ta.dane.test': [tlsa(2, 0, 1, intermediateCert)],
		// Usage 1 is unusable for SMTP (RFC 7672 §3.1.3), a 16-byte SHA-256 is malformed, selector 2 is unknown.
		'unusable.dane.test': [tlsa(1, 1, 1, leafSpki), tlsa(3, 1, 1, leafSpki.slice(0, 32)), tlsa(3, 2, 1, leafSpki)],
		'mx.bogus.test': [tlsa(3, 1, 1, leafSpki)],
		'mx.unsigned.test': [tlsa(3, 1, 1, wrong)],
	};
}

// --- Zones ---------------------------------------------------------------------------------

type Mta = {mode: string; mx: string[]};
// Policy hosts: what nginx serves for mta-sts.<domain>.
type PolicyHost = {policy?: Mta; redirect?: string; contentType?: string; wrongCert?: boolean};
const ENFORCE_GOOD: Mta = {mode: 'enforce', mx: ['mx.good.test']};
const POLICY_HOSTS: Record<string, PolicyHost> = {
	'sts-good.test': {policy: ENFORCE_GOOD},
	'sts-mismatch.test': {policy: {mode: 'enforce', mx: ['mx.other.test']}},
	'sts-testing.test': {policy: {mode: 'testing', mx: ['mx.good.test']}},
	'sts-multiple.test': {policy: ENFORCE_GOOD},
	'sts-badid.test': {policy: ENFORCE_GOOD},
	// Points at a valid policy, so an engine that followed redirects would be caught.
	'sts-redirect.test': {redirect: 'https://mta-sts.sts-good.test/.well-known/mta-sts.txt'},
	'sts-badcert.test': {policy: ENFORCE_GOOD, wrongCert: true},
	'sts-ctype.test': {policy: ENFORCE_GOOD, contentType: 'text/html'},
	'sts-wildcard.test': {policy: {mode: 'enforce', mx: ['*.wild.test']}},
	'sts-expired.test': {policy: {mode: 'enforce', mx: ['mx.expired.test']}},
};

const STS = 'v=STSv1; id=2026120101;';
// Domain → its MX host and the TXT records at _mta-sts.<domain> (sts) and _smtp._tls.<domain> (rpt).
const DOMAINS: Record<string, {mx: string; sts?: string[]; rpt?: string[]}> = {
	'sts-good.test': {mx: 'mx.good.test', sts: [STS], rpt: ['v=TLSRPTv1; rua=mailto:tlsrpt@sts-good.test']},
	'sts-mismatch.test': {mx: 'mx.good.test', sts: [STS]},
	'sts-testing.test': {mx: 'mx.good.test', sts: [STS]},
	'sts-multiple.test': {mx: 'mx.good.test', sts: [STS, 'v=STSv1; id=2026120102;']},
	'sts-badid.test': {mx: 'mx.good.test', sts: ['v=STSv1; id=bad-id!;']},
	'sts-redirect.test': {mx: 'mx.good.test', sts: [STS]},
	'sts-badcert.test': {mx: 'mx.good.test', sts: [STS]},
	'sts-ctype.test': {mx: 'mx.good.test', sts: [STS]},
	'sts-wildcard.test': {mx: 'mx.deep.wild.test', sts: [STS]},
	'sts-expired.test': {mx: 'mx.expired.test', sts: [STS]},
	'tlsrpt-bad.test': {mx: 'mx.good.test', rpt: ['v=TLSRPTv1; rua=ftp://x.test/r']},
	'tlsrpt-multiple.test': {mx: 'mx.good.test', rpt: ['v=TLSRPTv1; rua=mailto:a@tlsrpt-multiple.test', 'v=TLSRPTv1; rua=mailto:b@tlsrpt-multiple.test']},
	'dane-rollover.test': {mx: 'rollover.dane.test'},
	'dane-single.test': {mx: 'single.dane.test'},
	'dane-mismatch.test': {mx: 'mismatch.dane.test'},
	'dane-ta.test': {mx: 'ta.dane.test'},
	'dane-unusable.test': {mx: 'unusable.dane.test'},
	'dane-notlsa.test': {mx: 'notlsa.dane.test'},
	'dane-bogus.test': {mx: 'mx.bogus.test'},
	'dane-unsigned.test': {mx: 'mx.unsigned.test'},
	'listed.test': {mx: 'mx.relay.test'},
	'tls10.test': {mx: 'mx.tls10.test'},
};
export const POLICY_DOMAINS = Object.keys(DOMAINS);

const SOA = (zone: string) => `$TTL 300\n${zone} SOA ns.${zone === '.' ? '' : zone} hostmaster.test. 1 3600 600 86400 300\n`;
const tlsaLines = (host: string, records: TlsaRecord[]) => records.map(r => `_25._tcp.${host}. TLSA ${r.usage} ${r.selector} ${r.matchingType} ${r.data}`);

function testZone(postfix: Pick<PostfixPeer, 'listeners'>, tlsa: Record<string, TlsaRecord[]>, dsBogus: string): string {
	const lines = [SOA('test.'), 'test. NS ns.test.', `ns.test. A ${POLICY_IPS.authoritative}`];
	// Child zones: bogus.test. is signed (its DS here), unsigned.test. is not (no DS: an insecure delegation).
	lines.push('bogus.test. NS ns.bogus.test.', `ns.bogus.test. A ${POLICY_IPS.authoritative}`, dsBogus);
	lines.push('unsigned.test. NS ns.unsigned.test.', `ns.unsigned.test. A ${POLICY_IPS.authoritative}`);
	for (const {name, ip} of Object.values(postfix.listeners)) lines.push(`${name}. A ${ip}`);
	const healthy = postfix.listeners.healthy.ip;
	for (const host of ['mx.deep.wild.test', 'rollover.dane.test', 'single.dane.test', 'mismatch.dane.test', 'ta.dane.test', 'unusable.dane.test', 'notlsa.dane.test']) {
		lines.push(`${host}. A ${healthy}`, ...tlsaLines(host, tlsa[host] ?? []));
	}

	for (const [domain, {mx, sts = [], rpt = []}] of Object.entries(DOMAINS)) {
		lines.push(`${domain}. MX 10 ${mx}.`, ...sts.map(text => `_mta-sts.${domain}. TXT "${text}"`), ...rpt.map(text => `_smtp._tls.${domain}. TXT "${text}"`));
	}

	for (const domain of Object.keys(POLICY_HOSTS)) lines.push(`mta-sts.${domain}. A ${POLICY_IPS.policyHost}`);
	// Blocklists (RFC 5782): bl.test lists the relay and its test entry 127.0.0.2, not 127.0.0.1;
	// refuse.test answers 127.255.255.254 ("public resolver refused") for every name.
	const reversed = postfix.listeners.relay.ip.split('.').reverse().join('.');
	for (const owner of [`${reversed}.bl.test.`, '2.0.0.127.bl.test.']) lines.push(`${owner} A 127.0.0.2`, `${owner} TXT "listed by the mxdash test list"`);
	lines.push('*.refuse.test. A 127.255.255.254');
	return `${lines.join('\n')}\n`;
}

function bogusZone(healthyIp: string, tlsa: Record<string, TlsaRecord[]>): string {
	return `${SOA('bogus.test.')}bogus.test. NS ns.bogus.test.\nns.bogus.test. A ${POLICY_IPS.authoritative}\nmx.bogus.test. A ${healthyIp}\n${tlsaLines('mx.bogus.test', tlsa['mx.bogus.test'] ?? []).join('\n')}\n`;
}

function unsignedZone(healthyIp: string, tlsa: Record<string, TlsaRecord[]>): string {
	return `${SOA('unsigned.test.')}unsigned.test. NS ns.unsigned.test.\nns.unsigned.test. A ${POLICY_IPS.authoritative}\nmx.unsigned.test. A ${healthyIp}\n${tlsaLines('mx.unsigned.test', tlsa['mx.unsigned.test'] ?? []).join('\n')}\n`;
}

const REVERSE_ZONE = '25.0.127.in-addr.arpa.';
function reverseZone(postfix: Pick<PostfixPeer, 'listeners'>): string {
	const ptrs = Object.values(postfix.listeners).map(({name, ip}) => `${ip.split('.')[3]!}.${REVERSE_ZONE} PTR ${name}.`);
	return `${SOA(REVERSE_ZONE)}${REVERSE_ZONE} NS ns.\n${ptrs.join('\n')}\n`;
}

function rootZone(dsTest: string): string {
	// The reverse zone hangs off the root directly, unsigned (no DS): PTR answers are insecure but resolve.
	return `${SOA('.')}. NS ns.\nns. A ${POLICY_IPS.authoritative}\ntest. NS ns.test.\nns.test. A ${POLICY_IPS.authoritative}\n${dsTest}\n${REVERSE_ZONE} NS ns.\n`;
}

const fileName = (zone: string) => (zone === '.' ? 'root' : zone.replace(/\.$/, ''));

// Signs ZONE offline (ECDSAP256SHA256, NSEC, a KSK and a ZSK) and returns its DS record as dnssec-signzone wrote it.
async function signZone(zone: string, text: string, validity?: {start: string; end: string}): Promise<string> {
	const name = fileName(zone);
	const keys = path.join(KEY_DIR, name);
	await mkdir(keys, {recursive: true});
	for (const flags of [['-f', 'KSK'], []]) {
		// Published and active since 2019, so the expired signatures of 2020 are still made with active keys.
		const since = ['-P', '20190101000000', '-A', '20190101000000'];
		await run('dnssec-keygen', ['-q', '-a', 'ECDSAP256SHA256', '-K', keys, ...since, ...flags, '-n', 'ZONE', zone], {timeout: TOOL_TIMEOUT_MS});
	}

	const unsigned = path.join(ZONE_DIR, `${name}.zone`);
	await writeFile(unsigned, text);
	// -P: the post-sign check would (rightly) reject expired signatures.
	const times = validity === undefined ? [] : ['-P', '-s', validity.start, '-e', validity.end];
	await run('dnssec-signzone', ['-q', '-S', '-K', keys, '-d', keys, '-o', zone, '-f', `${unsigned}.signed`, ...times, unsigned], {cwd: keys, timeout: TOOL_TIMEOUT_MS});
	return (await readFile(path.join(keys, `dsset-${zone === '.' ? '.' : zone}`), 'utf8')).trim();
}

async function makeZones(postfix: Pick<PostfixPeer, 'listeners'>, tlsa: Record<string, TlsaRecord[]>): Promise<{rootDs: string}> {
	await mkdir(ZONE_DIR, {recursive: true});
	const healthy = postfix.listeners.healthy.ip;
	// Signatures that expired in 2020: validators call every answer from bogus.test. bogus.
	const dsBogus = await signZone('bogus.test.', bogusZone(healthy, tlsa), {start: '20200101000000', end: '20200201000000'});
	const dsTest = await signZone('test.', testZone(postfix, tlsa, dsBogus));
	const rootDs = await signZone('.', rootZone(dsTest));
	await writeFile(path.join(ZONE_DIR, 'unsigned.test.zone.signed'), unsignedZone(healthy, tlsa)); // Served as is.
	await writeFile(path.join(ZONE_DIR, `${fileName(REVERSE_ZONE)}.zone.signed`), reverseZone(postfix));
	return {rootDs};
}

// --- Daemons -------------------------------------------------------------------------------

const KNOT_DIR = path.join(RUN_DIR, 'knot');
const UNBOUND_DIR = path.join(RUN_DIR, 'unbound');
const DNSMASQ_DIR = path.join(RUN_DIR, 'dnsmasq');
const NGINX_DIR = path.join(RUN_DIR, 'nginx');
const PID_FILES = [path.join(KNOT_DIR, 'knot.pid'), path.join(UNBOUND_DIR, 'unbound.pid'), path.join(DNSMASQ_DIR, 'dnsmasq.pid'), path.join(NGINX_DIR, 'nginx.pid')];

function knotConf(): string {
	const zones = ['.', 'test.', 'bogus.test.', 'unsigned.test.', REVERSE_ZONE]
		.map(zone => `  - domain: "${zone}"\n    file: "${fileName(zone)}.zone.signed"`).join('\n');
	return `# Generated by test/peers/policy.ts: pre-signed zones, served as they are.
server:
  rundir: "${KNOT_DIR}"
  pidfile: "${KNOT_DIR}/knot.pid"
  listen: ${POLICY_IPS.authoritative}@53
log:
  - target: "${KNOT_DIR}/knot.log"
    any: info
database:
  storage: "${KNOT_DIR}/db"
control:
  listen: "${KNOT_DIR}/knot.sock"
template:
  - id: default
    storage: "${ZONE_DIR}"
    dnssec-signing: off
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
${zones}
`;
}

function unboundConf(): string {
	return `# Generated by test/peers/policy.ts: validates against the private root only.
server:
  interface: ${POLICY_IPS.validating}
  port: 53
  do-ip6: no
  access-control: 127.0.0.0/8 allow
  chroot: ""
  username: ""
  directory: "${UNBOUND_DIR}"
  pidfile: "${UNBOUND_DIR}/unbound.pid"
  logfile: "${UNBOUND_DIR}/unbound.log"
  use-syslog: no
  verbosity: 1
  val-log-level: 2
  num-threads: 1
  module-config: "validator iterator"
  trust-anchor-file: "${UNBOUND_DIR}/root.ds"
  do-not-query-localhost: no
  local-zone: "test." nodefault
  local-zone: "127.in-addr.arpa." nodefault
  qname-minimisation: no
remote-control:
  control-enable: no
stub-zone:
  name: "."
  stub-addr: ${POLICY_IPS.authoritative}
`;
}

function nginxConf(certs: Map<string, {key: string; chain: string}>): string {
	const servers = Object.entries(POLICY_HOSTS).map(([domain, host]) => {
		const cert = certs.get(host.wrongCert ? 'wrong' : domain)!;
		const body = host.policy === undefined ? '' : `version: STSv1\\nmode: ${host.policy.mode}\\n${host.policy.mx.map(mx => `mx: ${mx}\\n`).join('')}max_age: 604800\\n`;
		const answer = host.redirect === undefined ? `return 200 "${body}";` : `return 301 ${host.redirect};`;
		const type = host.contentType === undefined ? 'default_type text/plain;' : `types {}\n\t\tdefault_type ${host.contentType};`;
		return `\tserver {
		listen ${POLICY_IPS.policyHost}:443 ssl;
		server_name mta-sts.${domain};
		ssl_certificate ${cert.chain};
		ssl_certificate_key ${cert.key};
		${type}
		location = /.well-known/mta-sts.txt { ${answer} }
		location / { return 404; }
	}`;
	});
	return `# Generated by test/peers/policy.ts
daemon on;
pid ${NGINX_DIR}/nginx.pid;
error_log ${NGINX_DIR}/error.log info;
worker_processes 1;
events { worker_connections 64; }
http {
	access_log ${NGINX_DIR}/access.log;
	client_body_temp_path ${NGINX_DIR}/body;
	# An unknown name gets no certificate at all.
	server { listen ${POLICY_IPS.policyHost}:443 ssl default_server; ssl_reject_handshake on; }
${servers.join('\n')}
}
`;
}

const sleep = async (ms: number) => new Promise(resolve => {
	setTimeout(resolve, ms);
});

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

// Stops whatever an earlier run (or this one) started, by the pid files under RUN_DIR only.
async function stopAll(): Promise<void> {
	await Promise.all(PID_FILES.map(async file => {
		const pid = Number.parseInt(await readFile(file, 'utf8').catch(() => ''), 10);
		if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return;
		process.kill(pid, 'SIGTERM');
		const deadline = Date.now() + 5000;
		while (alive(pid) && Date.now() < deadline) await sleep(25);
		if (alive(pid)) process.kill(pid, 'SIGKILL');
	}));
}

async function logTail(file: string, lines = 15): Promise<string> {
	const log = await readFile(file, 'utf8').catch(() => `(no ${file})`);
	return `--- ${file} ---\n${log.trimEnd().split('\n').slice(-lines).join('\n')}`;
}

async function dig(server: string, name: string, type: string, flags: string[] = []): Promise<string> {
	const {stdout} = await run('dig', [`@${server}`, '+tries=1', '+time=1', ...flags, name, type], {timeout: 5000}).catch((error: unknown) => ({stdout: String(error)}));
	return stdout;
}

async function waitFor(what: string, test: () => Promise<boolean>, log: string): Promise<void> {
	const deadline = Date.now() + READY_TIMEOUT_MS;
	while (Date.now() < deadline) {
		if (await test()) return;
		await sleep(50);
	}

	throw new Error(`${what} not ready after ${READY_TIMEOUT_MS} ms\n${await logTail(log)}`);
}

async function connects(ip: string, port: number): Promise<boolean> {
	return new Promise(resolve => {
		const socket = net.connect({host: ip, port});
		socket.setTimeout(1000, () => {
			socket.destroy();
			resolve(false);
		});
		socket.once('connect', () => {
			socket.destroy();
			resolve(true);
		});
		socket.once('error', () => {
			resolve(false);
		});
	});
}

async function launch(command: string, args: string[], log: string): Promise<void> {
	try {
		await run(command, args, {timeout: TOOL_TIMEOUT_MS});
	} catch (error: unknown) {
		const {stderr = ''} = error as {stderr?: string};
		throw new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || String(error)}\n${await logTail(log)}`);
	}
}

/** Starts (again, idempotently) every policy peer. Needs the Postfix peer's CA: call after startPostfix. */
export async function startPolicyPeers(postfix: Pick<PostfixPeer, 'listeners' | 'certFiles'>): Promise<PolicyPeer> {
	const missing = policyPeersMissing();
	if (missing !== undefined) throw new Error(missing);
	await stopAll();
	await rm(RUN_DIR, {recursive: true, force: true});
	await Promise.all([KEY_DIR, KNOT_DIR, UNBOUND_DIR, DNSMASQ_DIR, NGINX_DIR].map(async dir => mkdir(dir, {recursive: true})));

	const tlsa = await makeTlsa(postfix);
	const {rootDs} = await makeZones(postfix, tlsa);
	const rootAnchorFile = path.join(UNBOUND_DIR, 'root.ds');
	await writeFile(rootAnchorFile, `${rootDs}\n`);

	// Certificates from the Postfix test CA (one --ca root covers both), one after the other.
	const certs = new Map<string, {key: string; chain: string}>();
	for (const domain of Object.keys(POLICY_HOSTS)) certs.set(domain, await issueLeaf(`policy-${domain}`, [`mta-sts.${domain}`]));
	certs.set('wrong', await issueLeaf('policy-wrong', ['mta-sts.elsewhere.test']));

	try {
		const knotLog = path.join(KNOT_DIR, 'knot.log');
		await writeFile(path.join(KNOT_DIR, 'knot.conf'), knotConf());
		await launch('knotd', ['-d', '-c', path.join(KNOT_DIR, 'knot.conf')], knotLog);
		await waitFor('knotd', async () => (await dig(POLICY_IPS.authoritative, 'test.', 'SOA', ['+norec'])).includes('status: NOERROR'), knotLog);

		const unboundLog = path.join(UNBOUND_DIR, 'unbound.log');
		await writeFile(path.join(UNBOUND_DIR, 'unbound.conf'), unboundConf());
		await launch('unbound', ['-c', path.join(UNBOUND_DIR, 'unbound.conf')], unboundLog);
		const dnsmasqLog = path.join(DNSMASQ_DIR, 'dnsmasq.log');
		await launch('dnsmasq', [
			'--conf-file=/dev/null', '--no-resolv', '--no-hosts', `--listen-address=${POLICY_IPS.forwarding}`, '--bind-interfaces', '--port=53',
			`--server=${POLICY_IPS.authoritative}`, `--pid-file=${path.join(DNSMASQ_DIR, 'dnsmasq.pid')}`, `--log-facility=${dnsmasqLog}`, '--user=root', '--cache-size=0',
		], dnsmasqLog);
		const nginxLog = path.join(NGINX_DIR, 'error.log');
		await writeFile(path.join(NGINX_DIR, 'nginx.conf'), nginxConf(certs));
		await launch('nginx', ['-p', NGINX_DIR, '-c', path.join(NGINX_DIR, 'nginx.conf'), '-e', nginxLog], nginxLog);

		await Promise.all([
			waitFor('unbound', async () => / flags:[^;]* ad[ ;]/.test(await dig(POLICY_IPS.validating, 'test.', 'SOA', ['+dnssec'])), unboundLog),
			waitFor('dnsmasq', async () => (await dig(POLICY_IPS.forwarding, 'test.', 'SOA')).includes('status: NOERROR'), dnsmasqLog),
			waitFor('nginx', async () => connects(POLICY_IPS.policyHost, 443), nginxLog),
		]);
	} catch (error: unknown) {
		await stopAll();
		throw error;
	}

	return {ips: POLICY_IPS, rootAnchorFile, tlsa, stop: stopAll};
}
