import {parentPort, workerData} from 'node:worker_threads';
import {Monitor} from './monitor.js';
import type {MonitorEvent, RoundOptions} from './monitor.js';
import type {Report} from './report-model.js';

/** The worker's options, given once when it starts (as its workerData). */
export type WorkerOptions = Omit<RoundOptions, 'signal' | 'only'>;

/** What the client asks of the worker: run a round (of some domains, or some hosts), a report, or stop. */
export type WorkerRequest =
	| {type: 'run'; domains: string[]; only?: string[]}
	| {type: 'report'}
	/** The dashboard's `t`: scan the TLS versions of one probe key. */
	| {type: 'scan'; key: string}
	| {type: 'abort'};

/** `scanned`: a scan is over (its events were sent before it), with why it failed if it did. */
export type WorkerReply = {type: 'events'; events: MonitorEvent[]} | {type: 'report'; report: Report} | {type: 'scanned'; key: string; error?: string};

// Events go in batches: one message per event would cost the main thread thousands of
// messages a round; the dashboard coalesces renders at about this rate anyway.
let batch: MonitorEvent[] = [];
let timer: NodeJS.Timeout | undefined;
const flush = (): void => {
	clearTimeout(timer);
	timer = undefined;
	if (batch.length > 0) {
		parentPort?.postMessage({type: 'events', events: batch} satisfies WorkerReply);
		batch = [];
	}
};

const emit = (event: MonitorEvent): void => {
	batch.push(event);
	if (event.type === 'round-done' || event.type === 'round-error') {
		flush();
	} else {
		timer ??= setTimeout(flush, 40);
	}
};

// One monitor for the worker's life: it keeps the latest session of every address, so a
// re-probe of one host changes that host's verdict and nothing else.
const monitor = new Monitor(workerData as WorkerOptions, emit);
let controller = new AbortController();
parentPort?.on('message', (request: WorkerRequest) => {
	if (request.type === 'abort') {
		controller.abort();
		return;
	}

	if (request.type === 'report') {
		parentPort?.postMessage({type: 'report', report: monitor.report()} satisfies WorkerReply);
		return;
	}

	if (request.type === 'scan') {
		const {key} = request;
		monitor.scanTlsVersions(key).then(() => undefined, (error: unknown) => (error instanceof Error ? error.message : String(error))).then(error => {
			// Its events first, then that it is over.
			flush();
			parentPort?.postMessage({type: 'scanned', key, ...(error === undefined ? {} : {error})} satisfies WorkerReply);
		}, () => undefined);
		return;
	}

	controller = new AbortController();
	monitor.round(request.domains, {signal: controller.signal, ...(request.only ? {only: request.only} : {})}).catch((error: unknown) => {
		emit({type: 'round-error', message: error instanceof Error ? error.message : String(error)});
	});
});
