import {parentPort, Worker} from 'node:worker_threads';
import type {Demo} from './demo.js';
import {startDemo} from './demo.js';

type Started = {type: 'started'; demo: Omit<Demo, 'stop'>} | {type: 'failed'; message: string};

/**
 * The demo's servers on a thread of their own: on the dashboard's thread, every frame Ink
 * draws would delay their replies and the demo would show timings it made up itself.
 */
export async function startDemoInWorker(): Promise<Demo> {
	const worker = new Worker(new URL(import.meta.url));
	const reply = await new Promise<Started>((resolve, reject) => {
		worker.once('message', resolve);
		worker.once('error', reject);
	});
	if (reply.type === 'failed') {
		await worker.terminate();
		throw new Error(reply.message);
	}

	return {
		...reply.demo,
		async stop() {
			await worker.terminate();
		},
	};
}

if (parentPort) {
	const port = parentPort;
	startDemo().then(({stop, ...demo}) => {
		void stop;
		port.postMessage({type: 'started', demo} satisfies Started);
	}, (error: unknown) => {
		port.postMessage({type: 'failed', message: error instanceof Error ? error.message : String(error)} satisfies Started);
	});
}
