// Temporary: the Ink output step's cost per frame on the saved round (FRAMES of profile-c), idle.
import {readFileSync} from 'node:fs';
import {performance} from 'node:perf_hooks';
import {setTimeout as sleep} from 'node:timers/promises';
import type {MonitorEvent} from '../source/core/run/monitor.js';
import {loadUi, mountDashboard} from './dashboard.js';
import {layout} from './setup.js';

const {domains} = layout();
const ui = await loadUi();
const events = JSON.parse(readFileSync('/tmp/uiprof/events.json', 'utf8')) as MonitorEvent[];
const store = new ui.Store(domains.map(domain => ({domain, input: domain})));
for (const event of events) {
	store.apply(event);
}

store.flush();
const dashboard = await mountDashboard(ui, domains, store);
const keys: number[] = [];
const ink: number[] = [];
const cpu: number[] = [];
for (let index = 0; index < Number(process.env['N'] ?? 60); index++) {
	await sleep(80);
	const before = dashboard.inkMs();
	const used = process.cpuUsage();
	const t = performance.now();
	const ms = await dashboard.press(index % 2 === 0 ? 'j' : 'k');
	cpu.push((process.cpuUsage(used).user + process.cpuUsage(used).system) / 1000);
	void t;
	keys.push(ms ?? Number.NaN);
	ink.push(dashboard.inkMs() - before);
}

await dashboard.close();
const med = (values: number[]): string => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!.toFixed(1);
process.stdout.write(`key→frame p50 ${med(keys)} ms, Ink output p50 ${med(ink)} ms, cpu p50 ${med(cpu)} ms\n`);
