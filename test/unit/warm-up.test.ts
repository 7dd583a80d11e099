import {describe, expect, it} from 'vitest';
import {defaultLimits} from '../../source/core/limits.js';
import {selfSession, warmUp} from '../../source/core/run/warm-up.js';
import {secureContext} from '../../source/core/tls/inspect.js';

describe('the warm-up before the first handshake', () => {
	it('runs a TLS 1.3 handshake with itself in memory and a whole dialogue through the SMTP machine, once a process', async () => {
		const first = warmUp(undefined, defaultLimits);
		expect(await first).toBe(true);
		// Once a process: a second call is the same run, not another handshake.
		expect(warmUp(undefined, defaultLimits)).toBe(first);
	});

	it('gives up within its bound when the far end never answers', async () => {
		const started = performance.now();
		let destroyed = false;
		const silent = () => ({
			destroy() {
				destroyed = true;
			},
		});
		expect(await selfSession(secureContext(undefined), undefined, defaultLimits, {timeoutMs: 100, answer: silent})).toBe(false);
		expect(performance.now() - started).toBeLessThan(2000);
		expect(destroyed).toBe(true);
	});
});
