// Temporary: scenario C only, for --cpu-prof of the main thread; FRAMES=1: the frame cost only, from saved events.
import {readFileSync, writeFileSync} from 'node:fs';
import {defaultLimits} from '../source/core/limits.js';
import type {MonitorEvent} from '../source/core/run/monitor.js';
import {loadUi} from './dashboard.js';
import {startEngine} from './engine.js';
import {startFarm} from './farm.js';
import {describe} from './report.js';
import {frameCost, withDashboard} from './scenarios.js';
import type {Context} from './scenarios.js';
import {concurrency, ehloName, layout, mailFrom, rcptTo, readPem, roundTimeoutMs} from './setup.js';

const {domains, hosts} = layout();
const ui = await loadUi();
const file = '/tmp/uiprof/events.json';
if (process.env['FRAMES']) {
	const events = JSON.parse(readFileSync(file, 'utf8')) as MonitorEvent[];
	for (const size of [20, 200, 20, 200]) {
		const times = (await frameCost(ui, events, domains.slice(0, size), hosts, 30)).ms.sort((a, b) => a - b);
		process.stdout.write(`${size}: p50 ${times[15]?.toFixed(1)} max ${times.at(-1)?.toFixed(1)}\n`);
	}
} else {
	const ca = [readPem('root-ca')];
	const farm = await startFarm();
	const round: Context['round'] = {version: 'bench', resolvers: farm.resolvers, port: 25, ports: farm.ports, ehloName, relay: 'basic', mailFrom, rcptTo, ca, concurrency, warnDays: 21, limits: defaultLimits};
	const engine = startEngine(round, roundTimeoutMs);
	await engine.ready();
	const context: Context = {domains, addresses: hosts.length, serverPids: farm.pids, ui, engine, round};
	for (let i = 0; i < Number(process.env['ROUNDS'] ?? 2); i++) {
		const result = await withDashboard(context, 'C');
		const keys = [...result.keys ?? []].sort((a, b) => a - b);
		process.stdout.write(`${describe(result)} keys p50 ${keys[Math.floor(keys.length / 2)]?.toFixed(1)} p95 ${keys[Math.floor(keys.length * 0.95)]?.toFixed(1)}\n`);
	}

	if (process.env['RECORD']) {
		writeFileSync(file, JSON.stringify(context.recorded));
	}

	await engine.stop();
	await farm.stop();
}
