// The build: source/ bundled into dist/ (ESM for Node 20). A one-shot run loads a few files
// instead of ~120 modules: start-up is most of what `mxdash --json` costs beyond the network.
// meow and dns-packet are bundled in (CommonJS, and module resolution, cost ~65 ms a start);
// the dashboard's packages stay in node_modules, loaded only when the dashboard runs.
import {readFileSync} from 'node:fs';
import {defineConfig} from 'rolldown';

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));

export default defineConfig({
	// Entries by the names the code opens at run time: worker-client starts `worker.js` and the
	// demo starts its own module as a worker, each next to the chunk that asks.
	input: {cli: 'source/cli.ts', worker: 'source/core/run/worker.ts', 'demo-worker': 'source/demo/demo-worker.ts'},
	platform: 'node',
	tsconfig: 'tsconfig.json',
	external: Object.keys(manifest.dependencies).map(name => new RegExp(`^${name}(/|$)`)),
	output: {dir: 'dist', format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js', cleanDir: true},
});
