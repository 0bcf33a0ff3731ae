/**
 * A few checks for the JSON the serving process reads at run time (a peer's dynamic zone, the
 * WireGuard state file). zod does this for the config file, in a worker; these keep it out of
 * the serving process. A check returns its value typed, or throws a `JsonShapeError` naming the
 * path of the first value that does not fit.
 */
import { EdgeError } from './errors.js';

export class JsonShapeError extends EdgeError<'JSON_SHAPE'> {
  constructor(readonly path: string, readonly reason: string) {
    super('JSON_SHAPE', `${path || '(root)'}: ${reason}`);
  }
}

export type Check<T> = (v: unknown, path: string) => T;

const at = (path: string, key: string | number) => (path === '' ? String(key) : `${path}.${key}`);

export function str(opts: { min?: number; max?: number; pattern?: RegExp } = {}): Check<string> {
  return (v, path) => {
    if (typeof v !== 'string') throw new JsonShapeError(path, 'expected a string');
    if (v.length < (opts.min ?? 0) || v.length > (opts.max ?? Infinity)) throw new JsonShapeError(path, `expected ${opts.min ?? 0}–${opts.max ?? '∞'} characters`);
    if (opts.pattern && !opts.pattern.test(v)) throw new JsonShapeError(path, `does not match ${opts.pattern}`);
    return v;
  };
}

export function int(min = -Infinity, max = Infinity): Check<number> {
  return (v, path) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new JsonShapeError(path, `expected an integer in ${min}..${max}`);
    return v;
  };
}

export function oneOf<const T extends readonly (string | number)[]>(...values: T): Check<T[number]> {
  return (v, path) => {
    if (!values.includes(v as T[number])) throw new JsonShapeError(path, `expected one of ${values.join(', ')}`);
    return v as T[number];
  };
}

export function arr<T>(item: Check<T>): Check<T[]> {
  return (v, path) => {
    if (!Array.isArray(v)) throw new JsonShapeError(path, 'expected an array');
    return v.map((x, i) => item(x, at(path, i)));
  };
}

export function optional<T>(check: Check<T>): Check<T | undefined> {
  return (v, path) => (v === undefined ? undefined : check(v, path));
}

type Shape = Record<string, Check<unknown>>;
type Out<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };

/** An object with these keys; `strict`: no others (as zod's strictObject). */
export function obj<S extends Shape>(shape: S, strict = false): Check<Out<S>> {
  return (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new JsonShapeError(path, 'expected an object');
    const o = v as Record<string, unknown>;
    if (strict) {
      for (const k of Object.keys(o)) if (!(k in shape)) throw new JsonShapeError(at(path, k), 'unknown key');
    }
    const out: Record<string, unknown> = {};
    for (const [k, check] of Object.entries(shape)) {
      const x = check(o[k], at(path, k));
      if (x !== undefined) out[k] = x; // only `optional` lets undefined through: the key stays absent
    }
    return out as Out<S>;
  };
}
