/** Numeric DNS constants used on the wire. Names follow the RFC mnemonics. */
export const HEADER_SIZE = 12;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  NOTAUTH: 9,
  /** Extended (needs OPT): 16 = BADVERS, 23 = BADCOOKIE (RFC 7873). */
  BADVERS: 16,
  BADCOOKIE: 23,
} as const;

/** TSIG error field values (RFC 8945 §3): they travel in the TSIG record, not the header. */
export const TsigError = { BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;

export const Opcode = { QUERY: 0, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

export const RRType = {
  A: 1, NS: 2, MD: 3, MF: 4, CNAME: 5, SOA: 6, MB: 7, MG: 8, MR: 9, PTR: 12, HINFO: 13, MINFO: 14, MX: 15, TXT: 16,
  AAAA: 28, SRV: 33, DNAME: 39, OPT: 41, DS: 43, RRSIG: 46, NSEC: 47, NSEC3: 50, HTTPS: 65, TSIG: 250, IXFR: 251,
  AXFR: 252, ANY: 255,
} as const;

export const CLASS_IN = 1;
/** The class of TSIG records and of "any class" questions. */
export const CLASS_ANY = 255;
export const OPT_COOKIE = 10;
export const OPT_PADDING = 12;
/** RFC 8467: pad responses on encrypted transports to a multiple of this. */
export const RESPONSE_PAD_BLOCK = 468;

/** What we advertise and the most we send over UDP (DNS flag day 2020). */
export const EDNS_UDP_SIZE = 1232;
/** A client that sent no OPT gets at most this over UDP (RFC 1035). */
export const CLASSIC_UDP_SIZE = 512;

export const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 9: 'NOTAUTH', 16: 'BADVERS',
  23: 'BADCOOKIE',
};
