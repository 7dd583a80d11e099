// The engine on a worker thread, through the same client the dashboard uses.
import type {EventLoopUtilization} from 'node:perf_hooks';
import type {MonitorEvent} from '../source/core/run/monitor.js';
import type {Report} from '../source/core/run/report-model.js';
import type {WorkerOptions} from '../source/core/run/worker.js';
import {startEngine as startClient} from '../source/core/run/worker-client.js';

export type Engine = {
	/** Resolves once the worker runs. */
	ready(): Promise<void>;
	/** One round on the worker, its events passed on as they come; rejects on a round error. */
	run(domains: string[], onEvent: (event: MonitorEvent) => void): Promise<Report>;
	/** The worker's event-loop utilisation (since `since`, as performance.eventLoopUtilization has it). */
	utilization(since?: EventLoopUtilization): EventLoopUtilization;
	/** What the worker wrote to stderr (in the dashboard it would land on the screen), at most 10,000 characters. */
	stderr(): string;
	stop(): Promise<void>;
};

/** The engine's worker; a round that takes longer than `roundTimeoutMs` is aborted. */
export function startEngine(round: WorkerOptions, roundTimeoutMs: number): Engine {
	let listener: ((event: MonitorEvent) => void) | undefined;
	let failure: string | undefined;
	// Its stderr is kept, not passed through, to be reported after the table.
	const client = startClient(round, events => {
		for (const event of events) {
			if (event.type === 'round-error') {
				failure = event.message;
			}

			listener?.(event);
		}
	}, {captureStderr: true});
	return {
		ready: async () => client.ready(),
		async run(domains, onEvent) {
			listener = onEvent;
			failure = undefined;
			const timer = setTimeout(() => {
				client.abort();
			}, roundTimeoutMs);
			try {
				await client.run(domains);
			} finally {
				clearTimeout(timer);
				listener = undefined;
			}

			if (failure) {
				throw new Error(failure);
			}

			return client.report();
		},
		utilization: since => client.utilization(since),
		stderr: () => client.stderr(),
		stop: async () => client.stop(),
	};
}
