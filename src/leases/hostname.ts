/**
 * A lease's hostname → the single label it is served under in the zone, or null.
 * - strip a trailing dot; lower-case;
 * - if it ends in the zone's domain, drop that suffix;
 * - what is left may still have dots (a client sent another domain's FQDN, or Kea qualified a
 *   partial FQDN with its suffix): its first label is used — one host, one name in our zone;
 * - characters outside [a-z0-9-] become '-', leading/trailing '-' are trimmed, at most 63
 *   characters; nothing left → no name.
 */
const CLEAN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function leaseLabel(hostname: string, zoneDomain: string): string | null {
  let h = hostname.trim().replace(/\.$/, '').toLowerCase();
  if (h === '') return null;
  const suffix = `.${zoneDomain}`;
  if (h === zoneDomain) return null;
  if (h.endsWith(suffix)) h = h.slice(0, -suffix.length);
  const dot = h.indexOf('.');
  const first = dot < 0 ? h : h.slice(0, dot);
  if (CLEAN.test(first)) return first; // the usual case: nothing to repair
  const label = first.replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return label === '' ? null : label;
}
