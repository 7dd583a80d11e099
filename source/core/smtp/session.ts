import type {X509Certificate} from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import {nameCheckCertificate, secureContext, serverNameFor, tlsInfo} from '../tls/inspect.js';
import type {Limits} from '../limits.js';
import {InternTable} from '../intern-table.js';
import {initialState, start, step} from './machine.js';
import type {MachineAction, MachineInput, MachineState} from './machine.js';
import type {TlsVersionName} from '../policy/types.js';
import type {RelayMode} from './relay-variants.js';
import {relayPairs} from './relay-variants.js';
import {ReplyReader} from './reply-reader.js';
import {detectSoftware} from './software.js';
import {decodeBytes} from '../text.js';
import {stageNames} from '../types.js';
import type {Direction, ProbeResult, ProbeTarget, Stage, StageError, StageName, TlsInfo, TranscriptLine} from '../types.js';

/** The events of one session: plain data, so they can cross a worker boundary. */
export type ProbeEventMap = {
	stage: {name: StageName; stage: Stage};
	line: {line: TranscriptLine};
	tls: {info: TlsInfo};
};
export type ProbeEvent = {[K in keyof ProbeEventMap]: {type: K} & ProbeEventMap[K]}[keyof ProbeEventMap];

export type ProbeOptions = {
	ehloName: string;
	relay: RelayMode;
	mailFrom: string;
	rcptTo: string;
	limits: Limits;
	/** Extra trusted roots (PEM), added to Node's. */
	ca?: string[];
	signal?: AbortSignal;
	/** Milliseconds, monotonic; tests may drive it. */
	clock?: () => number;
	now?: () => Date;
	/** Deltas while the session runs; the result is what the promise resolves with. */
	onEvent?: (event: ProbeEvent) => void;
	/** A plaintext retry after a failed TLS handshake: STARTTLS is not tried, even when offered. */
	skipStartTls?: boolean;
	/** A TLS-version scan: STARTTLS offers only this version, and no relay test is made. */
	tlsVersion?: TlsVersionName;
};

const errorCodes: Record<string, StageError> = {
	ECONNREFUSED: 'refused',
	ECONNRESET: 'reset',
	EPIPE: 'reset',
	ENETUNREACH: 'unreachable',
	EHOSTUNREACH: 'unreachable',
	EADDRNOTAVAIL: 'unreachable',
	ENETDOWN: 'unreachable',
	ETIMEDOUT: 'timeout',
};

/**
 * A host as a sender sees it: one session, and after a failed TLS handshake a second one in
 * plaintext, because senders fall back to plaintext then and the relay test must see what they
 * see. The second connection opens only once the first is closed (one per IP at a time); only its
 * relay facts are kept, the TLS failure of the first stays as it was.
 */
export async function probeWithFallback(target: ProbeTarget, options: ProbeOptions): Promise<ProbeResult> {
	const clock = options.clock ?? (() => performance.now());
	const t0 = clock();
	const first = await probe(target, options);
	const {tls: tlsStage} = first.stages;
	// Not after a timeout: a server that stalled the handshake would most likely stall again, and
	// a retry would double the bound on a session's time (the hostile suite guards that bound).
	const handshakeFailed = tlsStage.state === 'done' && tlsStage.outcome === 'failed' && tlsStage.error !== 'aborted' && tlsStage.error !== 'timeout';
	if (!handshakeFailed || options.relay === 'off' || options.skipStartTls || options.signal?.aborted) {
		return first;
	}

	// The second session's times are shifted onto the first's clock: one timeline per host.
	const offset = Math.round((clock() - t0) * 10) / 10;
	const shift = (t: number): number => Math.round((t + offset) * 10) / 10;
	const moved = (line: TranscriptLine): TranscriptLine => ({...line, t: shift(line.t)});
	const movedStage = (stage: Stage): Stage => (stage.startedAt === undefined ? stage : {...stage, startedAt: shift(stage.startedAt)});
	const emit = options.onEvent;
	const marker: TranscriptLine = {t: offset, dir: 'info', text: `TLS handshake failed (${tlsStage.error ?? 'failed'}): a second connection, in plaintext without STARTTLS, for the relay test, as senders fall back`};
	emit?.({type: 'line', line: marker});
	const second = await probe(target, {
		...options,
		skipStartTls: true,
		// Only the relay stage is this session's to tell: the other stages stay the first session's.
		onEvent(event) {
			if (event.type === 'line') {
				emit?.({type: 'line', line: moved(event.line)});
			} else if (event.type === 'stage' && event.name === 'relay') {
				emit?.({type: 'stage', name: 'relay', stage: retried(movedStage(event.stage))});
			}
		},
	});

	const relay = second.relay.tested
		? {...second.relay, plaintextRetry: true}
		: {...second.relay, plaintextRetry: true, reason: `the plaintext retry did not reach the relay test (${second.stages.relay.detail ?? 'not reached'})`};
	return {
		...first,
		ms: shift(second.ms),
		stages: {...first.stages, relay: retried(movedStage(second.stages.relay))},
		relay,
		transcript: [...first.transcript, marker, ...second.transcript.map(moved)].slice(0, options.limits.maxTranscriptLines),
	};
}

