// The server side of one line-based connection (SMTP), shared by every scripted peer: it splits
// what the client sends into lines, remembers in which read and whether inside TLS each came,
// starts TLS on the socket as it stands, and lets a script wait for the next line, bounded.
// What a server answers is not decided here: the demo's SMTP server, the tests' scripted and
// hostile servers each build their behaviour on top.
import type net from 'node:net';
import tls from 'node:tls';

export type ClientLine = {
	/** The line without its LF (and CR), each byte as one latin1 character. */
	text: string;
	/** The number of the read that completed it, from 1. */
	chunk: number;
	tls: boolean;
	/** performance.now() when it arrived. */
	at: number;
};

export type LineSocketOptions = {
	/** The longest unfinished line kept; see `onOverlong`. */
	maxLineBytes?: number;
	/** Handle each read this long after it arrives: a stand-in for network latency. */
	readDelayMs?: number;
	/** Call `onIdle` after this long without a read, before TLS and inside it. */
	idleMs?: number;
};

export type LineSocketHooks = {
	/** Each read of the client's bytes before it is split into lines; false drops it. */
	onChunk?(chunk: Buffer): boolean;
	/** Each complete line, once queued. */
	onLine?(line: ClientLine): void;
	/** The unfinished line grew past maxLineBytes. Without this hook only its last maxLineBytes are kept. */
	onOverlong?(): void;
	onIdle?(): void;
	onTlsError?(error: Error): void;
};

/** A client must never send an endless line; past this, what is kept of one is bounded. */
const defaultMaxLineBytes = 65_536;

export class LineSocket {
	readonly raw: net.Socket;
	/** The socket lines are read from and written to: the raw one, or TLS once started. */
	socket: net.Socket;
	secure = false;
	/** Reads of the client's bytes split so far (held ones not counted). */
	chunks = 0;
	/** The client has sent its FIN. */
	ended = false;
	/** The TCP connection is gone (closed, reset, or failed). */
	closed = false;
	/** Lines received and not yet taken. */
	readonly pending: ClientLine[] = [];
	private partial = '';
	private holding = false;
	private held: Buffer[] = [];
	private readonly waiters = new Set<() => void>();
	private readonly timers = new Set<NodeJS.Timeout>();
	private readonly maxLineBytes: number;

	constructor(raw: net.Socket, private readonly options: LineSocketOptions = {}, private readonly hooks: LineSocketHooks = {}) {
		this.raw = raw;
		this.socket = raw;
		this.maxLineBytes = options.maxLineBytes ?? defaultMaxLineBytes;
		raw.on('data', this.onData);
		raw.on('end', () => {
			this.ended = true;
			this.wake();
		});
		raw.on('error', () => {
			this.closed = true;
			this.wake();
		});
		raw.once('close', () => {
			this.closed = true;
			for (const timer of this.timers) {
				clearTimeout(timer);
			}

			this.timers.clear();
			this.wake();
		});
		if (options.idleMs !== undefined) {
			raw.setTimeout(options.idleMs, () => this.hooks.onIdle?.());
		}
	}

	/** The client ended or closed the connection: no more lines will come. */
	get over(): boolean {
		return this.ended || this.closed;
	}

	/** Write on the current socket (plain, or TLS once started); false when it can take no more. */
	write(data: string | Buffer): boolean {
		return this.put(this.socket, data);
	}

	/** Write on the raw TCP socket, whatever the TLS state (for injections under TLS). */
	writeRaw(data: string | Buffer): boolean {
		return this.put(this.raw, data);
	}

	/** The oldest line not yet taken. */
	takeLine(): ClientLine | undefined {
		return this.pending.shift();
	}

	/** The next line, or undefined once the client is done or after `ms`. */
	async nextLine(ms: number): Promise<ClientLine | undefined> {
		await this.waitFor(() => this.pending.length > 0, ms);
		return this.pending.shift();
	}

	/** Wait until `ready()`, the client is done, or `ms` have passed; true when ready. */
	async waitFor(ready: () => boolean, ms: number): Promise<boolean> {
		const deadline = performance.now() + ms;
		while (!ready()) {
			const left = deadline - performance.now();
			if (this.over || left <= 0) {
				return ready();
			}

			await new Promise<void>(resolve => {
				const done = (): void => {
					clearTimeout(timer);
					this.waiters.delete(done);
					resolve();
				};

				const timer = setTimeout(done, left);
				this.waiters.add(done);
			});
		}

		return true;
	}

