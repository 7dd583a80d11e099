import {readFileSync, renameSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Conf from 'conf';
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
	let conf: Conf<Settings>;
	try {
		conf = new Conf<Settings>({projectName: 'mxdash', cwd: directory, clearInvalidConfig: false});
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

	const settings = conf.store;
	const problem = Object.keys(settings).map(key => typeProblem(key, settings[key as SettingKey], conf.path)).find(Boolean);
	return {
		path: conf.path,
		settings,
		...(problem ? {problem} : {}),
		set(key, value) {
			// Checked by the flag's own rule before the write, so a value every later run would
			// refuse is never stored, and a bad value is not mistaken for a write failure.
			const checked = checkSetting(key, parseSetting(key, value));
			write(conf, () => {
				conf.set(key, checked);
			});
		},
		delete(key) {
			write(conf, () => {
				conf.delete(key);
			});
		},
	};
}

/** The file's text, or undefined when it cannot be read as a file (missing, a directory, no access). */
function readText(file: string): string | undefined {
	try {
		return readFileSync(file, 'utf8');
	} catch {
		return undefined;
	}
}

function write(conf: Conf<Settings>, change: () => void): void {
	try {
		change();
	} catch (error) {
		throw new MxdashError('bad-config', `cannot write the config file ${conf.path}: ${(error as Error).message}`);
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
