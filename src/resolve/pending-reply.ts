/**
 * A reply still on its way (it waits on an upstream, a journal write, an observer): the one
 * asynchronous shape of the query path, in place of a Promise. It has one consumer — a listener
 * (`on`) or a reply derived from it (`map`) — called once, synchronously, as it settles: no
 * promise, no microtask, and no closure when the consumer passes its state as `arg`. A cache
 * miss used to make three promises, two reactions and six closures that lived across the
 * upstream's round trip, and the scavenger copied them. Thenable, so stream code and tests can
 * `await` it.
 */
import type { Buffer } from 'node:buffer';
import { EdgeError } from '../errors.js';
import type { Reply } from './query-context.js';

/** Called once: the reply (null: send nothing), or `err` when making it failed. */
export type ReplyListener<A> = (arg: A, reply: Buffer | null, err: Error | null) => void;

const WAITING = 0;
const ANSWERED = 1;
const FAILED = 2;

export class PendingReply implements PromiseLike<Buffer | null> {
  private state = WAITING;
  private value: Buffer | null = null;
  private error: Error | null = null;
  private listener: ReplyListener<never> | null = null;
  private arg: unknown = undefined;
  private taken = false;

  resolve(reply: Buffer | null): void {
    if (this.state !== WAITING) return;
    this.state = ANSWERED;
    this.value = reply;
    this.notify();
  }

  reject(err: unknown): void {
    if (this.state !== WAITING) return;
    this.state = FAILED;
    this.error = err instanceof Error ? err : new Error(String(err));
    this.notify();
  }

  /** The one consumer; called at once when the reply is already settled. */
  on<A>(listener: ReplyListener<A>, arg: A): void {
    if (this.taken) throw new EdgeError('REPLY_TAKEN', 'a pending reply has one consumer');
    this.taken = true;
    this.listener = listener as ReplyListener<never>;
    this.arg = arg;
    if (this.state !== WAITING) this.notify();
  }

  /** The reply `fn` makes of this one (it may wait in turn); a throw in `fn`, or this one failing, fails it. */
  map<A>(fn: (arg: A, reply: Buffer | null) => Reply, arg: A): PendingReply {
    const out = new MappedReply(fn, arg);
    this.on(takeInto, out as MappedReply<unknown>);
    return out;
  }

  then<T = Buffer | null, E = never>(
    onAnswer?: ((reply: Buffer | null) => T | PromiseLike<T>) | null,
    onError?: ((err: unknown) => E | PromiseLike<E>) | null,
  ): Promise<T | E> {
    return new Promise<Buffer | null>((resolve, reject) => this.on(settlePromise, { resolve, reject })).then(onAnswer, onError);
  }

  /** A promise's outcome as a pending reply (the rare paths that wait on one: a journal write, an observer). */
  static from(p: PromiseLike<Buffer | null>): PendingReply {
    const out = new PendingReply();
    p.then((b) => out.resolve(b), (e: unknown) => out.reject(e));
    return out;
  }

  private notify(): void {
    const l = this.listener;
    if (l === null) return;
    const a = this.arg as never;
    this.listener = null;
    this.arg = undefined;
    l(a, this.value, this.state === FAILED ? this.error : null);
  }
}

class MappedReply<A> extends PendingReply {
  constructor(private readonly fn: (arg: A, reply: Buffer | null) => Reply, private readonly fnArg: A) {
    super();
  }

  take(reply: Buffer | null, err: Error | null): void {
    if (err !== null) {
      this.reject(err);
      return;
    }
    let r: Reply;
    try {
      r = this.fn(this.fnArg, reply);
    } catch (e) {
      this.reject(e);
      return;
    }
    if (r instanceof PendingReply) r.on(forwardTo, this);
    else this.resolve(r);
  }
}

const takeInto = (m: MappedReply<unknown>, reply: Buffer | null, err: Error | null): void => m.take(reply, err);

const forwardTo = (p: PendingReply, reply: Buffer | null, err: Error | null): void => {
  if (err !== null) p.reject(err);
  else p.resolve(reply);
};

const settlePromise = (
  d: { resolve: (b: Buffer | null) => void; reject: (e: Error) => void },
  reply: Buffer | null,
  err: Error | null,
): void => {
  if (err !== null) d.reject(err);
  else d.resolve(reply);
};
