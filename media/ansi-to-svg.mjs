#!/usr/bin/env node
// Turns a terminal capture (`tmux capture-pane -e -p`: text with SGR colour codes) into an SVG
// for the README. Plain Node, no dependencies.
//
//   node media/ansi-to-svg.mjs capture.ans out.svg [--cols 80] [--rows 24] [--title TEXT]
//
// Every character is taken as one cell wide (true of what mxdash draws). Each run of cells
// with the same style becomes one <tspan> placed at its column, so the grid stays aligned
// whatever the font's advance width.
import {readFileSync, writeFileSync} from 'node:fs';
import process from 'node:process';
import {pathToFileURL} from 'node:url';

const cell = {width: 8.4, height: 18, font: 14};
const padding = 14;
const background = '#1b1e24';
const foreground = '#d7dae0';

// Standard then bright colours (30-37, 90-97; 40-47, 100-107), tuned for a dark background.
const palette = [
	'#3b4048', '#e06c75', '#98c379', '#e5c07b', '#61afef', '#c678dd', '#56b6c2', '#d7dae0',
	'#7f848e', '#ff7b86', '#b5e890', '#ffd68a', '#8cc8ff', '#e09cf0', '#7fd4df', '#ffffff',
];

function color256(index) {
	if (index < 16) {
		return palette[index];
	}

	if (index < 232) {
		const steps = [0, 95, 135, 175, 215, 255];
		const value = index - 16;
		return hex(steps[Math.floor(value / 36)], steps[Math.floor(value / 6) % 6], steps[value % 6]);
	}

	const grey = 8 + ((index - 232) * 10);
	return hex(grey, grey, grey);
}

function hex(red, green, blue) {
	return `#${[red, green, blue].map(value => Math.max(0, Math.min(255, value)).toString(16).padStart(2, '0')).join('')}`;
}

const plain = () => ({fg: undefined, bg: undefined, bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false});

/** Applies one SGR parameter list to the style; unknown codes are ignored. */
function applySgr(style, text) {
	const codes = text === '' ? [0] : text.split(/[;:]/).map(code => (code === '' ? 0 : Number(code)));
	for (let index = 0; index < codes.length; index++) {
		const code = codes[index];
		if (code === 0) {
			Object.assign(style, plain());
		} else if (code === 1) {
			style.bold = true;
		} else if (code === 2) {
			style.dim = true;
		} else if (code === 3) {
			style.italic = true;
		} else if (code === 4) {
			style.underline = true;
		} else if (code === 7) {
			style.inverse = true;
		} else if (code === 9) {
			style.strike = true;
		} else if (code === 22) {
			style.bold = false;
			style.dim = false;
		} else if (code === 23) {
			style.italic = false;
		} else if (code === 24) {
			style.underline = false;
		} else if (code === 27) {
			style.inverse = false;
		} else if (code === 29) {
			style.strike = false;
		} else if (code >= 30 && code <= 37) {
			style.fg = palette[code - 30];
		} else if (code >= 90 && code <= 97) {
			style.fg = palette[code - 90 + 8];
		} else if (code === 39) {
			style.fg = undefined;
		} else if (code >= 40 && code <= 47) {
			style.bg = palette[code - 40];
		} else if (code >= 100 && code <= 107) {
			style.bg = palette[code - 100 + 8];
		} else if (code === 49) {
			style.bg = undefined;
		} else if (code === 38 || code === 48) {
			const key = code === 38 ? 'fg' : 'bg';
			if (codes[index + 1] === 5) {
				style[key] = color256(codes[index + 2] ?? 0);
				index += 2;
			} else if (codes[index + 1] === 2) {
				style[key] = hex(codes[index + 2] ?? 0, codes[index + 3] ?? 0, codes[index + 4] ?? 0);
				index += 4;
			}
		}
	}
}

