import type {SavedStatus} from './saved-list.js';
import type {TakeAway} from './take-away-io.js';

/** What the dashboard can ask of the engine; the UI itself never probes or diagnoses. */
export type Controller = {
	/** Re-probe these probe keys now. */
	reprobe(keys: string[]): void;
	reprobeAll(): void;
	/** Scan the TLS versions of this probe key (the `t` key); the store shows it scanning meanwhile. */
	scanTls?(key: string): void;
	/** Returns an error message, or undefined when the domain was added. */
	addDomain(input: string): string | undefined;
	/** Removes it from the view, and from the saved list if it is there. */
	removeDomain(domain: string): void;
	/** Whether a domain is on the saved list; absent when nothing is saved (--demo). */
	savedStatus?(domain: string): SavedStatus;
	/** Saving and copying (w, W, y); absent where nothing may be written (test fakes). */
	takeAway?: TakeAway;
	quit(): void;
};
