/** Each command's own flags, parsed strictly: a flag another command takes is an error here. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<V> {
  values: V;
  positionals: string[];
}

/** Parsed flags, or null after printing the usage line with what was wrong. */
export function flags<V>(command: string, args: string[], options: Options, usage: string): Parsed<V> | null {
  try {
    const r = parseArgs({ args, options, allowPositionals: true, strict: true });
    return { values: r.values as V, positionals: r.positionals };
  } catch (e) {
    process.stderr.write(`edgedns ${command}: ${(e as Error).message}\nusage: ${usage}\n`);
    return null;
  }
}

export const CONFIG = { config: { type: 'string', short: 'c' } } as const;
export const ADMIN = { admin: { type: 'string' }, json: { type: 'boolean' } } as const;
