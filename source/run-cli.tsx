import process from 'node:process';
import meow from 'meow';
import {loadWriter, openStore, settingKeys} from './config.js';
import {earlyAnswer} from './early-answer.js';
import {flagSpec} from './flags.js';
import type {SettingKey} from './config.js';
import {MxdashError} from './core/errors.js';
import {cancelPrefetch, parseServer} from './core/dns/resolver.js';
import {Monitor, runRound} from './core/run/monitor.js';
import {domainParts, reportHead} from './core/run/report-model.js';
import type {RoundOptions} from './core/run/monitor.js';
import {checkSeverity, checkStored, defaultDnsbl, defaults, domainList, flagName, policyOptions, readDomainList, roundOptions, settingRules} from './options.js';
import {jsonReportChunks, writeChunks} from './report/json.js';
import {textReport} from './report/text.js';
import type {TextOptions} from './report/text.js';

const help = `
  Usage
    $ mxdash [options] <domain …>      (no domain: the saved list)
    $ mxdash [options] --server HOST[:PORT] …   (one server, no MX lookup)
    $ mxdash --demo                    (built-in test servers: no network, no root)
    $ mxdash config [show | set KEY VALUE | unset KEY]

  For every MX host and every address of each domain: connect on port 25, read the
  greeting, EHLO, STARTTLS, inspect the TLS session and the certificate chain, and run a
  safe open-relay test (MAIL FROM + RCPT TO, never DATA).

  Output
    (on a terminal: the live dashboard; press ? in it for the keys)
    --json               Print the report as JSON (schema 1), no dashboard
    (stdout not a terminal: a plain-text report)
    --watch              Re-probe every interval (dashboard only; default 300 s)
    --interval SECONDS   Re-probe every SECONDS, 1–86400 (implies --watch)
    --ascii              Plain ASCII glyphs and no colour (NO_COLOR also drops colour)
    --demo               Probe built-in loopback demo servers (takes no domain)
    --min-severity LEVEL  Text report: list only findings at or above info (default),
                         warning or critical; --json and the exit code keep them all

  Probing
    --file FILE          Probe the domains in FILE, one a line (# comments, blank lines
                         skipped; repeatable); - as an argument reads them from stdin
    --server HOST[:PORT]  Probe this server directly, as swaks --server does: no MX
                         lookup; a name's A/AAAA are probed, IPv6 as [addr]:port;
                         default port: --port (repeatable; beside domains too)
    --resolver HOST[:PORT]  DNS server to ask (repeatable; default: the system's)
    --port N             SMTP port to connect to (default ${defaults.port})
    --ehlo-name NAME     Name to send in EHLO (a FQDN; default: this host's name, or
                         mxdash.invalid when that is not a FQDN)
    --relay MODE         Relay test: basic (default) or thorough (16 relay tricks)
    --no-relay           Skip the relay test
    --mail-from ADDR     Sender for the relay test (default ${defaults.mailFrom})
    --rcpt-to ADDR       Recipient for the relay test (default ${defaults.rcptTo})
    --ca FILE            Also trust the CA certificates in this PEM file
    --timeout SECONDS    Deadline of each stage, whole seconds 1–600 (default ${defaults.timeout})
    --concurrency N      Sessions at once (default ${defaults.concurrency}; always one per IP)
    --warn-days N        Warn when a certificate has fewer days left (default ${defaults.warnDays})

  Policies (would a strict sender deliver?)
    --no-policy          Skip MTA-STS, TLS-RPT and DANE
    --dnsbl ZONE         Query this IP blocklist (repeatable; replaces the default set:
                         ${defaultDnsbl.join(', ')})
    --no-dnsbl           Query no blocklist
    --tls-versions       One extra session per TLS version (1.0–1.3) with every address

  Other
    --help, -h           Show this help (anywhere on the line: nothing is probed)
    --version            Show the version (likewise)

  Exit codes (Nagios)
    0 OK · 1 a warning · 2 a critical finding · 3 unknown (usage error, no resolver
    answered, nothing could be probed). The dashboard exits with its last finished
    round's code (3 if none finished; 0 with no domain)

  Examples
    $ mxdash --json example.com
    $ mxdash --resolver 127.0.0.1:5353 --ca test-ca.pem mx.example.test
    $ mxdash --relay thorough example.org | less
    $ mxdash config set ehloName probe.example.net
`;


const defaultIntervalSeconds = 300;

/** A note that does not stop the command: one line on stderr, in the form of the errors. */
function warn(message: string): void {
	process.stderr.write(`mxdash: ${message}\n`);
}

