/** Query log: the live tail, filters, pause, and why each answer came out as it did. */
import { card, h, table } from '../dom.js';
import type { Feed } from '../feed.js';
import { clock, duration, ms } from '../format.js';
import type { QueryEvent } from '../types.js';
import type { View } from '../view.js';

const SHOWN = 200;

export function queries(feed: Feed): View {
  const f = {
    client: h('input', { id: 'f-client', type: 'search', placeholder: 'address or name' }),
    name: h('input', { id: 'f-name', type: 'search', placeholder: 'part of the name' }),
    type: h('input', { id: 'f-type', type: 'search', placeholder: 'A, AAAA…', size: 6 }),
    rcode: h('input', { id: 'f-rcode', type: 'search', placeholder: 'NOERROR…', size: 9 }),
    source: h('select', { id: 'f-source' }, ...['', 'local', 'cache', 'upstream', 'stale', 'error'].map((s) => h('option', { value: s }, s || 'any'))),
  };
  let paused = false;
  let frozen: QueryEvent[] = [];
  const pause = h('button', { type: 'button', 'aria-pressed': 'false', id: 'pause' }, 'Pause');
  pause.addEventListener('click', () => {
    paused = !paused;
    frozen = [...feed.queries];
    pause.textContent = paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(paused));
    draw();
  });
  const why = h('div', { id: 'why' });
  const list = h('div');
  const label = (text: string, input: HTMLElement) => h('label', null, text, input);
  const el = h('div', { class: 'view' }, h('h1', null, 'Query log'),
    card('Filters', h('form', { class: 'filters', role: 'search', onsubmit: (e: Event) => e.preventDefault() },
      label('client', f.client), label('name', f.name), label('type', f.type), label('rcode', f.rcode), label('source', f.source), pause)),
    why, list);
  for (const i of Object.values(f)) i.addEventListener('input', () => draw());

  function explain(q: QueryEvent): void {
    why.replaceChildren(card(`Why ${q.name} ${q.type} got ${q.rcode ?? 'no answer'}`,
      h('dl', { class: 'why' },
        h('dt', null, 'route'), h('dd', null, q.route),
        h('dt', null, 'answered from'), h('dd', null, q.source),
        h('dt', null, 'upstream'), h('dd', null, q.upstream ?? '—'),
        h('dt', null, 'uplink'), h('dd', null, q.uplink ?? '—'),
        h('dt', null, 'cache age'), h('dd', null, q.cacheAgeS === null ? '—' : duration(q.cacheAgeS)),
        h('dt', null, 'time to answer'), h('dd', null, q.ms === 0 ? 'at once: no I/O (such answers are not timed)' : ms(q.ms)),
        h('dt', null, 'client'), h('dd', null, `${q.clientName ?? ''} ${q.client} over ${q.transport}`))));
  }

  function matches(q: QueryEvent): boolean {
    const c = f.client.value.trim().toLowerCase();
    if (c && !q.client.includes(c) && !(q.clientName ?? '').toLowerCase().includes(c)) return false;
    const n = f.name.value.trim().toLowerCase();
    if (n && !q.name.toLowerCase().includes(n)) return false;
    if (f.type.value.trim() && q.type !== f.type.value.trim().toUpperCase()) return false;
    if (f.rcode.value.trim() && (q.rcode ?? '') !== f.rcode.value.trim().toUpperCase()) return false;
    if (f.source.value && q.source !== f.source.value) return false;
    return true;
  }

  function draw(): void {
    const rows = (paused ? frozen : feed.queries).filter(matches).slice(-SHOWN).reverse();
    list.replaceChildren(card(`Latest ${rows.length} queries${paused ? ' (paused)' : ''}`, table(['time', 'client', 'name', 'type', 'rcode', 'source', 'ms'], rows.map((q) => [
      clock(q.at ?? Date.now()), q.clientName ?? q.client,
      h('button', { type: 'button', class: 'link', onclick: () => explain(q), title: 'why did this resolve so' }, q.name),
      q.type, q.rcode ?? '—', q.source, q.ms === 0 ? '<0.01' : q.ms.toFixed(2),
    ]), 'no queries yet: the tail starts when this page opens')));
  }
  draw();
  return { el, update: (k) => { if (k === 'query' && !paused) draw(); } };
}
