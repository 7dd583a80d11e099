// fetchPolicy() against the HTTPS policy host peer on 127.0.61.0/24: what a good policy host,
// a misconfigured one and a hostile one give. The names (`mta-sts.healthy.demo` …) resolve only
// through the lookup passed in: the system's DNS knows none of them. Nothing else is contacted.
import {readFileSync} from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import type {AddressInfo} from 'node:net';
import {afterEach, describe, expect, it} from 'vitest';
import {fetchPolicy} from '../../source/core/policy/fetch.js';
import type {FetchOptions} from '../../source/core/policy/fetch.js';
import {startPolicyServer} from '../../source/peers/policy-server.js';
import type {PolicyRoute, PolicyServer} from '../../source/peers/policy-server.js';

const certs = new URL('../../source/demo/certs/', import.meta.url);
const pem = (name: string): string => readFileSync(new URL(name, certs), 'utf8');
const root = pem('policy-root.pem');
const good = {key: pem('policy-key.pem'), cert: pem('policy.pem')};
const wrongName = {key: pem('policy-wrong-name-key.pem'), cert: pem('policy-wrong-name.pem')};

const address = '127.0.61.1';
const policy = 'version: STSv1\nmode: enforce\nmx: mx1.healthy.demo\nmax_age: 86400\n';

const servers: PolicyServer[] = [];
afterEach(async () => {
	await Promise.all(servers.splice(0).map(async server => server.close()));
});

/** One policy host for `mta-sts.healthy.demo` (or `name`) on `host`, serving `route`. */
async function serve(route: PolicyRoute, keys = good, name = 'mta-sts.healthy.demo', host = address): Promise<PolicyServer> {
	const server = await startPolicyServer({host, hosts: {[name]: {...route, ...keys}}});
	servers.push(server);
	return server;
}

/** Options that resolve every name to `addresses` and remember what was looked up. */
function options(server: PolicyServer, extra: Partial<FetchOptions> = {}, addresses = [server.host]): FetchOptions & {looked: string[]} {
	const looked: string[] = [];
	return {
		looked,
		async lookup(name) {
			looked.push(name);
			return addresses;
		},
		ca: [root],
		port: server.port,
		timeoutMs: 5000,
		...extra,
	};
}

describe('a good policy host', () => {
	it('fetches a 200 text/plain policy through the given lookup, with SNI and Host set', async () => {
		const server = await serve({body: policy});
		const fetchOptions = options(server);
		const result = await fetchPolicy('healthy.demo', fetchOptions);

		expect(result).toMatchObject({
			url: 'https://mta-sts.healthy.demo/.well-known/mta-sts.txt',
			ip: address,
			status: 200,
			contentType: 'text/plain',
			body: policy,
			certificate: {authorized: true, subject: 'mta-sts.healthy.demo', issuer: 'mxdash demo policy root CA', validTo: '2045-01-01T00:00:00.000Z'},
		});
		expect(result.error).toBeUndefined();
		expect(result.certificate?.san).toContain('mta-sts.slow.demo');
		expect(result.ms).toBeGreaterThanOrEqual(0);
		expect(result.ms).toBeLessThan(5000);
		expect(fetchOptions.looked).toEqual(['mta-sts.healthy.demo']);
		expect(server.requests).toEqual([{servername: 'mta-sts.healthy.demo', host: `mta-sts.healthy.demo:${server.port}`, path: '/.well-known/mta-sts.txt'}]);
	});

	it('reads a chunked body', async () => {
		const server = await serve({body: policy, chunked: true, contentType: 'text/plain; charset=utf-8'});
		// The peer really sends it chunked.
		const encoding = await new Promise<string | undefined>((resolve, reject) => {
			https.get({host: address, port: server.port, servername: 'mta-sts.healthy.demo', path: '/.well-known/mta-sts.txt', ca: root, agent: false, headers: {host: 'mta-sts.healthy.demo'}, checkServerIdentity: () => undefined}, response => {
				resolve(response.headers['transfer-encoding']);
				response.resume();
			}).on('error', reject);
		});
		expect(encoding).toBe('chunked');

		const result = await fetchPolicy('healthy.demo', options(server));
		expect(result).toMatchObject({status: 200, contentType: 'text/plain; charset=utf-8', body: policy});
		expect(result.error).toBeUndefined();
	});

	it('records a text/html content type as sent (the check judges it)', async () => {
		const server = await serve({body: policy, contentType: 'text/html'});
		const result = await fetchPolicy('healthy.demo', options(server));
		expect(result).toMatchObject({status: 200, contentType: 'text/html', body: policy});
		expect(result.error).toBeUndefined();
	});

	it('tries the next address when one refuses the connection', async () => {
		const server = await serve({body: policy});
		// Nothing listens on 127.0.61.2 at that port.
		const result = await fetchPolicy('healthy.demo', options(server, {}, ['127.0.61.2', address]));
		expect(result).toMatchObject({ip: address, status: 200, body: policy});
	});
});

