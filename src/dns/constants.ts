/** Numeric DNS constants used on the wire. Names follow the RFC mnemonics. */
export const HEADER_SIZE = 12;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** Extended (needs OPT): 16 = BADVERS. */
  BADVERS: 16,
} as const;

export const RRType = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, OPT: 41,
  DS: 43, RRSIG: 46, HTTPS: 65, IXFR: 251, AXFR: 252, ANY: 255,
} as const;

export const CLASS_IN = 1;
export const OPT_PADDING = 12;
/** RFC 8467: pad responses on encrypted transports to a multiple of this. */
export const RESPONSE_PAD_BLOCK = 468;

/** What we advertise and the most we send over UDP (DNS flag day 2020). */
export const EDNS_UDP_SIZE = 1232;
/** A client that sent no OPT gets at most this over UDP (RFC 1035). */
export const CLASSIC_UDP_SIZE = 512;

export const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 16: 'BADVERS',
};
