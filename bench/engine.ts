// Everything the benchmark does with the engine on a worker thread, as the dashboard runs it: one
// worker for every round. The worker protocol is being replaced; this is the one module that
// knows it, so that it alone is swapped for the shared client.
import {once} from 'node:events';
import type {EventLoopUtilization} from 'node:perf_hooks';
import {Worker} from 'node:worker_threads';
import type {MonitorEvent, RoundOptions} from '../source/core/run/monitor.js';
import type {Report} from '../source/core/run/report-model.js';
import type {WorkerRequest} from '../source/core/run/worker.js';

export type Engine = {
	/** Resolves once the worker runs. */
	ready(): Promise<void>;
	/** One round on the worker, its events passed on as they come; rejects on a round error. */
	run(domains: string[], options: Omit<RoundOptions, 'signal'>, onEvent: (event: MonitorEvent) => void): Promise<Report>;
	/** The worker's event-loop utilisation (since `since`, as performance.eventLoopUtilization has it). */
	utilization(since?: EventLoopUtilization): EventLoopUtilization;
	/** What the worker wrote to stderr (in the dashboard it would land on the screen), at most 10,000 characters. */
	stderr(): string;
	stop(): Promise<void>;
};

/** The engine's worker; a round that takes longer than `roundTimeoutMs` is aborted. */
export function startEngine(roundTimeoutMs: number): Engine {
	// Its stderr is kept, not passed through, to be reported after the table.
	const worker = new Worker(new URL('../source/core/run/worker.js', import.meta.url), {stderr: true});
	let stderr = '';
	let listener: ((event: MonitorEvent) => void) | undefined;
	worker.stderr.setEncoding('utf8');
	worker.stderr.on('data', (text: string) => {
		stderr = (stderr + text).slice(0, 10_000);
	});
	worker.on('message', (events: MonitorEvent[]) => {
		for (const event of events) {
			listener?.(event);
		}
	});
	worker.on('error', error => {
		listener?.({type: 'round-error', message: error.message});
	});

	return {
		async ready() {
			await once(worker, 'online');
		},
		async run(domains, options, onEvent) {
			try {
				return await new Promise<Report>((resolve, reject) => {
					const timer = setTimeout(() => {
						worker.postMessage({type: 'abort'} satisfies WorkerRequest);
					}, roundTimeoutMs);
					listener = event => {
						onEvent(event);
						if (event.type === 'round-done') {
							clearTimeout(timer);
							resolve(event.report);
						} else if (event.type === 'round-error') {
							clearTimeout(timer);
							reject(new Error(event.message));
						}
					};

					worker.postMessage({type: 'run', domains, options} satisfies WorkerRequest);
				});
			} finally {
				listener = undefined;
			}
		},
		utilization(since) {
			return worker.performance.eventLoopUtilization(since);
		},
		stderr() {
			return stderr;
		},
		async stop() {
			await worker.terminate();
		},
	};
}
