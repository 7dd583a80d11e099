import os from 'node:os';
import path from 'node:path';
import Conf from 'conf';
import {MxdashError} from './core/errors.js';
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
};

export const settingKeys = ['resolvers', 'ehloName', 'mailFrom', 'rcptTo', 'relay', 'timeout', 'concurrency', 'warnDays', 'port', 'domains', 'interval'] as const;
export type SettingKey = (typeof settingKeys)[number];

const listKeys = new Set<SettingKey>(['resolvers', 'domains']);
const numberKeys = new Set<SettingKey>(['timeout', 'concurrency', 'warnDays', 'port', 'interval']);

export type Store = {path: string; settings: Settings; set(key: SettingKey, value: string): void; delete(key: SettingKey): void};

/** Open the per-user settings; a corrupt or unreadable file is reported with its path, never overwritten. */
export function openStore(directory = process.env.MXDASH_CONFIG_DIR ?? path.join(process.env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'mxdash')): Store {
	let conf: Conf<Settings>;
	try {
		conf = new Conf<Settings>({projectName: 'mxdash', cwd: directory, clearInvalidConfig: false});
	} catch (error) {
		const file = path.join(directory, 'config.json');
		throw new MxdashError('bad-config', `cannot read the config file (${file}): ${(error as Error).message.split('\n')[0] ?? ''}; fix or remove it`);
	}

	const settings = conf.store;
	for (const key of Object.keys(settings)) {
		checkType(key, settings[key as SettingKey], conf.path);
	}

	return {
		path: conf.path,
		settings,
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

function write(conf: Conf<Settings>, change: () => void): void {
	try {
		change();
	} catch (error) {
		throw new MxdashError('bad-config', `cannot write the config file ${conf.path}: ${(error as Error).message}`);
	}
}

function checkType(key: string, value: unknown, path: string): void {
	const known = (settingKeys as readonly string[]).includes(key);
	const ok = !known
		|| (listKeys.has(key as SettingKey) ? Array.isArray(value) && value.every(item => typeof item === 'string')
			: (numberKeys.has(key as SettingKey) ? typeof value === 'number' && Number.isFinite(value) : typeof value === 'string'));
	if (!ok) {
		throw new MxdashError('bad-config', `the config file ${path} has a bad value for "${key}"; fix it or run: mxdash config unset ${key}`);
	}
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
