import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
	{ignores: ['dist/**', 'dist-bench/**', 'node_modules/**', 'media/**']},
	js.configs.recommended,
	...tseslint.configs.recommended,
	{
		rules: {
			'@typescript-eslint/no-explicit-any': 'error',
			'@typescript-eslint/consistent-type-imports': 'error',
			'no-restricted-syntax': ['error', {selector: 'ExportDefaultDeclaration', message: 'Use named exports.'}],
		},
	},
	{
		files: ['source/core/**'],
		rules: {
			'no-restricted-imports': ['error', {patterns: [
				{group: ['react', 'react/*', 'ink', 'ink-*', '@alcalzone/ink-table'], message: 'source/core must not depend on the UI.'},
				{group: ['../ui/*', '../report/*', '../cli*'], message: 'core knows nothing of the UI, report or CLI.'},
			]}],
		},
	},
	{
		files: ['eslint.config.js', 'vitest.config.ts', 'rolldown.config.js'],
		rules: {'no-restricted-syntax': 'off'},
	},
);
