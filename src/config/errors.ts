/** Config errors carry every problem found, each with its place in the file. */
import { EdgeError } from '../errors.js';

export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  /** e.g. "zone.records[1].value" */
  path: string;
  message: string;
}

export class ConfigError extends EdgeError<'CONFIG_INVALID'> {
  constructor(readonly issues: ConfigIssue[], options?: { cause?: unknown }) {
    super('CONFIG_INVALID', issues.map(formatIssue).join('\n'), options);
  }
}

/** `FILE:LINE:COL key.path: message`, the form `edgedns check` prints (CONFIG.md). */
export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.col} ${i.path || '(root)'}: ${i.message}`;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out;
}
