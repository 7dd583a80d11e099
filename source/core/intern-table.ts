/**
 * One value kept per distinct key, made on first use: a provider's addresses say the same
 * banner, EHLO and replies, and a copy of each per session was most of a large round's memory.
 * Values are never changed once made. Bounded: past `limit` keys the table starts again.
 */
export class InternTable<V> {
	private readonly values = new Map<string, V>();

	constructor(private readonly limit: number) {}

	get(key: string, make: () => V): V {
		let value = this.values.get(key);
		if (value === undefined) {
			value = make();
			if (this.values.size >= this.limit) {
				this.values.clear();
			}

			this.values.set(key, value);
		}

		return value;
	}
}
