/** A round to run: all domains, or only some probe keys. Resolves when the round is over. */
export type RoundRunner = (request: {only?: string[]}) => Promise<void>;

export type WatchState = {running: boolean; nextAt?: number; rounds: number};

/**
 * Runs rounds now and then every `intervalMs` (none when undefined). A round never overlaps
 * the previous one: a request during a round runs after it, and requests made meanwhile are
 * merged into one.
 */
export class Watch {
	private timer: NodeJS.Timeout | undefined;
	private pending: {only?: string[]} | undefined;
	private current: Promise<void> | undefined;
	private stopped = false;
	state: WatchState = {running: false, rounds: 0};

	constructor(private readonly run: RoundRunner, private readonly intervalMs: number | undefined, private readonly onChange: (state: WatchState) => void = () => undefined) {}

	/** Ask for a round now; `only` narrows it to some probe keys. */
	request(only?: string[]): void {
		if (this.stopped) {
			return;
		}

		const merged = this.pending === undefined ? {...(only ? {only} : {})} : mergeRequests(this.pending, only);
		this.pending = merged;
		if (!this.current) {
			void this.next();
		}
	}

	stop(): void {
		this.stopped = true;
		clearTimeout(this.timer);
		this.pending = undefined;
	}

	private async next(): Promise<void> {
		const request = this.pending;
		if (!request || this.stopped) {
			return;
		}

		this.pending = undefined;
		clearTimeout(this.timer);
		this.update({running: true, rounds: this.state.rounds});
		this.current = this.run(request).catch(() => undefined);
		await this.current;
		this.current = undefined;
		const rounds = this.state.rounds + 1;
		if (this.stopped) {
			this.update({running: false, rounds});
			return;
		}

		if (this.pending) {
			this.update({running: false, rounds});
			void this.next();
			return;
		}

		if (this.intervalMs === undefined) {
			this.update({running: false, rounds});
			return;
		}

		const nextAt = Date.now() + this.intervalMs;
		this.timer = setTimeout(() => {
			this.request();
		}, this.intervalMs);
		this.update({running: false, nextAt, rounds});
	}

	private update(state: WatchState): void {
		this.state = state;
		this.onChange(state);
	}
}

function mergeRequests(pending: {only?: string[]}, only: string[] | undefined): {only?: string[]} {
	// A full round covers any narrower one.
	if (!pending.only || !only) {
		return {};
	}

	return {only: [...new Set([...pending.only, ...only])]};
}