function configCommand(args: string[]): number {
	const store = openStore();
	const [action = 'show', key, ...rest] = args;
	const checkKey = (name: string | undefined): SettingKey => {
		if (!name || !(settingKeys as readonly string[]).includes(name)) {
			throw new MxdashError('bad-config', `config keys are: ${settingKeys.join(', ')}`);
		}

		return name as SettingKey;
	};

	if (action === 'set' && rest.length > 0) {
		store.set(checkKey(key), rest.join(' '));
	} else if (action === 'unset') {
		const name = checkKey(key);
		if (store.moveAside) {
			// JSON that does not parse cannot lose one key; the whole file moves aside, every byte
			// kept, and says where: nothing saved is deleted, nothing is rewritten in place.
			const aside = store.moveAside();
			warn(`the config file ${store.path} was corrupt: moved it to ${aside}, so ${name} and every other setting are unset`);
		} else {
			store.delete(name);
		}
	} else if (action === 'show') {
		if (store.problem) {
			warn(store.corruptText === undefined ? store.problem : `${store.problem} (shown as it is; nothing in it is used)`);
		}

		if (store.corruptText !== undefined) {
			process.stdout.write(`${store.path}\n${store.corruptText}${store.corruptText.endsWith('\n') ? '' : '\n'}`);
			return 0;
		}
	} else {
		throw new MxdashError('bad-config', 'usage: mxdash config [show | set KEY VALUE | unset KEY]');
	}

	process.stdout.write(`${store.path}\n${JSON.stringify(openStore().settings, null, 2)}\n`);
	return 0;
}

/**
 * The first unknown flag as the user typed it: meow splits `-x.test` into short flags and
 * names them `--x`, which is nothing the user wrote. Negative numbers are values, not flags.
 */
function typedFlag(argv: readonly string[], known: ReadonlySet<string>): string | undefined {
	const end = argv.indexOf('--');
	for (const arg of end === -1 ? argv : argv.slice(0, end)) {
		if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
			continue;
		}

		const typed = arg.split('=')[0]!;
		if (!arg.startsWith('--')) {
			return typed;
		}

		const key = typed.slice(2).replace(/^no-/, '').replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
		if (!known.has(key)) {
			return typed;
		}
	}

	return undefined;
}

async function main(): Promise<number> {
	const cli = meow(help, {importMeta: import.meta, allowUnknownFlags: true, autoHelp: false, autoVersion: false, flags: flagSpec});
	// --version never comes here: the entry point (cli.ts) answers it before this module loads.
	if (earlyAnswer(process.argv.slice(2)) === 'help') {
		cli.showHelp(0);
	}

	const known = new Set([...Object.keys(flagSpec), 'help', 'version']);
	const unknown = Object.keys(cli.flags).filter(name => !known.has(name));
	if (unknown.length > 0) {
		throw new MxdashError('bad-flag', `unknown flag ${typedFlag(process.argv.slice(2), known) ?? flagName(unknown[0]!)} (see mxdash --help)`);
	}

	if (cli.input[0] === 'config') {
		await loadWriter();
		return configCommand(cli.input.slice(1));
	}

	const {flags} = cli;
	// Domain lists (--file FILE, and `-` for standard input): a bad line is said with its line
	// number, on stderr, and the rest still runs.
	const lists = [...(flags.file ?? []), ...(cli.input.includes('-') ? ['-'] : [])];
	const listed: string[] = [];
	for (const file of lists) {
		const {domains, problems} = await readDomainList(file);
		for (const problem of problems) {
			warn(`${problem} (skipped)`);
		}

		listed.push(...domains);
	}

	const inputs = [...cli.input.filter(input => input !== '-'), ...listed];
	const typed = [...inputs, ...lists.map(file => `--file ${file}`), ...(flags.server ?? []).map(server => `--server ${server}`)];
	if (flags.demo && typed.length > 0) {
		// Refused rather than ignored: whoever typed a domain expects it probed, and --demo
		// probes only its own loopback servers.
		throw new MxdashError('bad-flag', `--demo probes only its own demo domains; drop ${typed[0]!} or drop --demo`);
	}

	const interactive = !flags.json && process.stdout.isTTY && process.stdin.isTTY;
	if (interactive && !flags.demo) {
		// The dashboard saves the domains a and d edit; a one-shot run only reads the settings.
		await loadWriter();
	}

	const opened = openStore();
	if (opened.problem && !flags.demo) {
		throw new MxdashError('bad-config', opened.problem);
	}

	if (opened.problem) {
		warn(`${opened.problem} (--demo runs without it and leaves it as it is)`);
	}

	// The demo never saves, so it can run on the defaults whatever the file holds.
	const store = opened.problem ? {...opened, settings: {}} : opened;

	const options: RoundOptions = roundOptions({
		resolver: flags.resolver,
		...(flags.port === undefined ? {} : {port: flags.port}),
		...(flags.ehloName === undefined ? {} : {ehloName: flags.ehloName}),
		...(flags.relay === undefined ? {} : {relay: flags.relay as string | boolean}),
		...(flags.mailFrom === undefined ? {} : {mailFrom: flags.mailFrom}),
		...(flags.rcptTo === undefined ? {} : {rcptTo: flags.rcptTo}),
		...(flags.ca === undefined ? {} : {ca: flags.ca}),
		...(flags.timeout === undefined ? {} : {timeout: flags.timeout}),
		...(flags.concurrency === undefined ? {} : {concurrency: flags.concurrency}),
		...(flags.warnDays === undefined ? {} : {warnDays: flags.warnDays}),
	}, store.settings, cli.pkg.version ?? '0.0.0', store.path);
	Object.assign(options, policyOptions(flags));
	const storedInterval = store.settings.interval === undefined ? undefined : checkStored('interval', store.settings.interval, store.path);
	const flagInterval = flags.interval === undefined ? undefined : settingRules.interval(flags.interval, '--interval');
	const minSeverity = flags.minSeverity === undefined
		? (store.settings.minSeverity === undefined ? 'info' : checkStored('minSeverity', store.settings.minSeverity, store.path))
		: checkSeverity(flags.minSeverity);
	const demo = flags.demo ? await (await import('./demo/demo-worker.js')).startDemoInWorker() : undefined;
	try {
		if (demo) {
			Object.assign(options, {resolvers: demo.resolvers, ports: demo.ports, ca: [...(options.ca ?? []), ...demo.ca], policyPort: demo.policyPort, ...((flags.dnsbl ?? []).length === 0 ? {dnsbl: demo.dnsbl} : {})});
		}

		const saved = store.settings.domains === undefined ? [] : checkStored('domains', store.settings.domains, store.path);
		// Servers given directly join the domains; either one means the saved list is not wanted.
		const servers = [...new Set((flags.server ?? []).map(server => parseServer(server, options.port)))];
		const domains = demo ? domainList(demo.domains) : [...domainList(typed.length > 0 ? inputs : saved), ...servers];
		if (interactive) {
			// React's development build costs the dashboard about twice the CPU (measured by
			// npm run bench); set before React is first loaded.
			process.env.NODE_ENV ??= 'production';
			const {runDashboard} = await import('./ui/dashboard.js');
			const interval = flagInterval ?? (flags.watch ? storedInterval ?? defaultIntervalSeconds : undefined);
			return await runDashboard({
				domains,
				round: options,
				...(interval === undefined ? {} : {intervalSeconds: interval}),
				ascii: flags.ascii,
				// The demo's list is its own; real lists persist, so a bare `mxdash` reopens them.
				// Read afresh (a new conf reads the file) so a and d change only their entry.
				...(demo ? {} : {savedList: {read: () => openStore().settings.domains ?? [], write: list => save(store, list)}}),
			});
		}

		if (domains.length === 0) {
			throw new MxdashError('no-domains', 'no domain given (try: mxdash example.com, or mxdash --help)');
		}

		if (flags.watch || flags.interval !== undefined) {
			warn(`${flags.watch ? '--watch' : '--interval'} re-probes only in the dashboard; ${flags.json ? 'with --json' : 'stdout is not a terminal, so'} this is one round`);
		}

		return await headless(domains, options, flags.json ? 'json' : {minSeverity});
	} finally {
		await demo?.stop();
	}
}

