/**
 * The state file `edgedns ha set` writes and the server follows: one line, `ROLE ISO-TIME`.
 * Written whole (temp file + rename), so a reader sees the old line or the new one.
 */
import { writeFileAtomic } from '../atomic-write.js';

export const HA_ROLES = ['master', 'backup', 'fault'] as const;
export type HaRoleName = (typeof HA_ROLES)[number] | 'unknown';

export interface HaState {
  role: HaRoleName;
  since: string | null;
}

export function parseHaState(text: string | null): HaState {
  const m = /^\s*(master|backup|fault)\b\s*(\S+)?/i.exec(text ?? '');
  if (!m) return { role: 'unknown', since: null };
  const since = m[2] !== undefined && !Number.isNaN(Date.parse(m[2])) ? new Date(m[2]).toISOString() : null;
  return { role: m[1].toLowerCase() as HaRoleName, since };
}

export function writeHaState(file: string, role: (typeof HA_ROLES)[number], at: Date): void {
  writeFileAtomic(file, `${role} ${at.toISOString()}\n`, 0o644);
}
