import {once} from 'node:events';
import type {EventLoopUtilization} from 'node:perf_hooks';
import {Worker} from 'node:worker_threads';
import type {MonitorEvent} from './monitor.js';
import type {Report} from './report-model.js';
import type {WorkerOptions, WorkerReply, WorkerRequest} from './worker.js';

/** The engine on its own thread, as the dashboard (and the benchmark) drive it. */
export type EngineClient = {
	/** Run one round (of every domain, or only some probe keys); resolves when it is over. */
	run(domains: string[], only?: string[]): Promise<void>;
	/** Scan the TLS versions of one probe key; resolves when the scan is over (its events came first). */
	scanTlsVersions(key: string): Promise<void>;
	/** The report of everything the engine knows now (latest session of every address). */
	report(): Promise<Report>;
	ready(): Promise<void>;
	utilization(since?: EventLoopUtilization): EventLoopUtilization;
	/** Cancel the round that runs (it still ends with round-done). */
	abort(): void;
	/** What the worker wrote to stderr, when it was captured. */
	stderr(): string;
	stop(): Promise<void>;
};

/**
 * The one owner of the worker boundary: requests go in, batches of events come out. Rendering
 * never delays a socket this way (redrawing on the probes' event loop stretched them 3.25×).
 */
export function startEngine(round: WorkerOptions, onEvents: (events: MonitorEvent[]) => void, options: {captureStderr?: boolean} = {}): EngineClient {
	const worker = new Worker(new URL('worker.js', import.meta.url), {workerData: round, stderr: options.captureStderr ?? false});
	let stderr = '';
	if (options.captureStderr) {
		worker.stderr.setEncoding('utf8');
		worker.stderr.on('data', (text: string) => {
			stderr = (stderr + text).slice(-10_000);
		});
	}

	let finish: (() => void) | undefined;
	let reported: ((report: Report) => void) | undefined;
	const scans = new Map<string, Array<() => void>>();
	const scanned = (key: string): void => {
		for (const done of scans.get(key) ?? []) {
			done();
		}

		scans.delete(key);
	};

	worker.on('message', (reply: WorkerReply) => {
		if (reply.type === 'report') {
			reported?.(reply.report);
			return;
		}

		if (reply.type === 'scanned') {
			scanned(reply.key);
			return;
		}

		onEvents(reply.events);
		if (reply.events.some(event => event.type === 'round-done' || event.type === 'round-error')) {
			finish?.();
		}
	});
	worker.on('error', error => {
		onEvents([{type: 'round-error', message: error.message}]);
		finish?.();
		for (const key of [...scans.keys()]) {
			scanned(key);
		}
	});
	const post = (request: WorkerRequest): void => {
		worker.postMessage(request);
	};

	return {
		async run(domains, only) {
			await new Promise<void>(resolve => {
				finish = resolve;
				post({type: 'run', domains, ...(only ? {only} : {})});
			});
		},
		async scanTlsVersions(key) {
			await new Promise<void>(resolve => {
				scans.set(key, [...scans.get(key) ?? [], resolve]);
				post({type: 'scan', key});
			});
		},
		async report() {
			return new Promise<Report>(resolve => {
				reported = resolve;
				post({type: 'report'});
			});
		},
		async ready() {
			await once(worker, 'online');
		},
		utilization: since => worker.performance.eventLoopUtilization(since),
		abort() {
			post({type: 'abort'});
		},
		stderr: () => stderr,
		async stop() {
			post({type: 'abort'});
			await worker.terminate();
		},
	};
}
