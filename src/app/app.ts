/**
 * The lifecycle of a list of components: start in order (a failure stops those already
 * started, in reverse), reload as one transaction (validate → reconfigure each → commit; a
 * component that refuses leaves every component on the old config), stop in reverse.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { Component } from './component.js';

export type ReloadResult = { ok: true } | { ok: false; error: Error };

export class App {
  private started: Component[] = [];

  constructor(private readonly components: Component[], private current: Config, private readonly log: Logger) {}

  get config(): Config {
    return this.current;
  }

  async start(): Promise<void> {
    for (const c of this.components) {
      try {
        await c.start(this.current);
      } catch (e) {
        this.log.error({ component: c.name, err: (e as Error).message }, 'start failed');
        await this.stop();
        throw e;
      }
      this.started.push(c);
    }
  }

  /** `next` is already validated; it is in force only when every component took it. */
  async reload(next: Config): Promise<ReloadResult> {
    const prev = this.current;
    const moved: Component[] = [];
    for (const c of this.components) {
      try {
        await c.reconfigure(next, prev);
        moved.push(c);
      } catch (e) {
        const error = e as Error;
        this.log.error({ component: c.name, err: error.message }, 'reload refused; the running config stays');
        // Back in the same order: each component reads the state of those before it.
        for (const m of moved) {
          await m.reconfigure(prev, next).catch((err: Error) => this.log.error({ component: m.name, err: err.message }, 'could not go back to the running config'));
        }
        return { ok: false, error };
      }
    }
    for (const c of this.components) await c.commit?.();
    this.current = next;
    return { ok: true };
  }

  async stop(): Promise<void> {
    const list = this.started;
    this.started = [];
    for (const c of [...list].reverse()) {
      await c.stop().catch((e: Error) => this.log.error({ component: c.name, err: e.message }, 'stop failed'));
    }
  }
}
