import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {InternTable} from '../core/intern-table.js';

/**
 * Ink (6.8) turns each line it writes into styled characters (ansi-tokenize: a grapheme
 * segmenter and an object per character) and measures each character, with caches that live
 * for one frame (build/output.js, OutputCaches): at 160×60 that was half of a frame's CPU,
 * though most lines are the same as the frame before. Both are pure functions of the string,
 * and Ink only reads what they return, so here they are kept across frames: same output, and
 * a line that did not change costs a Map lookup. Bounded: a cache is emptied when full.
 *
 * Ink does not export the class, so it is reached by its file next to Ink's entry (Ink stays
 * in node_modules: rolldown.config.js). Another shape (another Ink) leaves Ink as it is:
 * `inkCachesKept` says whether it took (a test holds it true for the Ink we ship).
 */
const limit = 4000;

type Method = (this: unknown, key: string) => unknown;

function remembered(compute: Method): Method {
	const cache = new InternTable<unknown>(limit);
	return function (this: unknown, key: string) {
		return cache.get(key, () => compute.call(this, key));
	};
}

async function keepInkCaches(): Promise<boolean> {
	try {
		const entry = createRequire(import.meta.url).resolve('ink');
		const module = await import(pathToFileURL(join(dirname(entry), 'output.js')).href) as {default?: new (options: {width: number; height: number}) => {caches?: object}};
		const caches = module.default ? new module.default({width: 0, height: 0}).caches : undefined;
		const prototype = caches ? Object.getPrototypeOf(caches) as Record<string, unknown> : undefined;
		const {getStyledChars, getStringWidth} = prototype ?? {};
		if (!prototype || typeof getStyledChars !== 'function' || typeof getStringWidth !== 'function') {
			return false;
		}

		prototype['getStyledChars'] = remembered(getStyledChars as Method);
		prototype['getStringWidth'] = remembered(getStringWidth as Method);
		return true;
	} catch {
		return false;
	}
}

export const inkCachesKept = await keepInkCaches();
