import process from 'node:process';
import {render} from 'ink';
import {inputKey, normalizeDomain} from '../core/dns/resolver.js';
import type {RoundOptions} from '../core/run/monitor.js';
import {startEngine} from '../core/run/worker-client.js';
import {Watch} from '../core/run/watch.js';
import {jsonReport} from '../report/json.js';
import {App, maxFps} from './app.js';
import {asciiStream} from './ascii-output.js';
import type {Controller} from './app.js';
import {addToSaved, removeFromSaved, savedStatus} from './saved-list.js';
import type {SavedList} from './saved-list.js';
import {Store} from './store.js';
import {makeTakeAway, processIo} from './take-away-io.js';
import {makeTheme} from './theme.js';

export type DashboardOptions = {
	domains: string[];
	round: Omit<RoundOptions, 'signal'>;
	/** Re-probe every this many seconds; none when undefined. */
	intervalSeconds?: number;
	ascii?: boolean;
	/** The saved domain list (conf), which a and d edit; none with --demo. */
	savedList?: SavedList;
};

const enterAlternateScreen = '\u001B[?1049h\u001B[H';
const leaveAlternateScreen = '\u001B[?25h\u001B[?1049l';

/**
 * The full-screen dashboard: alternate screen on start, and the terminal restored on q,
 * Ctrl-C, SIGTERM and on a crash. Resolves with the exit code: the last round's Nagios code.
 */
export async function runDashboard(options: DashboardOptions): Promise<number> {
	const store = new Store(options.domains.map(input => ({domain: inputKey(input), input})));
	const engine = startEngine(options.round, events => {
		for (const event of events) {
			store.apply(event);
		}
	});
	const watch = new Watch(async ({only}) => engine.run(store.domainNames, only), options.intervalSeconds === undefined ? undefined : options.intervalSeconds * 1000, state => {
		store.setSchedule(state);
	});

	let restored = false;
	const restore = (): void => {
		if (!restored) {
			restored = true;
			process.stdout.write(leaveAlternateScreen);
		}
	};

	process.stdout.write(enterAlternateScreen);
	process.once('exit', restore);
	const theme = makeTheme({ascii: options.ascii});
	const controller: Controller = {
		reprobe(keys) {
			watch.request(keys);
		},
		reprobeAll() {
			watch.request();
		},
		scanTls(key) {
			store.setScanning(key, true);
			// Ended with or without a result: a failed scan must not spin for ever.
			void engine.scanTlsVersions(key).finally(() => {
				store.setScanning(key, false);
			});
		},
		addDomain(input) {
			let domain: string;
			try {
				domain = normalizeDomain(input);
			} catch (error) {
				return (error as Error).message;
			}

			if (store.domainNames.includes(domain)) {
				return `${domain} is already in this view`;
			}

			store.addDomain(domain, input.trim());
			const error = addToSaved(options.savedList, domain);
			watch.request();
			return error === undefined ? undefined : `added to this view, not saved: ${error}`;
		},
		removeDomain(domain) {
			store.removeDomain(domain);
			removeFromSaved(options.savedList, domain);
		},
		...(options.savedList ? {savedStatus: (domain: string) => savedStatus(options.savedList, domain)} : {}),
		takeAway: makeTakeAway({hosts: () => store.getSnapshot().hosts, report: async () => jsonReport(await engine.report()), theme, io: processIo()}),
		quit() {
			watch.stop();
		},
	};

	const app = render(<App store={store} controller={controller} theme={theme}/>, {
		exitOnCtrlC: false,
		patchConsole: true,
		maxFps,
		// The store paces its snapshots by what a frame costs to draw.
		onRender: ({renderTime}) => {
			store.framed(renderTime);
		},
		...(options.ascii ? {stdout: asciiStream(process.stdout)} : {}),
	});
	// Restore first, synchronously: another listener (conf's when-exit) may re-raise the signal
	// and end the process before any asynchronous clean-up runs.
	const onSignal = (): void => {
		app.unmount();
		restore();
	};

	process.on('SIGTERM', onSignal);
	process.on('SIGINT', onSignal);
	process.on('SIGHUP', onSignal);
	if (store.domainNames.length > 0) {
		watch.request();
	}

	try {
		await app.waitUntilExit();
	} finally {
		watch.stop();
		await engine.stop();
		restore();
		process.off('SIGTERM', onSignal);
		process.off('SIGINT', onSignal);
		process.off('SIGHUP', onSignal);
	}

	return store.exitCode;
}
