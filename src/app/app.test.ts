import { describe, expect, it } from 'vitest';
import pino from 'pino';
import type { Config } from '../config/types.js';
import { App } from './app.js';
import type { Component } from './component.js';

const log = pino({ level: 'silent' });
const cfg = (name: string) => ({ source: name }) as Config;

/** A component that records what it is asked and holds the config it is on. */
function recorder(name: string, calls: string[], opts: { failReconfigureTo?: string; failStart?: boolean } = {}): Component & { on: string } {
  return {
    name, on: '',
    async start(c) {
      if (opts.failStart) throw new Error(`${name} cannot start`);
      this.on = c.source;
      calls.push(`${name}.start(${c.source})`);
    },
    async reconfigure(next, prev) {
      calls.push(`${name}.reconfigure(${next.source}←${prev.source})`);
      if (next.source === opts.failReconfigureTo) throw new Error(`${name} refuses ${next.source}`);
      this.on = next.source;
    },
    async commit() { calls.push(`${name}.commit`); },
    async stop() { calls.push(`${name}.stop`); },
  };
}

describe('App (the composition root\'s lifecycle)', () => {
  it('starts in order and stops in reverse', async () => {
    const calls: string[] = [];
    const app = new App([recorder('a', calls), recorder('b', calls), recorder('c', calls)], cfg('v1'), log);
    await app.start();
    await app.stop();
    expect(calls).toEqual(['a.start(v1)', 'b.start(v1)', 'c.start(v1)', 'c.stop', 'b.stop', 'a.stop']);
  });

  it('a start that fails stops what already started, in reverse, and rethrows', async () => {
    const calls: string[] = [];
    const app = new App([recorder('a', calls), recorder('b', calls), recorder('c', calls, { failStart: true })], cfg('v1'), log);
    await expect(app.start()).rejects.toThrow('c cannot start');
    expect(calls).toEqual(['a.start(v1)', 'b.start(v1)', 'b.stop', 'a.stop']);
  });

  it('reload is all or nothing: a component that throws leaves every component on the old config', async () => {
    const calls: string[] = [];
    const a = recorder('a', calls);
    const b = recorder('b', calls);
    const c = recorder('c', calls, { failReconfigureTo: 'v2' });
    const app = new App([a, b, c], cfg('v1'), log);
    await app.start();
    calls.length = 0;
    const r = await app.reload(cfg('v2'));
    expect(r).toMatchObject({ ok: false, error: { message: 'c refuses v2' } });
    expect(app.config.source).toBe('v1');
    expect([a.on, b.on, c.on]).toEqual(['v1', 'v1', 'v1']);
    expect(calls).toEqual(['a.reconfigure(v2←v1)', 'b.reconfigure(v2←v1)', 'c.reconfigure(v2←v1)', 'a.reconfigure(v1←v2)', 'b.reconfigure(v1←v2)']);
    expect(calls.some((x) => x.endsWith('.commit'))).toBe(false);
  });

  it('a reload every component takes is committed and becomes the config', async () => {
    const calls: string[] = [];
    const app = new App([recorder('a', calls), recorder('b', calls)], cfg('v1'), log);
    await app.start();
    calls.length = 0;
    expect(await app.reload(cfg('v2'))).toEqual({ ok: true });
    expect(app.config.source).toBe('v2');
    expect(calls).toEqual(['a.reconfigure(v2←v1)', 'b.reconfigure(v2←v1)', 'a.commit', 'b.commit']);
  });
});
