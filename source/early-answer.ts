/**
 * --help (-h) and --version anywhere before a `--`: meow answers them only when they stand
 * alone, so `mxdash example.com --help` ran a probe. Help wins over the version. Imports
 * nothing: the entry point asks it before anything else loads.
 */
export function earlyAnswer(argv: readonly string[]): 'help' | 'version' | undefined {
	const end = argv.indexOf('--');
	const flags = end === -1 ? argv : argv.slice(0, end);
	if (flags.some(arg => arg === '--help' || arg === '-h')) {
		return 'help';
	}

	return flags.includes('--version') ? 'version' : undefined;
}
