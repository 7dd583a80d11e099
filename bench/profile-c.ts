// Temporary: scenario C only, for --cpu-prof of the main thread.
import {defaultLimits} from '../source/core/limits.js';
import {loadUi} from './dashboard.js';
import {startEngine} from './engine.js';
import {startFarm} from './farm.js';
import {describe} from './report.js';
import {withDashboard} from './scenarios.js';
import type {Context} from './scenarios.js';
import {concurrency, ehloName, layout, mailFrom, rcptTo, readPem, roundTimeoutMs} from './setup.js';

const {domains, hosts} = layout();
const ca = [readPem('root-ca')];
const ui = await loadUi();
const farm = await startFarm();
const round: Context['round'] = {version: 'bench', resolvers: farm.resolvers, port: 25, ports: farm.ports, ehloName, relay: 'basic', mailFrom, rcptTo, ca, concurrency, warnDays: 21, limits: defaultLimits};
const engine = startEngine(round, roundTimeoutMs);
await engine.ready();
const context: Context = {domains, addresses: hosts.length, serverPids: farm.pids, ui, engine, round};
for (let i = 0; i < Number(process.env['ROUNDS'] ?? 2); i++) {
	process.stdout.write(`${describe(await withDashboard(context, 'C'))}\n`);
}

await engine.stop();
await farm.stop();