	/** Drop the lines not yet taken and the unfinished one (after STARTTLS, RFC 3207 §4.2; on hanging up). */
	discard(): void {
		this.pending.length = 0;
		this.partial = '';
	}

	/** Stop splitting lines and keep the client's next bytes as they come (its ClientHello), for `startTls`. */
	hold(): void {
		if (this.holding) {
			return;
		}

		this.holding = true;
		this.raw.removeListener('data', this.onData);
		this.raw.on('data', this.onHeld);
	}

	/** The first read kept since `hold()`, or undefined after `ms`. */
	async peekHeld(ms: number): Promise<Buffer | undefined> {
		await this.waitFor(() => this.held.length > 0, ms);
		return this.held[0];
	}

	/**
	 * Become the TLS server on the socket as it stands, held bytes included. The unfinished
	 * clear-text line is dropped: it cannot go on inside TLS. Synchronous since the last write,
	 * so no client byte is read in between.
	 */
	startTls(options: tls.TLSSocketOptions): tls.TLSSocket {
		this.raw.removeListener('data', this.onData);
		this.raw.removeListener('data', this.onHeld);
		if (this.held.length > 0) {
			this.raw.unshift(Buffer.concat(this.held));
			this.held = [];
		}

		const upgraded = new tls.TLSSocket(this.raw, {...options, isServer: true});
		upgraded.on('error', error => this.hooks.onTlsError?.(error));
		upgraded.on('data', this.onData);
		if (this.options.idleMs !== undefined) {
			this.raw.setTimeout(0);
			upgraded.setTimeout(this.options.idleMs, () => this.hooks.onIdle?.());
		}

		this.socket = upgraded;
		this.secure = true;
		this.partial = '';
		return upgraded;
	}

	/** Run `action` after `ms`, unless the connection is gone by then. */
	later(ms: number, action: () => void): void {
		const timer = setTimeout(() => {
			this.timers.delete(timer);
			if (!this.closed) {
				action();
			}
		}, ms);
		this.timers.add(timer);
	}

	private put(target: net.Socket, data: string | Buffer): boolean {
		if (this.closed || target.destroyed || target.writableEnded) {
			return false;
		}

		// A string goes out as UTF-8, as net.Socket writes it; a server that means bytes passes a Buffer.
		target.write(data);
		return true;
	}

	private wake(): void {
		for (const waiter of [...this.waiters]) {
			waiter();
		}
	}

	private readonly onData = (chunk: Buffer): void => {
		const delay = this.options.readDelayMs ?? 0;
		if (delay <= 0) {
			this.take(chunk);
			return;
		}

		const from = this.socket;
		this.later(delay, () => {
			// Read in the clear but due after STARTTLS: dropped, as the upgrade drops the rest.
			if (this.socket === from) {
				this.take(chunk);
			}
		});
	};

	private readonly onHeld = (chunk: Buffer): void => {
		this.held.push(chunk);
		this.wake();
	};

	private take(chunk: Buffer): void {
		if (this.hooks.onChunk && !this.hooks.onChunk(chunk)) {
			return;
		}

		this.chunks++;
		const secure = this.secure;
		this.partial += chunk.toString('latin1');
		// A hook may discard the rest (a STARTTLS answered, a hang-up): then the loop ends.
		let newline = this.partial.indexOf('\n');
		while (newline !== -1) {
			const line = {text: this.partial.slice(0, newline).replace(/\r$/, ''), chunk: this.chunks, tls: secure, at: performance.now()};
			this.partial = this.partial.slice(newline + 1);
			this.pending.push(line);
			this.hooks.onLine?.(line);
			newline = this.partial.indexOf('\n');
		}

		if (this.partial.length > this.maxLineBytes) {
			if (this.hooks.onOverlong) {
				this.hooks.onOverlong();
			} else {
				this.partial = this.partial.slice(-this.maxLineBytes);
			}
		}

		this.wake();
	}
}
