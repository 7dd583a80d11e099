// The link's own round trip, measured from the near namespace (`ip netns exec … node near.js`):
// `connect N` times N fresh TCP connects (SYN to SYN-ACK: one RTT), `echo MS` sends one byte
// every MS milliseconds over one connection until stdin closes and times each echo. Prints
// one JSON line {samples: [...ms]}. `greet IP [PORT]` waits for a server's 220. Every wait is bounded.
import net from 'node:net';
import {performance} from 'node:perf_hooks';
import process from 'node:process';
import {echoIp, echoPort} from './layout.js';

const timeoutMs = 3000;

async function connectOnce(): Promise<number> {
	return new Promise((resolve, reject) => {
		const started = performance.now();
		const socket = net.connect({host: echoIp, port: echoPort});
		const timer = setTimeout(() => {
			socket.destroy();
			reject(new Error('connect timed out'));
		}, timeoutMs);
		socket.once('connect', () => {
			clearTimeout(timer);
			const ms = performance.now() - started;
			socket.destroy();
			resolve(ms);
		});
		socket.once('error', error => {
			clearTimeout(timer);
			reject(error);
		});
	});
}

async function connects(count: number): Promise<number[]> {
	const samples: number[] = [];
	for (let index = 0; index < count; index++) samples.push(await connectOnce());
	return samples;
}

// Echo one byte at a time, so each sample is one round trip of a connection already open.
async function echoes(everyMs: number, maxSamples: number): Promise<number[]> {
	const socket = net.connect({host: echoIp, port: echoPort});
	socket.setNoDelay(true);
	await new Promise<void>((resolve, reject) => {
		socket.once('connect', resolve);
		socket.once('error', reject);
	});
	const samples: number[] = [];
	let stopped = false;
	process.stdin.resume();
	process.stdin.once('end', () => {
		stopped = true;
	});
	while (!stopped && samples.length < maxSamples) {
		const started = performance.now();
		await new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => {
				reject(new Error('echo timed out'));
			}, timeoutMs);
			socket.once('data', () => {
				clearTimeout(timer);
				resolve();
			});
			socket.write('x');
		});
		samples.push(performance.now() - started);
		await new Promise(resolve => {
			setTimeout(resolve, everyMs);
		});
	}

	socket.destroy();
	return samples;
}

// Waits until IP:PORT sends a 220 greeting (Postfix just started), retrying for up to 15 s.
async function greeting(ip: string, port: number): Promise<number[]> {
	const deadline = performance.now() + 15_000;
	while (performance.now() < deadline) {
		const line = await new Promise<string>(resolve => {
			const socket = net.connect({host: ip, port});
			let text = '';
			const finish = (result: string) => {
				clearTimeout(timer);
				socket.destroy();
				resolve(result);
			};

			const timer = setTimeout(() => {
				finish('');
			}, timeoutMs);
			socket.on('data', (chunk: Buffer) => {
				text += chunk.toString('latin1');
				if (text.includes('\n') || text.length > 1024) finish(text);
			});
			socket.on('error', () => {
				finish('');
			});
		});
		if (line.startsWith('220 ')) return [performance.now()];
		await new Promise(resolve => {
			setTimeout(resolve, 100);
		});
	}

	throw new Error(`no 220 greeting from ${ip}:${port} within 15 s`);
}

const [mode, value = '', port = '25'] = process.argv.slice(2);
try {
	const samples = mode === 'connect' ? await connects(Number(value)) : (mode === 'greet' ? await greeting(value, Number(port)) : await echoes(Number(value), 5000));
	process.stdout.write(`${JSON.stringify({samples})}\n`);
	process.exit(0);
} catch (error) {
	process.stdout.write(`${JSON.stringify({samples: [], message: error instanceof Error ? error.message : String(error)})}\n`);
	process.exit(1);
}
