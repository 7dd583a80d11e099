// The DNS bounds of a large round (source/core/dns/): at most `limits.dnsInFlight` questions at
// the resolver at once, raw (dns-packet) queries 128 at a time, and a host's lookups once a round
// however many domains name it. Our own servers on loopback: one holds every question a while
// (a slow resolver) and counts how many it holds at once.
import dgram from 'node:dgram';
import * as packet from 'dns-packet';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';
import {defaultLimits} from '../../source/core/limits.js';
import {rawQuery} from '../../source/core/dns/packet.js';
import {Dns} from '../../source/core/dns/resolver.js';
import {startDnsServer} from '../../source/peers/dns-server.js';
import type {DnsServer} from '../../source/peers/dns-server.js';

type Holding = {address: string; mostHeld(): number; close(): Promise<void>};

/** Answers every A question with 192.0.2.1 (anything else: no data), each `holdMs` after it came. */
async function holdingServer(host: string, holdMs: number): Promise<Holding> {
	const socket = dgram.createSocket('udp4');
	let held = 0;
	let most = 0;
	socket.on('message', (message, peer) => {
		let query;
		try {
			query = packet.decode(message);
		} catch {
			return;
		}

		held++;
		most = Math.max(most, held);
		setTimeout(() => {
			held--;
			const question = query.questions?.[0];
			const answers = question?.type === 'A' ? [{type: 'A' as const, name: question.name, ttl: 60, data: '192.0.2.1'}] : [];
			socket.send(packet.encode({type: 'response', id: query.id, flags: packet.RECURSION_DESIRED | packet.RECURSION_AVAILABLE, questions: query.questions, answers}), peer.port, peer.address);
		}, holdMs);
	});
	await new Promise<void>(resolve => {
		socket.bind(0, host, resolve);
	});
	return {
		address: `${host}:${socket.address().port}`,
		mostHeld: () => most,
		close: async () => new Promise<void>(resolve => {
			socket.close(() => {
				resolve();
			});
		}),
	};
}

describe('the DNS bounds of a large round', () => {
	it('asks at most dnsInFlight questions at once, and answers every one', async () => {
		const server = await holdingServer('127.0.36.1', 40);
		try {
			const dns = new Dns({servers: [server.address], limits: {...defaultLimits, dnsInFlight: 3}});
			const answers = await Promise.all(Array.from({length: 12}, async (_, index) => dns.addresses(`host${index}.test`)));
			expect(answers.every(answer => Array.isArray(answer) && answer.includes('192.0.2.1'))).toBe(true);
			// 24 questions (A and AAAA of 12 names): without the bound the server would hold them all.
			expect(server.mostHeld()).toBe(3);
		} finally {
			await server.close();
		}
	});

	it('holds raw queries to 128 at once, each still answered', async () => {
		const server = await holdingServer('127.0.36.2', 60);
		try {
			const answers = await Promise.all(Array.from({length: 200}, async (_, index) => rawQuery([server.address], `raw${index}.test`, 'A', {timeoutMs: 5000})));
			expect(answers.every(answer => 'answers' in answer && answer.answers.length === 1)).toBe(true);
			expect(server.mostHeld()).toBe(128);
		} finally {
			await server.close();
		}
	});

	describe('a host named by many domains', () => {
		const asked: string[] = [];
		let server: DnsServer;
		beforeAll(async () => {
			const domains = Object.fromEntries(['a', 'b', 'c'].map(name => [`${name}.test`, {MX: [[10, 'mx.provider.test']] as Array<[number, string]>}]));
			server = await startDnsServer({...domains, 'mx.provider.test': {A: ['192.0.2.25']}}, '127.0.36.3', 0, {onQuery(name, type) {
				asked.push(`${type} ${name}`);
			}});
		});
		afterAll(async () => {
			await server.close();
		});

		it('is looked up once a round, and again in the next', async () => {
			const dns = new Dns({servers: [server.address], limits: defaultLimits});
			const plans = await Promise.all(['a.test', 'b.test', 'c.test'].map(async domain => dns.plan(domain)));
			expect(plans.map(plan => plan.mx[0]?.addresses)).toEqual([['192.0.2.25'], ['192.0.2.25'], ['192.0.2.25']]);
			const lookups = () => asked.filter(question => question.endsWith(' mx.provider.test'));
			expect(lookups().sort()).toEqual(['A mx.provider.test', 'AAAA mx.provider.test', 'CNAME mx.provider.test']);
			dns.newRound();
			await dns.plan('a.test');
			expect(lookups()).toHaveLength(6);
		});
	});
});
