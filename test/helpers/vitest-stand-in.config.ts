// Until source/core/policy/mta-sts.ts is merged (another branch writes it): the main config,
// with that module resolved to the UI tests' stand-in. Run the UI tests with
// `npx vitest run --config test/helpers/vitest-stand-in.config.ts <files>`; once it is merged,
// the plain command works and this file can go.
import {fileURLToPath} from 'node:url';
import {defineConfig, mergeConfig} from 'vitest/config';
import base from '../../vitest.config.js';

const standIn = fileURLToPath(new URL('mta-sts-stand-in.ts', import.meta.url));

// eslint-disable-next-line no-restricted-syntax -- vitest reads a config file's default export.
export default mergeConfig(base, defineConfig({
	root: fileURLToPath(new URL('../..', import.meta.url)),
	resolve: {alias: [{find: /^(\.\.\/)+core\/policy\/mta-sts\.js$/, replacement: standIn}]},
}));
