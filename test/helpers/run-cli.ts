import {execFile} from 'node:child_process';
import {fileURLToPath} from 'node:url';

export const cliPath = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export type CliRun = {code: number; stdout: string; stderr: string; ms: number};

/** Run the built CLI (npm test builds it first) with a bounded lifetime. */
export async function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000, input?: string): Promise<CliRun> {
	const started = performance.now();
	return new Promise(resolve => {
		const child = execFile(process.execPath, [cliPath, ...args], {env: {...process.env, NO_COLOR: '1', ...env}, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024}, (error, stdout, stderr) => {
			const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
			resolve({code, stdout, stderr, ms: performance.now() - started});
		});
		// Standard input: what the test gives, else closed at once (never a terminal).
		child.stdin?.end(input ?? '');
	});
}
