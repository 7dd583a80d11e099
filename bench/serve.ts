// The entry of the benchmark's server processes (forked by bench/farm.ts): `serve.js smtp` or `serve.js dns`.
import process from 'node:process';
import {serveRole} from './farm.js';

const role = process.argv[2];
if (role === 'smtp' || role === 'dns') {
	await serveRole(role);
} else {
	process.stderr.write(`bench/serve: the role is smtp or dns, not ${String(role)}\n`);
	process.exitCode = 2;
}