function retried(stage: Stage): Stage {
	return stage.detail === undefined ? stage : {...stage, detail: `${stage.detail} (plaintext retry)`};
}

// The lines a provider's addresses all say (banner, EHLO, replies) and ours to them: one copy
// kept for every transcript that has them. Long lines are not kept.
const sharedLines = new InternTable<string>(5000);
const sharedLine = (text: string): string => (text.length > 200 ? text : sharedLines.get(text, () => text));

/** One SMTP session against one address: the I/O driver of the probe state machine. */
export async function probe(target: ProbeTarget, options: ProbeOptions): Promise<ProbeResult> {
	const {limits} = options;
	const clock = options.clock ?? (() => performance.now());
	const startedAt = (options.now ?? (() => new Date()))();
	const t0 = clock();
	const elapsed = (): number => Math.round((clock() - t0) * 10) / 10;
	// No listener (a --json or text run): no event is even made.
	const emit = options.onEvent;
	const transcript: TranscriptLine[] = [];
	let tlsActive = false;
	let injectedBytes: number | undefined;

	const record = (dir: Direction, said: string): void => {
		if (transcript.length >= limits.maxTranscriptLines) {
			return;
		}

		const text = sharedLine(said);
		const line: TranscriptLine = transcript.length === limits.maxTranscriptLines - 1
			? {t: elapsed(), dir: 'info', text: `transcript cut at ${limits.maxTranscriptLines} lines`}
			: {t: elapsed(), dir, text, ...(tlsActive ? {tls: true} : {})};
		transcript.push(line);
		emit?.({type: 'line', line});
	};

	const serverName = target.exchange;
	let state: MachineState = initialState({
		ehloName: options.ehloName,
		relay: relayPairs(options.tlsVersion ? 'off' : options.relay, options.mailFrom, options.rcptTo, serverName, target.ip),
		deadlines: {banner: limits.bannerMs, command: limits.commandMs, tls: limits.tlsMs, quit: limits.quitMs},
		...(options.skipStartTls ? {skipStartTls: true} : {}),
	});

	return new Promise<ProbeResult>(resolve => {
		let socket: net.Socket = new net.Socket();
		let reader = new ReplyReader(limits);
		let stageTimer: NodeJS.Timeout | undefined;
		let finished = false;
		const sessionTimer = setTimeout(() => {
			feed({type: 'failed', at: elapsed(), code: 'timeout', message: `session exceeded ${limits.sessionMs} ms`});
		}, limits.sessionMs);

		const onAbort = (): void => {
			feed({type: 'failed', at: elapsed(), code: 'aborted', message: 'cancelled'});
		};

		options.signal?.addEventListener('abort', onAbort, {once: true});

		// The machine shares what it did not change: a new object is a changed stage.
		const publish = (before: MachineState): void => {
			if (!emit || state.stages === before.stages) {
				return;
			}

			for (const name of stageNames) {
				if (state.stages[name] !== before.stages[name]) {
					emit({type: 'stage', name, stage: state.stages[name]});
				}
			}
		};

		function feed(input: MachineInput): void {
			if (finished) {
				return;
			}

			const before = state;
			const next = step(state, input);
			state = next.state;
			if (state.stages.connect !== before.stages.connect) {
				sayConnect(state.stages.connect);
			}

			publish(before);
			run(next.actions);
		}

		// A failed connect leaves no dialogue to show: the transcript still says what was tried,
		// how it ended and when, so a refused or filtered host is never a blank pane.
		function sayConnect(stage: Stage): void {
			if (stage.state !== 'done' || stage.outcome !== 'failed') {
				return;
			}

			const to = `${target.ip} port ${target.port}`;
			const after = `after ${Math.round(stage.ms ?? elapsed())} ms`;
			const outcomes: Partial<Record<StageError, string>> = {
				refused: `connection to ${to} refused ${after}`,
				timeout: `connection to ${to} timed out ${after}: no answer`,
				unreachable: `${to} unreachable ${after}: ${stage.detail ?? 'no route'}`,
				aborted: `connection to ${to} cancelled ${after}`,
			};
			record('info', outcomes[stage.error ?? 'socket-error'] ?? `connection to ${to} failed ${after}: ${stage.detail ?? stage.error ?? 'unknown error'}`);
		}

		function run(actions: MachineAction[]): void {
			for (const action of actions) {
				switch (action.type) {
					case 'send': {
						for (const line of action.lines) {
							record('client', line);
						}

						if (socket.writable) {
							socket.write(action.lines.map(line => `${line}\r\n`).join(''));
						}

						break;
					}

					case 'deadline': {
						clearTimeout(stageTimer);
						stageTimer = setTimeout(() => {
							feed({type: 'failed', at: elapsed(), code: 'timeout', message: `no answer within ${action.ms} ms`});
						}, action.ms);
						break;
					}

					case 'start-tls': {
						upgrade();
						break;
					}

					case 'close': {
						close();
						break;
					}
				}
			}
		}

		function onData(chunk: Buffer): void {
			// Only replies to commands already sent can be in this read: one more is a leftover
			// that must never pass for the answer to a command the machine sends meanwhile.
			let owed = state.expect.length;
			for (const output of reader.feed(chunk)) {
				if (finished) {
					return;
				}

				if (output.type === 'line') {
					record('server', output.text);
				} else if (output.type === 'error') {
					feed({type: 'failed', at: elapsed(), code: output.code, message: output.message});
				} else if (owed === 0) {
					feed({type: 'failed', at: elapsed(), code: 'unexpected-reply', message: `a reply nobody asked for: ${output.reply.code} ${output.reply.lines[0] ?? ''}`});
				} else {
					owed--;
					feed({type: 'reply', at: elapsed(), reply: output.reply});
					if (state.stage === 'tls' && !tlsActive) {
						// Bytes after the 220 to STARTTLS, before the handshake, are an injection attempt
						// (CVE-2011-0411 and kin): drop them, never read them as replies.
						if (output.rest > 0) {
							injectedBytes = output.rest;
							const text = decodeBytes(chunk.subarray(chunk.length - output.rest, chunk.length - output.rest + 512));
							record('info', `discarded ${output.rest} bytes sent before the TLS handshake: ${text}${output.rest > 512 ? '…' : ''}`);
						}

						return;
					}
				}
			}
		}

		function onFailure(error: NodeJS.ErrnoException): void {
			const code: StageError = errorCodes[error.code ?? ''] ?? (state.stage === 'tls' ? 'tls-failed' : 'socket-error');
			const plaintext = state.stage === 'tls' && /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|UNKNOWN_PROTOCOL/.test(error.code ?? '');
			const hint = plaintext ? ' (the server answered the handshake with something that is not TLS: a broken TLS setup, or plaintext sent after 220 to STARTTLS)' : '';
			feed({type: 'failed', at: elapsed(), code, message: `${error.message}${hint}`});
		}

		function onClose(): void {
			feed({type: 'failed', at: elapsed(), code: 'closed', message: 'connection closed by the server'});
		}

		function upgrade(): void {
			socket.removeListener('data', onData);
			socket.removeListener('error', onFailure);
			socket.removeListener('end', onClose);
			socket.removeListener('close', onClose);
			reader = new ReplyReader({...limits, maxSessionBytes: Math.max(1, limits.maxSessionBytes - reader.bytesRead)});
			const secure = tls.connect({
				socket,
				servername: serverNameFor(serverName),
				rejectUnauthorized: false,
				secureContext: secureContext(options.ca, options.tlsVersion),
			});
			// Once the chain verifies, Node's onConnectSecure (lib/_tls_wrap.js, v20) reads
			// this.getPeerCertificate(true) only to hand it to checkServerIdentity, which reads the
			// leaf's subjectaltname and subject: the whole chain costs ~1.7 ms of CPU. Until
			// secureConnect, that read gets what checkServerIdentity reads, from the sent
			// certificates tlsInfo takes next; Node decides the same (verifyError is OpenSSL's,
			// read before), and tlsInfo builds the chain itself.
			let leaf: X509Certificate | undefined;
			secure.getPeerCertificate = ((): tls.PeerCertificate => {
				const read = nameCheckCertificate(secure, options.ca);
				leaf = read.leaf;
				return read.cert;
			}) as typeof secure.getPeerCertificate;
			socket = secure;
			secure.on('error', onFailure);
			secure.once('secureConnect', () => {
				Reflect.deleteProperty(secure, 'getPeerCertificate');
				secure.disableRenegotiation();
				tlsActive = true;
				const version = secure.getProtocol() ?? 'unknown';
				record('info', `TLS established: ${version} ${secure.getCipher().name}`);
				secure.on('data', onData);
				secure.on('end', onClose);
				secure.on('close', onClose);
				// EHLO goes out first: the certificates are read while its reply travels.
				feed({type: 'tls-ready', at: elapsed(), version});
				const info = tlsInfo(secure, serverName, (options.now ?? (() => new Date()))(), options.ca, leaf);
				emit?.({type: 'tls', info});
				feed({type: 'tls-info', info});
			});
		}

		function close(): void {
			finished = true;
			clearTimeout(stageTimer);
			clearTimeout(sessionTimer);
			options.signal?.removeEventListener('abort', onAbort);
			const last = socket;
			last.on('error', () => undefined);
			// The session is over for the scheduler only once the connection is closed (one per IP
			// at a time); a server that ignores our FIN gets a second, then the socket is destroyed.
			// The FIN goes first, the result is put together while it travels.
			const linger = setTimeout(() => last.destroy(), 1000);
			const closed = last.closed;
			if (!closed) {
				last.once('close', () => {
					clearTimeout(linger);
					resolve(result);
				});
				if (last.connecting || !last.remoteAddress) {
					last.destroy();
				} else {
					last.end();
				}
			}

			const result = buildResult();
			if (closed) {
				clearTimeout(linger);
				resolve(result);
			}
		}

		function buildResult(): ProbeResult {
			const software = detectSoftware(state.banner?.text, state.ehlo?.text, state.ehlo?.extensions);
			const version = software?.version ? {softwareVersion: software.version} : {};
			return {
				target,
				family: net.isIPv6(target.ip) ? 6 : 4,
				startedAt: startedAt.toISOString(),
				ms: elapsed(),
				stages: state.stages,
				...(state.banner ? {banner: {...state.banner, ...(software ? {software: software.name, ...version} : {})}} : {}),
				...(state.ehlo ? {ehlo: state.ehlo} : {}),
				...(state.tls ? {tls: state.tls} : {}),
				relay: state.relay,
				transcript,
				...(injectedBytes ? {injectedBytes} : {}),
				...(state.rateLimited ? {rateLimited: state.rateLimited} : {}),
				...(software ? {software: software.name, ...version, softwareDisclosed: software.disclosed} : {}),
			};
		}

		const begun = start(state, limits.connectMs);
		state = begun.state;
		publish(initialState(state.options));
		run(begun.actions);
		if (options.signal?.aborted) {
			onAbort();
			return;
		}

		socket.on('data', onData);
		socket.on('error', onFailure);
		socket.on('end', onClose);
		socket.on('close', onClose);
		socket.once('connect', () => {
			record('info', `connected to ${target.ip} port ${target.port} after ${Math.round(elapsed())} ms`);
			feed({type: 'connected', at: elapsed()});
		});
		// Said before the attempt, so a pending connect shows it is waiting, and for how long at most.
		record('info', `connecting to ${target.ip} port ${target.port} (up to ${limits.connectMs} ms)`);
		socket.connect({host: target.ip, port: target.port, noDelay: true});
	});
}
