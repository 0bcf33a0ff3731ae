/** Queueing: the shaped rate beside the measured throughput, autorate's rate over time, drops and backlog. */
import { get } from '../api.js';
import { lineChart } from '../chart.js';
import { card, h, table } from '../dom.js';
import type { Feed } from '../feed.js';
import { bits, bytes, num } from '../format.js';
import type { View } from '../view.js';

interface Q { name: string; interface: string; qdisc: string | null; reason: string; rate: { up: number | null; down: number | null }; backlog: number; drops: number; marks: number; overlimits: number; autorate: { up: number | null; down: number | null; baselineMs: number | null; lastChange: string | null } | null }

export function queueing(feed: Feed): View {
  const body = h('div');
  const el = h('div', { class: 'view' }, h('h1', null, 'Queueing'), body);
  let rows: Q[] | null = null;

  async function load(): Promise<void> {
    rows = (await get<{ uplinks: Q[] }>('/queueing')).uplinks;
    draw();
  }

  function draw(): void {
    if (rows === null) return;
    if (rows.length === 0) {
      body.replaceChildren(card('No smart queueing', h('p', null, 'No uplink has `smart-queueing:` set.')));
      return;
    }
    const times = feed.samples.map((s) => s.at);
    body.replaceChildren(
      card('Per uplink', table(['uplink', 'interface', 'qdisc', 'rate up', 'rate down', 'backlog', 'drops', 'ECN marks', 'why'], rows.map((q) => [
        q.name, q.interface, q.qdisc ?? 'not applied', bits(q.rate.up), bits(q.rate.down), bytes(q.backlog), num(q.drops), num(q.marks), q.reason,
      ]))),
      ...rows.flatMap((q) => (['up', 'down'] as const).filter((d) => q.rate[d] !== null).map((d) => {
        const pts = feed.samples.map((s) => s.queueing.find((p) => p.uplink === q.name && p.direction === d));
        return card(`${q.name} ${d}load${q.autorate ? ' (autorate)' : ''}`, lineChart(`${q.name} ${d}: shaped rate and measured throughput`, times, [
          { label: 'shaped rate', values: pts.map((p) => p?.rate ?? null) },
          { label: 'throughput', values: pts.map((p) => p?.throughput ?? null) },
        ], (v) => bits(v)));
      })),
    );
  }
  void load();
  return { el, update: (k) => { if (k === 'sample') void load(); } };
}
