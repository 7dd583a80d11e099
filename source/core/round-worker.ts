import {parentPort} from 'node:worker_threads';
import {runRound} from './monitor.js';
import type {RoundOptions} from './monitor.js';

/** What the dashboard asks of the worker: run a round (of some domains, or some hosts), or stop. */
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
	runRound(request.domains, options, event => parentPort?.postMessage(event)).catch((error: unknown) => {
		parentPort?.postMessage({type: 'round-error', message: error instanceof Error ? error.message : String(error)});
	});
});
