import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { PendingReply } from './pending-reply.js';

const b = (s: string) => Buffer.from(s);

describe('PendingReply', () => {
  it('tells its one consumer once, synchronously, whether it subscribed before or after the reply', () => {
    const seen: string[] = [];
    const early = new PendingReply();
    early.on((tag, r, err) => seen.push(`${tag}:${r?.toString()}:${err}`), 'early');
    expect(seen).toEqual([]);
    early.resolve(b('a'));
    early.resolve(b('again')); // settled: ignored
    early.reject(new Error('late'));
    const late = new PendingReply();
    late.resolve(null);
    late.on((tag, r) => seen.push(`${tag}:${r}`), 'late');
    expect(seen).toEqual(['early:a:null', 'late:null']);
    expect(() => late.on(() => undefined, null)).toThrow(expect.objectContaining({ code: 'REPLY_TAKEN' }));
  });

  it('maps through chains that wait in turn, and fails the chain on a throw or an upstream failure', async () => {
    const first = new PendingReply();
    const inner = new PendingReply();
    const out = first.map((suffix, r) => inner.map((s2, r2) => b(`${r!.toString()}${suffix}${r2!.toString()}${s2}`), '!'), '-');
    first.resolve(b('x'));
    let got: string | undefined;
    out.on((_, r) => { got = r?.toString(); }, null);
    expect(got).toBeUndefined(); // inner still waits
    inner.resolve(b('y'));
    expect(got).toBe('x-y!');

    const thrown = new PendingReply();
    const broken = thrown.map(() => { throw new Error('render failed'); }, null);
    thrown.resolve(b('z'));
    await expect(broken).rejects.toThrow('render failed');

    const failed = new PendingReply();
    const after = failed.map(() => b('never'), null);
    failed.reject(new Error('upstream down'));
    await expect(after).rejects.toThrow('upstream down');
  });

  it('can be awaited, and follows a promise (the rare paths that wait on one)', async () => {
    const p = PendingReply.from(new Promise((r) => setTimeout(() => r(b('later')), 5)));
    expect((await p)?.toString()).toBe('later');
    await expect(PendingReply.from(Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
  });
});
