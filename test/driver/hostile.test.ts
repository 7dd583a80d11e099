// The property: a mail admin can point mxdash at anything — a tarpit, a broken appliance, a
// malicious host — and get a clear result in bounded time and memory, with the terminal intact.
// Every server here is hostile on purpose (test/helpers/hostile-servers.ts: one raw listener per
// behaviour on its own 127.0.66.x address; test/helpers/scripted-server.ts for scripted
// dialogues). Each test names the protection it guards; removing that protection fails it.
//
// The sections live in test/driver/hostile/, one module each, imported here in order. They stay
// one test file on purpose: section 6 checks every session that sections 1–4 saw, so all of
// them run in this one process, and it comes last.
import {afterAll, beforeAll} from 'vitest';
import {cleanUp, makeCertificates} from './hostile/fixtures.js';
import './hostile/bounded-memory.js';
import './hostile/bounded-time.js';
import './hostile/protocol-abuse.js';
import './hostile/terminal.js';
import './hostile/user-input.js';
import './hostile/never-a-relay.js';

beforeAll(makeCertificates, 60_000);

afterAll(cleanUp);
