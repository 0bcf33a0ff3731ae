/**
 * Traffic classes chosen by DNS name: the addresses of a class's domains are learned from
 * edgedns's own answers (as the multi-WAN domain policies learn theirs), and each becomes a u32
 * filter on the shaped devices — by destination on the uplink, by source on its ifb — *before*
 * the answer leaves, so the first packet already lands in its class. An address is held for its
 * TTL plus GRACE_S after the last answer that named it; expired ones are swept every
 * SWEEP_MS, and a class that lost one has its learned filters rebuilt from what is still held.
 * No DPI: only names the client looked up through edgedns.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { answerAddresses } from '../dns/answer-addresses.js';
import { wireKey } from '../dns/name.js';
import type { AnswerObserver } from '../dns/answer-observer.js';
import { SuffixMatcher } from '../dns/suffix-matcher.js';
import { TurnBatch } from '../turn-batch.js';
import type { QdiscKind, QueueingSettings } from './queueing-model.js';
import { learnedFilter, learnedFlush, type Command } from './tc-render.js';
import type { TrafficClass } from './traffic-classes.js';

/** How long an address stays in its class after the TTL of the answer that named it ran out. */
export const GRACE_S = 300;
const SWEEP_MS = 10_000;
/** An answer never waits longer than this for tc. */
const TC_WAIT_MS = 1000;

/** One uplink's class on the devices that shape it. */
export interface ClassTarget {
  uplink: string;
  kind: QdiscKind;
  cls: TrafficClass;
  /** the interface (egress, ingress false) and its ifb (downloads, ingress true) */
  devices: Array<{ dev: string; ingress: boolean }>;
}

export type RunBatch = (commands: Command[]) => Promise<number>;


export class ClassLearner implements AnswerObserver {
  private readonly matcher = new SuffixMatcher<ClassTarget[]>();
  /** target → address → ms epoch it expires */
  private readonly held = new Map<ClassTarget, Map<string, number>>();
  private readonly batch: TurnBatch<Command>;
  private readonly timer: NodeJS.Timeout;
  readonly stats = { added: 0, expired: 0, failures: 0 };

  constructor(private readonly targets: ClassTarget[], private readonly run: RunBatch, private readonly clock: Clock, private readonly log: Logger) {
    const withDomains = targets.filter((t) => t.cls.domains.length > 0);
    for (const d of new Set(withDomains.flatMap((t) => t.cls.domains))) {
      this.matcher.add(wireKey(d), withDomains.filter((t) => t.cls.domains.some((e) => d === e || d.endsWith(`.${e}`))));
    }
    for (const t of withDomains) this.held.set(t, new Map());
    this.batch = new TurnBatch((commands) => this.apply(commands), TC_WAIT_MS,
      () => this.log.warn({ ms: TC_WAIT_MS }, 'smart queueing: tc is slow; answers sent before their class filters were in'));
    this.timer = setInterval(() => void this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  /** Targets for the uplinks of `settings` whose classes name domains. */
  static targetsFor(settings: Array<{ s: QueueingSettings; kind: QdiscKind | null }>): ClassTarget[] {
    return settings.flatMap(({ s, kind }) => kind === null ? [] : s.classes.filter((c) => c.domains.length > 0).map((cls) => ({
      uplink: s.uplink, kind, cls,
      devices: [...(s.up !== undefined ? [{ dev: s.interface, ingress: false }] : []), ...(s.ingress && s.down !== undefined ? [{ dev: s.ifb, ingress: true }] : [])],
    })));
  }

  wants(name: string): boolean {
    return this.matcher.match(name) !== undefined;
  }

  observe(name: string, reply: Buffer): Promise<void> | undefined {
    const targets = this.matcher.match(name);
    if (targets === undefined) return undefined;
    const addrs = answerAddresses(reply);
    if (addrs.length === 0) return undefined;
    const now = this.clock.now();
    const add: Command[] = [];
    for (const t of targets) {
      const held = this.held.get(t)!;
      for (const a of addrs) {
        const expires = now + (a.ttl + GRACE_S) * 1000;
        const was = held.get(a.address);
        held.set(a.address, Math.max(was ?? 0, expires));
        if (was !== undefined && was > now) continue;
        for (const d of t.devices) add.push(learnedFilter(d.dev, t.kind, t.cls, a.address, d.ingress));
        this.stats.added++;
      }
    }
    if (add.length === 0) return undefined;
    return this.batch.add(add);
  }

  private async apply(commands: Command[]): Promise<void> {
    try {
      const failed = await this.run(commands);
      if (failed > 0) {
        this.stats.failures += failed;
        this.log.warn({ failed }, 'smart queueing: some class filters could not be added');
      }
    } catch (e) {
      this.stats.failures++;
      this.log.error({ err: (e as Error).message }, 'smart queueing: could not add class filters');
    }
  }

  /** Drop expired addresses; a class that lost any gets its learned filters rebuilt. */
  async sweep(): Promise<void> {
    const now = this.clock.now();
    const commands: Command[] = [];
    for (const [t, held] of this.held) {
      let lost = false;
      for (const [a, exp] of held) {
        if (exp > now) continue;
        held.delete(a);
        lost = true;
        this.stats.expired++;
      }
      if (!lost) continue;
      for (const d of t.devices) {
        commands.push(learnedFlush(d.dev, t.cls, false), learnedFlush(d.dev, t.cls, true));
        for (const a of held.keys()) commands.push(learnedFilter(d.dev, t.kind, t.cls, a, d.ingress));
      }
    }
    if (commands.length > 0) await this.batch.add(commands);
  }

  /** Addresses held now, per uplink and class. */
  addresses(uplink: string, cls: string): string[] {
    const now = this.clock.now();
    for (const [t, held] of this.held) {
      if (t.uplink === uplink && t.cls.name === cls) return [...held].filter(([, e]) => e > now).map(([a]) => a);
    }
    return [];
  }

  close(): void {
    clearInterval(this.timer);
  }
}
