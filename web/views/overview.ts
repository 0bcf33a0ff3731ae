/** Overview: qps by transport (15 minutes), cache hit ratio, answer sources, latency, top names and clients, and the writes. */
import { ApiError, post } from '../api.js';
import { lineChart } from '../chart.js';
import { card, h, stat, table } from '../dom.js';
import type { Feed } from '../feed.js';
import { num, pct } from '../format.js';
import type { View } from '../view.js';

const TRANSPORTS = ['udp', 'tcp', 'dot', 'doh'];
const SOURCES = ['local', 'cache', 'upstream', 'stale', 'error'];

function actions(): HTMLElement {
  const out = h('div', { class: 'result', role: 'status', 'aria-live': 'polite' });
  const flush = async () => {
    out.replaceChildren('flushing…');
    try {
      const r = await post<{ flushed: number }>('/cache/flush', {});
      out.replaceChildren(`flushed ${r.flushed} entries`);
    } catch (e) { out.replaceChildren(h('span', { class: 'error' }, (e as Error).message)); }
  };
  const reload = async () => {
    out.replaceChildren('reloading…');
    try {
      await post('/reload');
      out.replaceChildren('config reloaded');
    } catch (e) {
      const issues = e instanceof ApiError ? (e.body.issues as Array<{ file: string; line: number; col: number; path: string; message: string }> | null) : null;
      out.replaceChildren(h('p', { class: 'error' }, `reload refused, the running config stays: ${(e as Error).message}`),
        issues ? h('ul', { class: 'issues' }, ...issues.map((i) => h('li', null, h('code', null, `${i.file}:${i.line}:${i.col}`), ` ${i.path}: ${i.message}`))) : '');
    }
  };
  return card('Actions',
    h('div', { class: 'buttons' },
      h('button', { type: 'button', onclick: flush, id: 'flush-cache' }, 'Flush cache'),
      h('button', { type: 'button', onclick: reload, id: 'reload-config' }, 'Reload config')),
    out);
}

export function overview(feed: Feed): View {
  const numbers = h('div', { class: 'stats' });
  const chart = h('div');
  const sources = h('div');
  const tops = h('div', { class: 'grid2' });
  const el = h('div', { class: 'view' }, h('h1', null, 'Overview'), numbers, card('Queries per second, last 15 minutes', chart), sources, tops, actions());

  function draw(): void {
    const s = feed.stats;
    if (s) {
      numbers.replaceChildren(
        stat('queries', num(s.queries), 'queries-total'),
        stat('queries/s (last minute)', num(s.qps, 1), 'qps'),
        stat('cache hit ratio', pct(s.cacheHitRatio ?? null), 'hit-ratio'),
        stat('latency p50 / p90 / p99 (ms)', [s.latencyMs.p50, s.latencyMs.p90, s.latencyMs.p99].map((v) => (v === null ? '—' : v < 1 ? v.toFixed(2) : v.toFixed(1))).join(' / ')),
        stat('refused / dropped', `${num(s.refused)} / ${num(s.dropped)}`),
      );
      const total = SOURCES.reduce((a, k) => a + (s.bySource[k] ?? 0), 0);
      sources.replaceChildren(card('Answers by source',
        h('div', { class: 'bar', role: 'img', 'aria-label': SOURCES.map((k) => `${k} ${s.bySource[k] ?? 0}`).join(', ') },
          ...SOURCES.map((k, i) => h('span', { class: `s${i}`, style: `flex-grow:${total ? (s.bySource[k] ?? 0) : 0}` }))),
        h('ul', { class: 'legend' }, ...SOURCES.map((k, i) => h('li', { class: `s${i}` }, `${k} ${num(s.bySource[k] ?? 0)} (${pct(total ? (s.bySource[k] ?? 0) / total : null)})`)))));
      const est = s.topEstimated ? h('span', { class: 'badge warn', title: 'sampling is in force above 20,000 queries/s' }, 'estimated') : null;
      tops.replaceChildren(
        card('Top names (5 minutes)', est, table(['name', 'queries'], s.topNames.map((n) => [n.name, num(n.count)]))),
        h('section', { class: 'card', id: 'top-clients' }, h('h2', null, 'Top clients (5 minutes)'), est,
          table(['client', 'address', 'queries'], s.topClients.map((c) => [c.name ?? '—', c.client, num(c.count)]))),
      );
    }
    const times = feed.samples.map((x) => x.at);
    chart.replaceChildren(lineChart('queries per second by transport', times,
      TRANSPORTS.map((t) => ({ label: t, values: feed.samples.map((x) => x.qps[t] ?? 0) })), (v) => `${num(v, 1)}/s`));
  }
  draw();
  return { el, update: (k) => { if (k === 'stats' || k === 'sample') draw(); } };
}
