import {keymap} from './keymap.js';
import type {Line} from './panes.js';

/** The `?` help: the keymap, so it cannot drift from the keys. */
export const helpLines: Line[] = [{text: 'Keys (↑↓ scroll, any other key closes)', bold: true}, ...keymap.map(binding => ({text: `  ${binding.keys.padEnd(12)} ${binding.description}`}))];
