// The first DNS questions of a one-shot run (`--json`, or the text report) go out from the entry
// point, before the rest of mxdash has loaded: start-up (~130 ms) then overlaps the MX and address
// lookups instead of preceding them. Only a command line that the run will accept as it is read
// here is prefetched: its domains and settings pass the same checks first (domainList,
// roundOptions), so a command that ends in an error has sent nothing. The run takes a plan only if
// its own servers and limits are the same (resolver.ts); otherwise it asks again.
import process from 'node:process';
import {openStore} from './config.js';
import {prefetchPlans} from './core/dns/resolver.js';
import {flagSpec} from './flags.js';
import {domainList, roundOptions} from './options.js';
import type {SettingFlags} from './options.js';

/** The flags roundOptions checks; any other flag with a value leaves the command to the run. */
const settingFlags = new Set(['resolver', 'port', 'ehloName', 'relay', 'mailFrom', 'rcptTo', 'ca', 'timeout', 'concurrency', 'warnDays']);
/** Flags that change what is probed or where the engine runs. */
const notHere = new Set(['demo', 'server', 'file']);

type Command = {domains: string[]; flags: SettingFlags; json: boolean};

const specs = flagSpec as Record<string, {type: string} | undefined>;
/** meow's key of a flag as typed: ehlo-name → ehloName. */
const camel = (text: string): string => text.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** argv by flagSpec, or undefined for anything that is not a plain probe of domains. */
function read(argv: readonly string[]): Command | undefined {
	const command: Command = {domains: [], flags: {}, json: false};
	const values: Record<string, string | number | string[]> = {};
	for (let index = 0; index < argv.length; index++) {
		const arg = argv[index]!;
		if (!arg.startsWith('--')) {
			// A short flag, `-` (standard input) or a subcommand: not read here.
			if (arg.startsWith('-') || (index === 0 && arg === 'config')) return undefined;
			command.domains.push(arg);
			continue;
		}

		const [name = '', inline] = arg.slice(2).split(/=(.*)/s);
		const key = camel(name);
		const spec = specs[key];
		if (!spec && name.startsWith('no-') && specs[camel(name.slice(3))]?.type === 'boolean' && inline === undefined) continue;
		if (!spec || notHere.has(key) || (spec.type === 'boolean' && inline !== undefined)) return undefined;
		if (spec.type === 'boolean') {
			command.json ||= key === 'json';
			continue;
		}

		const value = inline ?? argv[++index];
		if (value === undefined || !settingFlags.has(key)) return undefined;
		values[key] = key === 'resolver' ? [...(values[key] as string[] | undefined ?? []), value] : (spec.type === 'number' ? Number(value) : value);
	}

	command.flags = values as SettingFlags;
	return command.domains.length > 0 ? command : undefined;
}

/**
 * Starts the plans when argv is a one-shot probe of domains the run will accept; never throws.
 * Whether it did.
 */
export function prefetch(argv: readonly string[]): boolean {
	const command = read(argv);
	// On a terminal the dashboard runs the engine in a worker: a plan asked here would be asked twice.
	if (!command || (!command.json && process.stdout.isTTY && process.stdin.isTTY)) return false;
	try {
		const store = openStore();
		if (store.problem) return false;
		const domains = domainList(command.domains);
		const options = roundOptions(command.flags, store.settings, '', store.path);
		prefetchPlans(domains, {...(options.resolvers ? {servers: options.resolvers} : {}), limits: options.limits});
		return true;
	} catch {
		// A bad domain or value: the run reports it, and nothing was sent.
		return false;
	}
}