/** Splits the capture into lines of styled runs; the style carries over line ends, as in tmux's output. */
export function parse(input) {
	const style = plain();
	const lines = [];
	for (const raw of input.replace(/\r/g, '').replace(/\n$/, '').split('\n')) {
		const runs = [];
		let column = 0;
		let text = '';
		let start = 0;
		const flush = () => {
			if (text) {
				runs.push({column: start, text, style: {...style}});
			}

			text = '';
			start = column;
		};

		// CSI … final byte, OSC … BEL/ST, other two-byte escapes, or one character.
		const tokens = raw.match(/\u001B\[[0-?]*[ -/]*[@-~]|\u001B\][^\u0007\u001B]*(?:\u0007|\u001B\\)?|\u001B[@-Z\\-_]|[^\u001B]|\u001B/gu) ?? [];
		for (const token of tokens) {
			if (token.startsWith('\u001B')) {
				const sgr = /^\u001B\[([\d;:]*)m$/.exec(token);
				if (sgr) {
					flush();
					applySgr(style, sgr[1]);
				}

				continue;
			}

			text += token;
			column++;
		}

		flush();
		lines.push({runs, columns: column});
	}

	return lines;
}

function escapeXml(text) {
	// Characters XML 1.0 forbids become U+FFFD so the file always parses.
	return text
		.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
		.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
		.replaceAll('&', '&amp;')
		.replaceAll('<', '&lt;')
		.replaceAll('>', '&gt;')
		.replaceAll('"', '&quot;')
		.replaceAll('\'', '&apos;');
}

const number = value => Number(value.toFixed(2)).toString();

/** The SVG of a parsed capture: a dark window with one <text> per line and one <tspan> per run. */
export function toSvg(lines, {cols, rows, title} = {}) {
	const width = cols ?? Math.max(1, ...lines.map(line => line.columns));
	const height = rows ?? lines.length;
	const top = padding + (title ? cell.height + 6 : 0);
	const svgWidth = (width * cell.width) + (2 * padding);
	const svgHeight = top + (height * cell.height) + padding;
	const out = [
		'<?xml version="1.0" encoding="UTF-8"?>',
		`<svg xmlns="http://www.w3.org/2000/svg" width="${number(svgWidth)}" height="${number(svgHeight)}" viewBox="0 0 ${number(svgWidth)} ${number(svgHeight)}" role="img"${title ? ` aria-label="${escapeXml(title)}"` : ''}>`,
		'<style>text{font-family:"DejaVu Sans Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:' + cell.font + 'px;white-space:pre}</style>',
		`<rect width="100%" height="100%" rx="8" fill="${background}"/>`,
	];
	if (title) {
		out.push(`<text x="${number(svgWidth / 2)}" y="${padding + 12}" fill="#7f848e" text-anchor="middle">${escapeXml(title)}</text>`);
	}

	const backgrounds = [];
	const texts = [];
	for (const [row, line] of lines.slice(0, height).entries()) {
		const y = top + (row * cell.height);
		const spans = [];
		for (const run of line.runs) {
			const {style} = run;
			const chars = [...run.text];
			let fg = style.fg ?? foreground;
			let bg = style.bg;
			if (style.inverse) {
				[fg, bg] = [bg ?? background, fg];
			}

			const visibleColumns = Math.min(chars.length, Math.max(0, width - run.column));
			if (bg && visibleColumns > 0) {
				backgrounds.push(`<rect x="${number(padding + (run.column * cell.width))}" y="${number(y)}" width="${number(visibleColumns * cell.width)}" height="${cell.height}" fill="${bg}"/>`);
			}

			const text = chars.slice(0, visibleColumns).join('');
			if (text.trim() === '') {
				continue;
			}

			const attributes = [`x="${number(padding + (run.column * cell.width))}"`, `fill="${fg}"`];
			if (style.bold) {
				attributes.push('font-weight="bold"');
			}

			if (style.dim) {
				attributes.push('fill-opacity="0.6"');
			}

			if (style.italic) {
				attributes.push('font-style="italic"');
			}

			const decorations = [style.underline ? 'underline' : '', style.strike ? 'line-through' : ''].filter(Boolean);
			if (decorations.length > 0) {
				attributes.push(`text-decoration="${decorations.join(' ')}"`);
			}

			spans.push(`<tspan ${attributes.join(' ')}>${escapeXml(text)}</tspan>`);
		}

		if (spans.length > 0) {
			// The baseline sits about three quarters down the cell.
			texts.push(`<text y="${number(y + (cell.height * 0.75))}" xml:space="preserve">${spans.join('')}</text>`);
		}
	}

	out.push(...backgrounds, ...texts, '</svg>', '');
	return out.join('\n');
}

function main(argv) {
	const positional = [];
	const options = {};
	for (let index = 0; index < argv.length; index++) {
		const argument = argv[index];
		if (argument === '--cols' || argument === '--rows') {
			options[argument.slice(2)] = Number(argv[++index]);
		} else if (argument === '--title') {
			options.title = argv[++index];
		} else {
			positional.push(argument);
		}
	}

	const [input, output] = positional;
	if (!input || !output || Number.isNaN(options.cols ?? 0) || Number.isNaN(options.rows ?? 0)) {
		process.stderr.write('usage: node media/ansi-to-svg.mjs capture.ans out.svg [--cols N] [--rows N] [--title TEXT]\n');
		return 2;
	}

	writeFileSync(output, toSvg(parse(readFileSync(input, 'utf8')), options));
	return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	process.exitCode = main(process.argv.slice(2));
}
