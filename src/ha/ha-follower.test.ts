/**
 * The follower against a small HTTP peer on loopback standing in for the other gateway's admin
 * API (the real pair is test/lab/lab.test.ts): it sends our token, applies the peer's dynamic
 * zone when its serial moves and not otherwise, says when it is behind, and a peer that answers
 * nonsense changes nothing.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HaFollower, type ReplicatedRRset } from './ha-follower.js';

const log = pino({ level: 'silent' });
let server: Server;
let url = '';
let body: unknown = { serial: 0, rrsets: [] };
const auth: Array<string | undefined> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    auth.push(req.headers.authorization);
    if (req.url !== '/ddns/dynamic') { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const until = async (ok: () => boolean) => { for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10)); };

describe('HaFollower', () => {
  it('follows the peer\'s dynamic zone when its serial moves, with our token; nonsense changes nothing', async () => {
    const applied: ReplicatedRRset[][] = [];
    const f = new HaFollower(url, 50, () => 'sekrit', () => ({ replicate: async (r) => { applied.push(r); return r.length; } }), { now: () => 0 }, log);
    const printer = { owner: 'printer.lan.test', type: 'A', records: [{ ttl: 300, value: '10.203.0.50' }] };
    body = { serial: 7, rrsets: [printer] };
    f.setFollowing(true);
    await until(() => applied.length === 1);
    expect(applied).toEqual([[printer]]);
    expect(auth.at(-1)).toBe('Bearer sekrit');
    await new Promise((r) => setTimeout(r, 150)); // polled again, same serial: nothing applied
    expect(applied).toHaveLength(1);
    expect(f.view()).toMatchObject({ following: true, peerSerial: 7, appliedSerial: 7, inStep: true, applied: 1, error: null });
    body = { serial: 8, rrsets: [{ owner: 'x', type: 'A', records: [{ ttl: -1, value: 'bad' }] }] };
    await until(() => f.view().error !== null);
    expect(f.view()).toMatchObject({ appliedSerial: 7, inStep: false });
    expect(f.view().error).toMatch(/not a dynamic zone/);
    expect(applied).toHaveLength(1);
    body = { serial: 9, rrsets: [] };
    await until(() => applied.length === 2);
    expect(applied[1]).toEqual([]);
    expect(f.view()).toMatchObject({ appliedSerial: 9, inStep: true, error: null });
    f.setFollowing(false);
    const n = auth.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(auth.length).toBe(n); // a master does not poll
    expect(f.view().following).toBe(false);
  });
});