function save(store: ReturnType<typeof openStore>, list: string[]): string | undefined {
	try {
		store.set('domains', list.join(','));
		return undefined;
	} catch (error) {
		return (error as Error).message;
	}
}

async function headless(domains: string[], options: RoundOptions, output: 'json' | TextOptions): Promise<number> {
	const controller = new AbortController();
	const stop = (): void => {
		controller.abort();
	};

	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);
	// A reader that has seen enough (`| head`) closes the pipe: no error of ours, no stack trace.
	const onWriteError = (exitCode: number) => (error: NodeJS.ErrnoException): void => {
		if (error.code !== 'EPIPE') {
			process.stderr.write(`mxdash: cannot write the report: ${error.message}\n`);
		}

		process.exit(error.code === 'EPIPE' ? exitCode : 3);
	};

	if (output !== 'json') {
		const report = await runRound(domains, {...options, signal: controller.signal});
		process.stdout.on('error', onWriteError(report.summary.exitCode));
		process.stdout.write(textReport(report, output));
		return controller.signal.aborted ? 3 : report.summary.exitCode;
	}

	// The JSON report of a large run repeats each shared address under every domain (~1 GB for
	// 10,000 addresses of 3,000 domains, past V8's longest string): it is written entry by entry
	// from the knowledge, never held whole.
	const monitor = new Monitor(options);
	await monitor.round(domains, {signal: controller.signal});
	const meta = monitor.meta();
	// The summary comes first in the text: one pass draws it, a second one writes the domains.
	const head = reportHead(monitor.knowledge, meta, domainParts(monitor.knowledge, meta.domains));
	process.stdout.on('error', onWriteError(head.summary.exitCode));
	await writeChunks(jsonReportChunks(head, domainParts(monitor.knowledge, meta.domains)), process.stdout, {reuse: true});
	return controller.signal.aborted ? 3 : head.summary.exitCode;
}

try {
	process.exitCode = await main();
} catch (error) {
	const message = error instanceof MxdashError ? error.message : `internal error: ${(error as Error).message}`;
	process.stderr.write(`mxdash: ${message.split('\n')[0] ?? ''}\n`);
	if (process.env.MXDASH_DEBUG && !(error instanceof MxdashError)) {
		process.stderr.write(`${(error as Error).stack ?? ''}\n`);
	}

	process.exitCode = 3;
} finally {
	// The plans the entry point asked for early and the run did not take (it stopped first).
	cancelPrefetch();
}
