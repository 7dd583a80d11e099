import {parentPort} from 'node:worker_threads';
import {runRound} from './monitor.js';
import type {MonitorEvent, RoundOptions} from './monitor.js';

/** What the dashboard asks of the worker: run a round (of some domains, or some hosts), or stop. It answers with arrays of events. */
export type WorkerRequest =
	| {type: 'run'; domains: string[]; options: Omit<RoundOptions, 'signal'>; only?: string[]}
	| {type: 'abort'};

// Runs the engine on its own thread so that rendering never delays a socket (see design.md:
// redrawing 200 rows on the probes' event loop stretched probe times 3.25x).
let controller = new AbortController();
parentPort?.on('message', (request: WorkerRequest) => {
	if (request.type === 'abort') {
		controller.abort();
		return;
	}

	controller = new AbortController();
	const options = {...request.options, signal: controller.signal, ...(request.only ? {only: request.only} : {})};
	// Events go in batches: one message per event would cost the main thread thousands of
	// messages a round; the dashboard coalesces renders at about this rate anyway.
	let batch: MonitorEvent[] = [];
	let timer: NodeJS.Timeout | undefined;
	const flush = (): void => {
		clearTimeout(timer);
		timer = undefined;
		if (batch.length > 0) {
			parentPort?.postMessage(batch);
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

	runRound(request.domains, options, emit).catch((error: unknown) => {
		emit({type: 'round-error', message: error instanceof Error ? error.message : String(error)});
	});
});
