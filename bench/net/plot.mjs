// Draws bench/net/last-run.json (written by `npm run bench -- --net`) as an SVG bar chart:
// each row's measured ratio beside its target. No dependency: the SVG is written by hand.
// Usage: node bench/net/plot.mjs [out.svg]   (default media/bench-net.svg)
import {readFileSync, writeFileSync} from 'node:fs';
import process from 'node:process';
import {URL} from 'node:url';

const input = new URL('last-run.json', import.meta.url);
const output = process.argv[2] ?? new URL('../../media/bench-net.svg', import.meta.url);
const {date, rtt, rows: all} = JSON.parse(readFileSync(input, 'utf8'));
// A row without a number (no samples) or without a target (printed only) has no bar.
const rows = all.filter(row => Number.isFinite(row.ratio) && Number.isFinite(row.target));

const escape = text => String(text).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const labelWidth = 330;
const barWidth = 420;
const rowHeight = 34;
const top = 56;
const scaleMax = Math.max(2, ...rows.map(row => Math.min(row.ratio, 4)), ...rows.map(row => row.target)) * 1.05;
const x = value => labelWidth + ((Math.min(value, scaleMax) / scaleMax) * barWidth);
const width = labelWidth + barWidth + 90;
const height = top + (rows.length * rowHeight) + 40;

const parts = [
	`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">`,
	`<rect width="${width}" height="${height}" fill="white"/>`,
	`<text x="12" y="22" font-size="15" font-weight="bold">mxdash over a ${rtt.toFixed(1)} ms RTT link: measured ratio vs target (lower is better)</text>`,
	`<text x="12" y="42" fill="#555">${escape(date)} · bar: measured · black tick: target · green ✓ within, red ✗ over</text>`,
];
for (const [index, row] of rows.entries()) {
	const y = top + (index * rowHeight);
	const ok = row.ratio <= row.target;
	parts.push(
		`<text x="12" y="${y + 20}">${escape(row.what)}</text>`,
		`<rect x="${labelWidth}" y="${y + 6}" width="${(x(row.ratio) - labelWidth).toFixed(1)}" height="20" fill="${ok ? '#4caf50' : '#e57373'}"/>`,
		`<line x1="${x(row.target).toFixed(1)}" x2="${x(row.target).toFixed(1)}" y1="${y + 2}" y2="${y + 30}" stroke="black" stroke-width="2"/>`,
		`<text x="${(x(Math.min(row.ratio, scaleMax)) + 6).toFixed(1)}" y="${y + 21}">${row.ratio.toFixed(2)} ${ok ? '✓' : '✗'} (≤ ${row.target})</text>`,
	);
}

const axisY = top + (rows.length * rowHeight) + 8;
for (let tick = 0; tick <= scaleMax; tick += 0.5) {
	parts.push(`<line x1="${x(tick)}" x2="${x(tick)}" y1="${top}" y2="${axisY}" stroke="#ddd"/>`, `<text x="${x(tick)}" y="${axisY + 16}" text-anchor="middle" fill="#555">${tick.toFixed(1)}</text>`);
}

parts.push('</svg>');
// Grid lines go under the bars: move them before the rows.
const grid = parts.filter(part => part.includes('stroke="#ddd"') || part.includes('text-anchor="middle"'));
const rest = parts.filter(part => !grid.includes(part));
writeFileSync(output, `${[...rest.slice(0, 4), ...grid, ...rest.slice(4)].join('\n')}\n`);
process.stdout.write(`wrote ${output instanceof URL ? output.pathname : output}\n`);
