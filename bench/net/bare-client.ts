// Node's own floor for the scale run's dialogue: the fewest lines that hold the same sessions
// (connect, 220, EHLO, STARTTLS, a TLS 1.3 handshake verifying the chain, EHLO, then MAIL + RCPT
// + QUIT in one write) over the same 10,000 (MX name, address) pairs, at the same concurrency,
// one connection per IP at a time, with no checks, no transcript and no report. Run in the near
// namespace: `node bare-client.js PORT CONCURRENCY CA_FILE`; prints one JSON line
// {sessions, completed, named, cpuMs, wallMs, maxRssMb}. Every session is bounded (10 s).
import {readFileSync} from 'node:fs';
import net from 'node:net';
import {performance} from 'node:perf_hooks';
import process from 'node:process';
import tls from 'node:tls';
import {Slots} from '../../source/core/run/slots.js';
import {scaleLayout} from './layout.js';

const [port = '2525', concurrency = '500', caFile = ''] = process.argv.slice(2);
const context = tls.createSecureContext({ca: [...tls.rootCertificates, readFileSync(caFile, 'utf8')]});
const sessionMs = 10_000;

/** One session; resolves true if QUIT was answered. */
async function session(exchange: string, ip: string): Promise<boolean> {
	return new Promise(resolve => {
		let socket: net.Socket = net.connect({host: ip, port: Number(port), noDelay: true});
		let text = '';
		// Each step: the final replies it waits for, then what it does.
		const steps: Array<[number, () => void]> = [
			[1, () => socket.write('EHLO prober.bench\r\n')],
			[1, () => socket.write('STARTTLS\r\n')],
			[1, () => {
				socket.removeAllListeners('data');
				// OpenSSL verifies the chain; the name is checked on the leaf alone, as mxdash does
				// (Node's own check first reads the whole chain as objects, ~1.7 ms).
				const secure = tls.connect({socket, servername: exchange, secureContext: context, rejectUnauthorized: false, checkServerIdentity: () => undefined});
				secure.getPeerCertificate = (() => ({})) as unknown as typeof secure.getPeerCertificate;
				socket = secure;
				secure.on('error', () => finish(false));
				secure.once('secureConnect', () => {
					secure.on('data', onData);
					secure.write('EHLO prober.bench\r\n');
					named += secure.getPeerX509Certificate()?.checkHost(exchange) === undefined ? 0 : 1;
				});
			}],
			[1, () => socket.write('MAIL FROM:<bare@prober.bench>\r\nRCPT TO:<x@example.net>\r\nQUIT\r\n')],
			[3, () => finish(true)],
		];
		const timer = setTimeout(() => finish(false), sessionMs);
		let replies = 0;
		function finish(ok: boolean): void {
			clearTimeout(timer);
			steps.length = 0;
			socket.destroy();
			resolve(ok);
		}

		function onData(chunk: Buffer): void {
			text += chunk.toString('latin1');
			let end = text.indexOf('\n');
			while (end >= 0 && steps.length > 0) {
				const line = text.slice(0, end);
				text = text.slice(end + 1);
				if (/^\d{3} /.test(line) && ++replies === steps[0]![0]) {
					replies = 0;
					steps.shift()![1]();
				}

				end = text.indexOf('\n');
			}
		}

		socket.on('data', onData);
		socket.on('error', () => finish(false));
	});
}

const layout = scaleLayout();
const pairs = layout.hosts.flatMap(host => host.ips.map(ip => ({exchange: host.exchange, ip})));
const perIp = new Map<string, Promise<unknown>>();
/** Sessions whose leaf names their MX host. */
let named = 0;
const slots = new Slots(Number(concurrency));

const started = performance.now();
const results = await Promise.all(pairs.map(async ({exchange, ip}) => {
	const run = (perIp.get(ip) ?? Promise.resolve()).then(async () => slots.run(async () => session(exchange, ip)));
	perIp.set(ip, run);
	return run;
}));
const cpu = process.cpuUsage();
process.stdout.write(`${JSON.stringify({sessions: pairs.length, completed: results.filter(Boolean).length, named, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - started, maxRssMb: process.resourceUsage().maxRSS / 1024})}\n`);
