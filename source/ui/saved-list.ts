/**
 * The saved domain list (conf's `domains`) as `a` and `d` change it. The dashboard's rows are
 * not the saved list: `mxdash a.test` shows a.test whatever is saved, so each change reads the
 * list as stored and adds or removes just the one entry, never writing the view back.
 */
export type SavedList = {
	/** The list as stored now (read afresh: another mxdash may have changed it). */
	read: () => string[];
	/** Returns an error message, or undefined when written. */
	write: (domains: string[]) => string | undefined;
};

/** Add one domain to the saved list; an error message, or undefined. */
export function addToSaved(saved: SavedList | undefined, domain: string): string | undefined {
	if (!saved) {
		return undefined;
	}

	try {
		const list = saved.read();
		return list.includes(domain) ? undefined : saved.write([...list, domain]);
	} catch (error) {
		return (error as Error).message;
	}
}

/** Remove one domain from the saved list (nothing is written when it is not there). */
export function removeFromSaved(saved: SavedList | undefined, domain: string): string | undefined {
	if (!saved) {
		return undefined;
	}

	try {
		const list = saved.read();
		return list.includes(domain) ? saved.write(list.filter(item => item !== domain)) : undefined;
	} catch (error) {
		return (error as Error).message;
	}
}

/** Where a domain stands: `none` when nothing is saved (--demo). */
export type SavedStatus = 'saved' | 'unsaved' | 'none' | 'unreadable';

export function savedStatus(saved: SavedList | undefined, domain: string): SavedStatus {
	if (!saved) {
		return 'none';
	}

	try {
		return saved.read().includes(domain) ? 'saved' : 'unsaved';
	} catch {
		return 'unreadable';
	}
}

/** The remove question, saying what y changes. */
export function removalQuestion(domain: string, status: SavedStatus): string {
	const notes: Record<SavedStatus, string> = {
		saved: ' and the saved list?',
		unsaved: '? (it is not on the saved list)',
		none: '? (nothing is saved with --demo)',
		unreadable: '? (the saved list cannot be read)',
	};
	return `Remove ${domain} from this view${notes[status]}`;
}

/** What the add prompt says an added domain becomes. */
export function addNote(saving: boolean): string {
	return saving ? 'adds to this view and the saved list' : 'adds to this view only: nothing is saved with --demo';
}
