/**
 * Kea memfile lease rows (DHCPv4 and DHCPv6), read by the header line: column order is not
 * assumed, unknown columns are ignored, missing required ones are an error for the whole file.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type LeaseFamily = 4 | 6;

export interface LeaseRow {
  address: string;
  /** seconds; 0 marks a deleted (released) lease */
  validLifetime: number;
  /** epoch seconds */
  expire: number;
  hostname: string;
  /** 0 default, 1 declined, 2 expired-reclaimed */
  state: number;
  /** DHCPv6: 0 IA_NA, 1 IA_TA, 2 IA_PD; DHCPv4: 0 */
  leaseType: number;
  /**
   * Who holds the lease, as RFC 4701's DHCID identifier (hex: the 2-byte type, then the bytes):
   * 0001 + client-id, else 0000 + htype 01 + hwaddr for DHCPv4; 0002 + DUID for DHCPv6. Empty
   * when the file has neither. Kea D2 computes its DHCID records from the same.
   */
  client: string;
}

export interface Columns {
  address: number;
  validLifetime: number;
  expire: number;
  hostname: number;
  state: number;
  leaseType: number;
  hwaddr: number;
  clientId: number;
  duid: number;
  count: number;
}

const REQUIRED = ['address', 'valid_lifetime', 'expire', 'hostname'];

/** Column positions from a header line; a string saying what is missing when it cannot be used. */
export function parseHeader(line: string, family: LeaseFamily): Columns | string {
  const names = line.trim().split(',');
  const at = (n: string) => names.indexOf(n);
  const missing = REQUIRED.filter((n) => at(n) < 0);
  if (family === 6 && at('lease_type') < 0) missing.push('lease_type');
  if (missing.length > 0) return `header lacks required column(s) ${missing.join(', ')} (header: ${line.slice(0, 200)})`;
  return {
    address: at('address'), validLifetime: at('valid_lifetime'), expire: at('expire'), hostname: at('hostname'),
    state: at('state'), leaseType: at('lease_type'), hwaddr: at('hwaddr'), clientId: at('client_id'), duid: at('duid'), count: names.length,
  };
}

const INT = /^\d+$/;

/** Kea escapes commas (and a few other characters) in text fields as &#xNN. */
function unescape(field: string): string {
  return field.includes('&#x') ? field.replace(/&#x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) : field;
}

/** A row, or a string saying why it cannot be used. */
export function parseRow(line: string, cols: Columns, family: LeaseFamily): LeaseRow | string {
  const f = line.split(',');
  if (f.length < cols.count) return `expected ${cols.count} fields, found ${f.length}`;
  const address = f[cols.address];
  if (family === 4 ? !isIPv4(address) : !isIPv6(address)) return `bad address "${address.slice(0, 64)}"`;
  const vl = f[cols.validLifetime];
  const ex = f[cols.expire];
  if (!INT.test(vl) || !INT.test(ex)) return `bad valid_lifetime/expire "${vl.slice(0, 20)}"/"${ex.slice(0, 20)}"`;
  const st = cols.state >= 0 ? f[cols.state] : '0';
  const lt = cols.leaseType >= 0 ? f[cols.leaseType] : '0';
  if (!INT.test(st) || !INT.test(lt)) return `bad state/lease_type "${st.slice(0, 20)}"/"${lt.slice(0, 20)}"`;
  return { address, validLifetime: Number(vl), expire: Number(ex), hostname: unescape(f[cols.hostname]), state: Number(st), leaseType: Number(lt), client: clientOf(f, cols, family) };
}

const HEX_OCTETS = /^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2})*$/;

/** "1:aa:0b" → "01aa0b"; "" for a field that is empty or not colon-separated hex. */
function octets(field: string | undefined): string {
  if (field === undefined || !HEX_OCTETS.test(field)) return '';
  return field.split(':').map((o) => o.padStart(2, '0')).join('').toLowerCase();
}

function clientOf(f: string[], cols: Columns, family: LeaseFamily): string {
  if (family === 6) {
    const duid = octets(f[cols.duid]);
    return duid && `0002${duid}`;
  }
  const id = octets(f[cols.clientId]);
  if (id) return `0001${id}`;
  const hw = octets(f[cols.hwaddr]);
  return hw && `000001${hw}`;
}

/** Live at `now` (epoch seconds): not deleted, declined or reclaimed, not expired; DHCPv6 IA_NA only. */
export function isLive(r: LeaseRow, now: number): boolean {
  return r.validLifetime > 0 && r.state === 0 && r.expire > now && r.leaseType === 0;
}

export function sameRow(a: LeaseRow, b: LeaseRow): boolean {
  return a.validLifetime === b.validLifetime && a.expire === b.expire && a.hostname === b.hostname && a.state === b.state && a.leaseType === b.leaseType && a.client === b.client;
}
