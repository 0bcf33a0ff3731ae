/** Link rates: `20mbit` → bits per second, and back in the form tc takes. */
const UNITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 };

export function parseRate(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(bit|kbit|mbit|gbit)$/i.exec(s.trim());
  if (!m) throw new Error(`not a rate: "${s}"`);
  return Math.round(Number(m[1]) * UNITS[m[2].toLowerCase()]);
}

/** tc's own unit: whole kbit (tc would read "mbit" as 10^6 too, but kbit keeps precision). */
export function tcRate(bps: number): string {
  return `${Math.max(1, Math.round(bps / 1000))}kbit`;
}

export function showRate(bps: number): string {
  return bps >= 1e9 ? `${(bps / 1e9).toFixed(2)} Gbit/s` : bps >= 1e6 ? `${(bps / 1e6).toFixed(1)} Mbit/s` : `${(bps / 1e3).toFixed(0)} kbit/s`;
}