describe('HTTP answers that give no policy', () => {
	it('does not follow a redirect, and records where it pointed', async () => {
		const server = await serve({status: 301, location: 'https://elsewhere.demo/.well-known/mta-sts.txt', body: 'moved'});
		const result = await fetchPolicy('healthy.demo', options(server));
		expect(result).toMatchObject({status: 301, location: 'https://elsewhere.demo/.well-known/mta-sts.txt', error: {kind: 'redirect'}});
		expect(result.error?.message).toContain('https://elsewhere.demo/.well-known/mta-sts.txt');
		expect(result.body).toBeUndefined();
		expect(server.requests).toHaveLength(1);
	});

	it('reports a 404', async () => {
		const server = await serve({status: 404, body: 'not here'});
		const result = await fetchPolicy('healthy.demo', options(server));
		expect(result).toMatchObject({status: 404, error: {kind: 'http-status'}});
		expect(result.error?.message).toContain('404');
		expect(result.body).toBeUndefined();
	});

	it('reports garbage for HTTP as a protocol error', async () => {
		const server = await serve({behaviour: 'garbage'});
		const result = await fetchPolicy('healthy.demo', options(server));
		expect(result.error?.kind).toBe('protocol');
		expect(result.status).toBeUndefined();
	});

	it('reports a body cut short as a protocol error', async () => {
		const server = await serve({behaviour: 'cut', body: policy});
		const result = await fetchPolicy('healthy.demo', options(server));
		expect(result).toMatchObject({status: 200, error: {kind: 'protocol'}});
		expect(result.body).toBeUndefined();
	});
});

describe('certificates', () => {
	it('refuses a certificate for another name, and names the policy host', async () => {
		const server = await serve({body: policy}, wrongName);
		const result = await fetchPolicy('healthy.demo', options(server));
		expect(result.error?.kind).toBe('tls');
		expect(result.error?.message).toContain('mta-sts.healthy.demo');
		expect(result.certificate).toMatchObject({authorized: false, subject: 'wrong.name.demo', san: ['wrong.name.demo']});
		expect(result.certificate?.error).toBe('the certificate is not for mta-sts.healthy.demo (it names wrong.name.demo)');
		// No request is sent, so no body is read.
		expect(result.status).toBeUndefined();
		expect(result.body).toBeUndefined();
		expect(server.requests).toEqual([]);
	});

	it('refuses a certificate from a root that is not trusted (no ca given)', async () => {
		const server = await serve({body: policy});
		const result = await fetchPolicy('healthy.demo', options(server, {ca: []}));
		expect(result.error?.kind).toBe('tls');
		expect(result.certificate).toMatchObject({authorized: false, subject: 'mta-sts.healthy.demo'});
		expect(result.certificate?.error).toMatch(/not a trusted root|self-signed|issuer/);
		expect(result.body).toBeUndefined();
		expect(server.requests).toEqual([]);
	});

	it('refuses an expired certificate, in words', async () => {
		// The SMTP demo's expired leaf (for www.elsewhere.demo), sent with its intermediate.
		const expired = {key: pem('expired-key.pem'), cert: pem('expired.pem') + pem('intermediate.pem')};
		const server = await serve({body: policy}, expired, 'mta-sts.healthy.demo');
		const result = await fetchPolicy('healthy.demo', options(server, {ca: [pem('root-ca.pem')]}));
		expect(result.error?.kind).toBe('tls');
		expect(result.certificate).toMatchObject({authorized: false, subject: 'www.elsewhere.demo', validTo: '2021-01-01T00:00:00.000Z'});
		expect(result.certificate?.error).toContain('the certificate has expired (CERT_HAS_EXPIRED)');
		expect(result.certificate?.error).toContain('not for mta-sts.healthy.demo (it names www.elsewhere.demo)');
	});

	it('reports a failed handshake as a TLS error', async () => {
		// A server that answers the ClientHello with plain HTTP: no TLS at all.
		const plain = net.createServer(socket => {
			// Read what comes, or the client's FIN would never be seen and close() would wait.
			socket.resume();
			socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
		});
		await new Promise<void>(resolve => {
			plain.listen(0, '127.0.61.3', resolve);
		});
		try {
			const {port} = plain.address() as AddressInfo;
			const result = await fetchPolicy('healthy.demo', {lookup: async () => ['127.0.61.3'], ca: [root], port, timeoutMs: 5000});
			expect(result.error?.kind).toBe('tls');
			expect(result.error?.message).toContain('mta-sts.healthy.demo');
			expect(result.ip).toBe('127.0.61.3');
		} finally {
			await new Promise(resolve => {
				plain.close(resolve);
			});
		}
	});
});

