/** Durations ("1500ms", "1s", "5m", "1h", "1d") and sizes ("64MB") as the operator writes them. */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Milliseconds, or null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  return m ? Math.round(Number(m[1]) * DURATION_MS[m[2]]) : null;
}

export function parseSize(text: string): number | null {
  const m = SIZE.exec(text.trim());
  return m ? Math.round(Number(m[1]) * SIZE_BYTES[(m[2] ?? 'b').toLowerCase()]) : null;
}
