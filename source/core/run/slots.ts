/** A counting semaphore: at most `size` holders at once. */
export class Slots {
	private free: number;
	private readonly waiting: Array<() => void> = [];

	constructor(size: number) {
		this.free = Math.max(1, size);
	}

	async run<T>(task: () => Promise<T>): Promise<T> {
		if (this.free > 0) {
			this.free--;
		} else {
			await new Promise<void>(resolve => {
				this.waiting.push(resolve);
			});
		}

		try {
			return await task();
		} finally {
			const next = this.waiting.shift();
			if (next) {
				next();
			} else {
				this.free++;
			}
		}
	}
}
