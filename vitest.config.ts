import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		include: ['test/**/*.test.{ts,tsx}'],
		globalSetup: ['test/global-setup.ts'],
		testTimeout: 30_000,
		hookTimeout: 60_000,
		// The bounded-memory test collects garbage before and after it measures RSS.
		execArgv: ['--expose-gc'],
	},
});
