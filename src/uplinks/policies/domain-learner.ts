/**
 * Learns the addresses domain policies steer, from edgedns's own answers: an A/AAAA for a
 * watched name goes into the policy's nftables set, with a timeout of the record's TTL plus the
 * policy's grace, *before* the answer is sent (so the client's first packet already follows the
 * policy). An address already held is refreshed in the background once half its grace is used.
 * Commands from answers arriving together go to `nft` in one batch.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import { answerAddresses } from '../../dns/answer-addresses.js';
import { wireKey } from '../../dns/name.js';
import type { AnswerObserver } from '../../dns/answer-observer.js';
import { SuffixMatcher } from '../../dns/suffix-matcher.js';
import { TurnBatch } from '../../turn-batch.js';
import { elementAdd, elementDelete, setNames } from './nft-render.js';
import type { Policy } from './policy-model.js';

export type RunScript = (script: string) => Promise<void>;

/** An answer never waits longer than this for nft; after it, it goes anyway (logged). */
const NFT_WAIT_MS = 1000;

export interface HeldAddress {
  address: string;
  /** ms epoch when the kernel drops it (TTL + grace after the last answer that refreshed it) */
  expires: number;
}

export interface LearnerStats {
  added: number;
  refreshed: number;
  failures: number;
}


export class DomainLearner implements AnswerObserver {
  private readonly matcher = new SuffixMatcher<Policy[]>();
  /** policy name → address → held */
  private readonly held = new Map<string, Map<string, HeldAddress>>();
  private readonly batch: TurnBatch<string>;
  readonly stats: LearnerStats = { added: 0, refreshed: 0, failures: 0 };

  constructor(private readonly policies: Policy[], private readonly run: RunScript, private readonly clock: Clock, private readonly log: Logger) {
    const domainPolicies = policies.filter((p) => p.domains.length > 0);
    const all = new Set(domainPolicies.flatMap((p) => p.domains));
    for (const d of all) {
      // every policy whose domain covers d: a name under d is under their domains too
      const covering = domainPolicies.filter((p) => p.domains.some((e) => d === e || d.endsWith(`.${e}`)));
      this.matcher.add(wireKey(d), covering);
    }
    for (const p of domainPolicies) this.held.set(p.name, new Map());
    this.batch = new TurnBatch((lines) => this.apply(lines), NFT_WAIT_MS,
      () => this.log.warn({ ms: NFT_WAIT_MS }, 'multi-wan policies: nft is slow; answers sent before their addresses were in the set'));
  }

  wants(name: string): boolean {
    return this.matcher.match(name) !== undefined;
  }

  observe(name: string, reply: Buffer): Promise<void> | undefined {
    const policies = this.matcher.match(name);
    if (policies === undefined) return undefined;
    const addrs = answerAddresses(reply);
    if (addrs.length === 0) return undefined;
    const now = this.clock.now();
    let wait: Promise<void> | undefined;
    for (const p of policies) {
      const held = this.held.get(p.name)!;
      const sets = setNames(p);
      for (const a of addrs) {
        const timeoutS = a.ttl + p.graceS;
        const expires = now + timeoutS * 1000;
        const h = held.get(a.address);
        const set = a.family === 4 ? sets.v4 : sets.v6;
        if (h === undefined || h.expires <= now) {
          held.set(a.address, { address: a.address, expires });
          wait = this.batch.add([elementAdd(set, a.address, timeoutS)]);
          this.stats.added++;
        } else if (h.expires < expires - (p.graceS * 1000) / 2) {
          // a re-add with the same timeout does not restart the kernel's timer: delete + add
          h.expires = expires;
          void this.batch.add([elementDelete(set, a.address), elementAdd(set, a.address, timeoutS)]);
          this.stats.refreshed++;
        }
      }
    }
    return wait;
  }

  /** One nft run for a turn's lines; a refresh whose element the kernel expired meanwhile fails the whole batch: the adds alone cannot. */
  private async apply(lines: string[]): Promise<void> {
    try {
      await this.run(`${lines.join('\n')}\n`);
    } catch (e) {
      const adds = lines.filter((l) => l.startsWith('add '));
      const retry = adds.length < lines.length ? await this.run(`${adds.join('\n')}\n`).then(() => null, (e2: Error) => e2) : e;
      if (retry !== null) {
        this.stats.failures++;
        this.log.error({ err: (retry as Error).message }, 'multi-wan policies: could not add learned addresses');
      }
    }
  }

  /** Every address held, into the sets again (sets made afresh: an HA backup becoming master). */
  replay(): Promise<void> {
    const now = this.clock.now();
    const lines: string[] = [];
    for (const p of this.policies.filter((x) => x.domains.length > 0)) {
      const sets = setNames(p);
      for (const h of this.addresses(p.name)) {
        lines.push(elementAdd(h.address.includes(':') ? sets.v6 : sets.v4, h.address, Math.ceil((h.expires - now) / 1000)));
      }
    }
    return lines.length ? this.batch.add(lines) : Promise.resolve();
  }

  /** Addresses held now, per policy (expired ones are dropped here, as the kernel drops them). */
  addresses(policy: string): HeldAddress[] {
    const held = this.held.get(policy);
    if (!held) return [];
    const now = this.clock.now();
    for (const [a, h] of held) if (h.expires <= now) held.delete(a);
    return [...held.values()];
  }
}
