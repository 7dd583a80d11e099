import {readFileSync, renameSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Conf from 'conf';
import {MxdashError} from './core/errors.js';
import type {Severity} from './core/types.js';
import {settingRules} from './options.js';

/** What a user may keep between runs; flags override every key. */
export type Settings = {
	resolvers?: string[];
	ehloName?: string;
	mailFrom?: string;
	rcptTo?: string;
	relay?: 'basic' | 'thorough' | 'off';
	timeout?: number;
	concurrency?: number;
	warnDays?: number;
	port?: number;
	domains?: string[];
	interval?: number;
	minSeverity?: Severity;
};

export const settingKeys = ['resolvers', 'ehloName', 'mailFrom', 'rcptTo', 'relay', 'timeout', 'concurrency', 'warnDays', 'port', 'domains', 'interval', 'minSeverity'] as const;
export type SettingKey = (typeof settingKeys)[number];

const listKeys = new Set<SettingKey>(['resolvers', 'domains']);
const numberKeys = new Set<SettingKey>(['timeout', 'concurrency', 'warnDays', 'port', 'interval']);

export type Store = {
	path: string;
	/** The stored settings; empty when the file cannot be read. */
	settings: Settings;
	/** One line saying why the file cannot be used (unreadable, corrupt, a value of the wrong type). */
	problem?: string;
	/** The file's text when it is there but cannot be parsed: shown by `config show`, never dropped. */
	corruptText?: string;
	set(key: SettingKey, value: string): void;
	delete(key: SettingKey): void;
	/** Only for a corrupt file: rename it out of the way, bytes intact; returns where it went. */
	moveAside?: () => string;
};

/**
 * Open the per-user settings. A corrupt or unreadable file is not an error here: it is
 * reported with its path in `problem`, and each command decides (a probe refuses to run,
 * --demo and `config show` go on); the file is never overwritten.
 */
export function openStore(directory = process.env.MXDASH_CONFIG_DIR ?? path.join(process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'mxdash')): Store {
	const file = path.join(directory, 'config.json');
	let conf: Conf<Settings> | undefined;
	let settings: Settings;
	try {
		// A one-shot run only reads: conf (and its schema validator, ~140 ms to load) only where a
		// command writes, after loadWriter().
		conf = Writer ? new Writer<Settings>({projectName: 'mxdash', cwd: directory, clearInvalidConfig: false}) : undefined;
		settings = conf ? conf.store : readSettings(file);
	} catch (error) {
		const message = (error as Error).message.split('\n')[0] ?? '';
		const text = readText(file);
		const problem = text === undefined
			? `cannot read the config file (${file}): ${message}; fix or remove it`
			: `cannot read the config file (${file}), it is corrupt: ${message}; fix or remove it`;
		const unusable = (): never => {
			throw new MxdashError('bad-config', problem);
		};

		const moveAside = (): string => {
			const aside = `${file}.corrupt-${new Date().toISOString().replaceAll(':', '-')}`;
			try {
				renameSync(file, aside);
			} catch (error_) {
				throw new MxdashError('bad-config', `cannot move the corrupt config file ${file} aside: ${(error_ as Error).message}`);
			}

			return aside;
		};

		return {path: file, settings: {}, problem, set: unusable, delete: unusable, ...(text === undefined ? {} : {corruptText: text, moveAside})};
	}

	const problem = Object.keys(settings).map(key => typeProblem(key, settings[key as SettingKey], file)).find(Boolean);
	const writer = (): Conf<Settings> => {
		if (!conf) {
			throw new Error('the config store was opened read-only (loadWriter() first)');
		}

		return conf;
	};

	return {
		path: file,
		settings,
		...(problem ? {problem} : {}),
		set(key, value) {
			// Checked by the flag's own rule before the write, so a value every later run would
			// refuse is never stored, and a bad value is not mistaken for a write failure.
			const checked = checkSetting(key, parseSetting(key, value));
			write(file, () => {
				writer().set(key, checked);
			});
		},
		delete(key) {
			write(file, () => {
				writer().delete(key);
			});
		},
	};
}

let Writer: typeof Conf | undefined;

/** Load conf, which every write goes through (atomic writes, the file's mode); reading needs none of it. */
export async function loadWriter(): Promise<void> {
	Writer ??= (await import('conf')).default;
}

/** The settings as conf reads them: a missing file is no settings, one that does not parse an error. */
function readSettings(file: string): Settings {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
			return {};
		}

		throw error;
	}

	const parsed: unknown = JSON.parse(text);
	if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
		throw new Error('the file does not hold a JSON object');
	}

	return parsed as Settings;
}

/** The file's text, or undefined when it cannot be read as a file (missing, a directory, no access). */
function readText(file: string): string | undefined {
	try {
		return readFileSync(file, 'utf8');
	} catch {
		return undefined;
	}
}

function write(file: string, change: () => void): void {
	try {
		change();
	} catch (error) {
		throw new MxdashError('bad-config', `cannot write the config file ${file}: ${(error as Error).message}`);
	}
}

function typeProblem(key: string, value: unknown, path: string): string | undefined {
	const known = (settingKeys as readonly string[]).includes(key);
	const ok = !known
		|| (listKeys.has(key as SettingKey) ? Array.isArray(value) && value.every(item => typeof item === 'string')
			: (numberKeys.has(key as SettingKey) ? typeof value === 'number' && Number.isFinite(value) : typeof value === 'string'));
	return ok ? undefined : `the config file ${path} has a bad value for "${key}"; fix it or run: mxdash config unset ${key}`;
}

/** The typed form of what `config set KEY VALUE` was given; the rules judge it after. */
export function parseSetting(key: SettingKey, value: string): string | number | string[] {
	if (listKeys.has(key)) {
		return value.split(',').map(item => item.trim()).filter(Boolean);
	}

	if (numberKeys.has(key)) {
		return value.trim() === '' ? Number.NaN : Number(value);
	}

	return value;
}

function checkSetting(key: SettingKey, value: string | number | string[]): string | number | string[] {
	const rule = settingRules[key] as (value: string | number | string[], name: string) => string | number | string[];
	try {
		return rule(value, key);
	} catch (error) {
		if (error instanceof MxdashError) {
			throw new MxdashError('bad-config', `not saved: ${error.message}`);
		}

		throw error;
	}
}
