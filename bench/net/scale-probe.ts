// Loaded into the scale run's mxdash process with `node --import` (the CLI itself unchanged):
// at exit it writes that process's own CPU time, peak RSS and event-loop delay to the file
// named by MXDASH_SCALE_STATS. Nothing else: the process runs exactly as a user's would.
import {writeFileSync} from 'node:fs';
import {monitorEventLoopDelay, performance} from 'node:perf_hooks';
import process from 'node:process';

/** The histogram's timer period: its samples are this plus the loop's delay. */
export const loopResolutionMs = 10;

/** `rss`: [epoch ms, RSS MB, CPU ms so far] every rssEveryMs, to tell the round's cost from the report's. */
export type ScaleStats = {cpuUserUs: number; cpuSystemUs: number; maxRssKb: number; loop: {p50: number; p99: number; max: number}; utilisation: number; rss: Array<[number, number, number]>};

const rssEveryMs = 250;

const file = process.env['MXDASH_SCALE_STATS'];
if (file) {
	const delay = monitorEventLoopDelay({resolution: loopResolutionMs});
	delay.enable();
	const rss: Array<[number, number, number]> = [];
	setInterval(() => {
		const {user, system} = process.cpuUsage();
		rss.push([Date.now(), process.memoryUsage.rss() / 1024 / 1024, (user + system) / 1000]);
	}, rssEveryMs).unref();
	process.once('exit', () => {
		delay.disable();
		const cpu = process.cpuUsage();
		const ms = (ns: number) => ns / 1e6;
		const stats: ScaleStats = {
			cpuUserUs: cpu.user,
			cpuSystemUs: cpu.system,
			maxRssKb: process.resourceUsage().maxRSS,
			loop: {p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max)},
			utilisation: performance.eventLoopUtilization().utilization,
			rss,
		};
		writeFileSync(file, JSON.stringify(stats));
	});
}
