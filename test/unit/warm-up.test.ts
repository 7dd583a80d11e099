import {describe, expect, it} from 'vitest';
import {defaultLimits} from '../../source/core/limits.js';
import {warmUp} from '../../source/core/run/warm-up.js';

describe('the warm-up before the first handshake', () => {
	it('runs a TLS 1.3 handshake with itself in memory and a whole dialogue through the SMTP machine, once a process', async () => {
		const first = warmUp(undefined, defaultLimits);
		expect(await first).toBe(true);
		// Once a process: a second call is the same run, not another handshake.
		expect(warmUp(undefined, defaultLimits)).toBe(first);
	});
});
