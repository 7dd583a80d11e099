import process from 'node:process';
import {Worker} from 'node:worker_threads';
import {render} from 'ink';
import {normalizeDomain} from '../core/dns/resolver.js';
import type {MonitorEvent, RoundOptions} from '../core/run/monitor.js';
import type {WorkerRequest} from '../core/run/worker.js';
import {Watch} from '../core/run/watch.js';
import {App} from './app.js';
import type {Controller} from './app.js';
import {Store} from './store.js';
import {makeTheme} from './theme.js';

export type DashboardOptions = {
	domains: string[];
	round: Omit<RoundOptions, 'signal'>;
	/** Re-probe every this many seconds; none when undefined. */
	intervalSeconds?: number;
	ascii?: boolean;
	/** Persist the domain list (conf); errors are shown, not thrown. */
	saveDomains?: (domains: string[]) => string | undefined;
};

type Engine = {run(domains: string[], only?: string[]): Promise<void>; stop(): Promise<void>};

/** The engine on a worker thread: events come back as plain data, one round at a time. */
function workerEngine(round: DashboardOptions['round'], onEvent: (event: MonitorEvent) => void): Engine {
	const worker = new Worker(new URL('../core/run/worker.js', import.meta.url));
	let finish: (() => void) | undefined;
	worker.on('message', (events: MonitorEvent[]) => {
		for (const event of events) {
			onEvent(event);
			if (event.type === 'round-done' || event.type === 'round-error') {
				finish?.();
			}
		}
	});
	worker.on('error', error => {
		onEvent({type: 'round-error', message: error.message});
		finish?.();
	});
	return {
		async run(domains, only) {
			await new Promise<void>(resolve => {
				finish = resolve;
				const request: WorkerRequest = {type: 'run', domains, options: round, ...(only ? {only} : {})};
				worker.postMessage(request);
			});
		},
		async stop() {
			worker.postMessage({type: 'abort'} satisfies WorkerRequest);
			await worker.terminate();
		},
	};
}

const enterAlternateScreen = '\u001B[?1049h\u001B[H';
const leaveAlternateScreen = '\u001B[?25h\u001B[?1049l';

/**
 * The full-screen dashboard: alternate screen on start, and the terminal restored on q,
 * Ctrl-C, SIGTERM and on a crash. Resolves with the exit code.
 */
export async function runDashboard(options: DashboardOptions): Promise<number> {
	const store = new Store(options.domains.map(input => ({domain: normalizeDomain(input), input})));
	const engine = workerEngine(options.round, event => {
		store.apply(event);
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
	const controller: Controller = {
		reprobe(keys) {
			watch.request(keys);
		},
		reprobeAll() {
			watch.request();
		},
		addDomain(input) {
			let domain: string;
			try {
				domain = normalizeDomain(input);
			} catch (error) {
				return (error as Error).message;
			}

			if (store.domainNames.includes(domain)) {
				return `${domain} is already on the list`;
			}

			store.addDomain(domain, input.trim());
			const error = options.saveDomains?.(store.domainNames);
			watch.request();
			return error;
		},
		removeDomain(domain) {
			store.removeDomain(domain);
			options.saveDomains?.(store.domainNames);
		},
		quit() {
			watch.stop();
		},
	};

	const app = render(<App store={store} controller={controller} theme={makeTheme({ascii: options.ascii})}/>, {exitOnCtrlC: false, patchConsole: true, maxFps: 15});
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

	return 0;
}
