/**
 * Names: every record served with authority (static, leases, WireGuard, DDNS) with search, the
 * leases with their expiry counting down, and for a name two sources claim, which one is served.
 */
import { get } from '../api.js';
import { badge, card, h, table } from '../dom.js';
import type { Feed } from '../feed.js';
import { duration } from '../format.js';
import type { View } from '../view.js';

interface ZoneRecord { name: string; type: string; ttl: number; value: string; origin: string }
interface Lease { name: string; address: string; expires: string; source: string; state: string }

export function names(_feed: Feed): View {
  const search = h('input', { id: 'name-search', type: 'search', placeholder: 'name, address or origin' });
  const body = h('div');
  const el = h('div', { class: 'view' }, h('h1', null, 'Names'), card('Search', h('label', null, 'find ', search)), body);
  let zone: { domain: string; records: ZoneRecord[] } = { domain: '', records: [] };
  let leases: Lease[] = [];
  let ddns = false;
  search.addEventListener('input', () => draw());

  async function load(): Promise<void> {
    const [z, l, d] = await Promise.all([get<typeof zone>('/zone'), get<{ leases: Lease[] }>('/leases'), get<{ enabled: boolean }>('/ddns')]);
    zone = z;
    leases = l.leases;
    ddns = d.enabled;
    draw();
  }

  function winner(lease: Lease): string {
    const type = lease.address.includes(':') ? 'AAAA' : 'A';
    const served = zone.records.filter((r) => r.name === lease.name && r.type === type);
    if (served.length === 0) return 'nothing served';
    return `served: ${served.map((r) => `${r.value} (${r.origin})`).join(', ')}`;
  }

  function draw(): void {
    const q = search.value.trim().toLowerCase();
    const hit = (...fields: string[]) => !q || fields.some((f) => f.toLowerCase().includes(q));
    const now = Date.now();
    const recs = zone.records.filter((r) => hit(r.name, r.value, r.origin, r.type));
    const ls = leases.filter((l) => hit(l.name, l.address, l.source, l.state));
    const conflicts = leases.filter((l) => l.state !== 'active');
    const origins = [...new Set(zone.records.map((r) => r.origin))];
    body.replaceChildren(
      card(`Leases (${ls.length})`, table(['name', 'address', 'expires in', 'source', 'state'], ls.map((l) => [
        l.name, l.address, h('span', { class: 'countdown', 'data-expires': l.expires }, duration((Date.parse(l.expires) - now) / 1000)), l.source, badge(l.state),
      ]), 'no lease names')),
      conflicts.length > 0 ? card('Conflicts: who won', table(['name', 'lease address', 'lost because', 'what is served'], conflicts.map((l) => [
        l.name, l.address, l.state === 'static-wins' ? 'a static record has the name' : 'another claim won (leases.conflict)', winner(l),
      ]))) : '',
      card(`Zone ${zone.domain}: ${recs.length} records`, h('p', { class: 'muted' }, `origins: ${origins.join(', ')}${ddns ? ' (DDNS on)' : ''}`),
        table(['name', 'type', 'value', 'ttl', 'origin'], recs.slice(0, 2000).map((r) => [r.name, r.type, r.value, r.ttl, badge(r.origin, 'origin')]), 'no records match')),
    );
  }

  // The countdown ticks here; the data itself is read again when the stream's sample says time has passed.
  const tick = setInterval(() => {
    for (const c of body.querySelectorAll<HTMLElement>('.countdown')) c.textContent = duration((Date.parse(c.dataset.expires ?? '') - Date.now()) / 1000);
  }, 1000);
  void load();
  return { el, update: (k) => { if (k === 'sample') void load(); }, close: () => clearInterval(tick) };
}
