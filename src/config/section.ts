/**
 * The contract a room's part of the config file implements: the top-level keys it owns (their
 * schema), the checks the schema cannot express, listen entries it adds, and the typed value
 * the room reads back with `sectionOf`. `config/` knows the contract, never a room: the
 * composition root hands the list of sections to `loadConfig`.
 */
import type { z } from 'zod';
import type { PathIssue } from './validate.js';
import type { Config, ListenConfig } from './types.js';

/** What a section's check and build may read of the rest of the file. */
export interface SectionContext {
  /** the whole file as validated (every section's keys, defaults filled in) */
  raw: Record<string, unknown>;
  /** zone.domain, normalized */
  zoneDomain: string;
  zoneReverse: string[];
  /** the file's own listen entries */
  listen: ReadonlyArray<{ address?: string; interface?: string }>;
  /** facts the caller knows and the file cannot say (the kernel's qdiscs, for `edgedns check`) */
  hints: Readonly<Record<string, unknown>>;
}

/** A typed handle on a section's value (`sectionOf(config, UPLINKS)`). */
export interface SectionKey<T> {
  readonly name: string;
  /** phantom: the type of the built value */
  readonly __type?: T;
}

export interface ConfigSection<T> extends SectionKey<T> {
  /** the top-level keys this section owns, with their schemas */
  readonly shape: Record<string, z.ZodType>;
  check?(ctx: SectionContext): { errors: PathIssue[]; warnings?: PathIssue[] };
  /** listen entries the section adds to the file's (WireGuard's DNS listener on its tunnel) */
  listen?(ctx: SectionContext): Array<Omit<ListenConfig, never>>;
  build(ctx: SectionContext): T;
}

/** The built value of a section; throws when the config was loaded without it (a wiring bug). */
export function sectionOf<T>(c: Pick<Config, 'sections'>, key: SectionKey<T>): T {
  if (!c.sections.has(key.name)) throw new Error(`config section "${key.name}" was not loaded`);
  return c.sections.get(key.name) as T;
}
