/** RR type mnemonics ↔ numbers, one table for the whole program (query log, DoH JSON, zone). */
const TYPE_NUMBERS: Record<string, number> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, AAAA: 28, SRV: 33, DNAME: 39, OPT: 41, DS: 43,
  RRSIG: 46, NSEC: 47, DNSKEY: 48, DHCID: 49, NSEC3: 50, SVCB: 64, HTTPS: 65, TSIG: 250, IXFR: 251, AXFR: 252, ANY: 255, CAA: 257,
};
const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TYPE_NUMBERS).map(([k, v]) => [v, k]));

/** "AAAA" for 28; "TYPE65280" (RFC 3597) for a type without a mnemonic here. */
export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `TYPE${type}`;
}

/** 28 for "AAAA" (any case) or "TYPE28"; undefined when unknown. */
export function typeNumber(name: string): number | undefined {
  const upper = name.toUpperCase();
  const m = /^TYPE(\d+)$/.exec(upper);
  return m ? Number(m[1]) : TYPE_NUMBERS[upper];
}