describe('bounds', () => {
	it('stops at once at a body over 64 KiB', async () => {
		const server = await serve({body: 'x'.repeat(70_000)});
		const result = await fetchPolicy('healthy.demo', options(server, {timeoutMs: 10_000}));
		expect(result).toMatchObject({status: 200, error: {kind: 'too-large'}});
		expect(result.body).toBeUndefined();
		expect(result.ms).toBeLessThan(2000);
	});

	it('stops at once at a chunked body over 64 KiB (no Content-Length to go by)', async () => {
		const server = await serve({body: 'x'.repeat(70_000), chunked: true});
		const result = await fetchPolicy('healthy.demo', options(server, {timeoutMs: 10_000}));
		expect(result).toMatchObject({status: 200, error: {kind: 'too-large'}});
		expect(result.ms).toBeLessThan(2000);
	});

	it('stops an endless body at the limit', async () => {
		const server = await serve({behaviour: 'endless'});
		const result = await fetchPolicy('healthy.demo', options(server, {timeoutMs: 10_000}));
		expect(result).toMatchObject({status: 200, error: {kind: 'too-large'}});
		expect(result.ms).toBeLessThan(2000);
	});

	it('honours a smaller maxBytes', async () => {
		const server = await serve({body: policy, chunked: true});
		const result = await fetchPolicy('healthy.demo', options(server, {maxBytes: 16}));
		expect(result.error?.kind).toBe('too-large');
	});

	it('gives up on a slow drip at the deadline', async () => {
		const server = await serve({behaviour: 'drip'});
		const result = await fetchPolicy('healthy.demo', options(server, {timeoutMs: 800}));
		expect(result).toMatchObject({status: 200, error: {kind: 'timeout'}});
		expect(result.ms).toBeGreaterThanOrEqual(790);
		expect(result.ms).toBeLessThan(1500);
	});

	it('gives up on a server that never answers at the deadline', async () => {
		const server = await serve({behaviour: 'hang'});
		const result = await fetchPolicy('healthy.demo', options(server, {timeoutMs: 800}));
		expect(result.error?.kind).toBe('timeout');
		expect(result.status).toBeUndefined();
		expect(result.ms).toBeLessThan(1500);
		expect(server.requests).toHaveLength(1);
	});

	it('gives up on a lookup that never answers at the deadline', async () => {
		const result = await fetchPolicy('healthy.demo', {lookup: async () => new Promise(() => undefined), timeoutMs: 300});
		expect(result.error?.kind).toBe('timeout');
		expect(result.ip).toBeUndefined();
	});

	it('stops when cancelled', async () => {
		const server = await serve({behaviour: 'hang'});
		const controller = new AbortController();
		const pending = fetchPolicy('healthy.demo', options(server, {signal: controller.signal, timeoutMs: 10_000}));
		await expect.poll(() => server.requests.length).toBe(1);
		controller.abort();
		const result = await pending;
		expect(result.error).toEqual({kind: 'timeout', message: 'the fetch was cancelled'});
		expect(result.ms).toBeLessThan(5000);
	});
});

describe('lookup and connection failures', () => {
	it('reports a lookup failure as dns', async () => {
		const looked: string[] = [];
		const result = await fetchPolicy('Nowhere.Demo.', {
			async lookup(name) {
				looked.push(name);
				return {message: 'NXDOMAIN'};
			},
			timeoutMs: 1000,
		});
		expect(looked).toEqual(['mta-sts.nowhere.demo']);
		expect(result).toMatchObject({url: 'https://mta-sts.nowhere.demo/.well-known/mta-sts.txt', error: {kind: 'dns', message: 'mta-sts.nowhere.demo: NXDOMAIN'}});
	});

	it('reports no addresses, and a lookup that throws, as dns', async () => {
		expect((await fetchPolicy('healthy.demo', {lookup: async () => [], timeoutMs: 1000})).error?.kind).toBe('dns');
		expect((await fetchPolicy('healthy.demo', {lookup: async () => Promise.reject(new Error('resolver gone')), timeoutMs: 1000})).error).toEqual({kind: 'dns', message: 'mta-sts.healthy.demo: resolver gone'});
	});

	it('refuses a name that is not a domain name, before any lookup', async () => {
		const looked: string[] = [];
		const result = await fetchPolicy('bad name/x', {
			async lookup(name) {
				looked.push(name);
				return ['127.0.61.1'];
			},
			timeoutMs: 1000,
		});
		expect(result.error).toEqual({kind: 'dns', message: '"mta-sts.bad name/x" is not a domain name'});
		expect(looked).toEqual([]);
	});

	it('reports a lookup that throws at once as dns', async () => {
		const result = await fetchPolicy('healthy.demo', {
			lookup() {
				throw new Error('no resolver');
			},
			timeoutMs: 1000,
		});
		expect(result.error).toEqual({kind: 'dns', message: 'mta-sts.healthy.demo: no resolver'});
	});

	it('reports a refused connection on every address as connect', async () => {
		const server = await serve({body: policy});
		const result = await fetchPolicy('healthy.demo', options(server, {}, ['127.0.61.4', '127.0.61.5']));
		expect(result.error?.kind).toBe('connect');
		expect(result.error?.message).toContain('127.0.61.5');
		expect(result.ip).toBeUndefined();
	});
});
