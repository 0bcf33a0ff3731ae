/** Uplinks: state per uplink, the transitions with reasons, probe RTT and loss, the selection, policies and their hits. */
import { get } from '../api.js';
import { lineChart } from '../chart.js';
import { badge, card, h, table } from '../dom.js';
import type { Feed } from '../feed.js';
import { clock, duration, ms, num, pct } from '../format.js';
import type { Transition } from '../types.js';
import type { View } from '../view.js';

interface Uplink { name: string; interface: string; state: string; since: string | null; reason: string | null; rttMs: number | null; loss: number | null; flaps: number; selected: boolean; holdDownLeftMs: number; source: string | null; gateway: string | null }
interface UplinksStatus { mode: string | null; selection: { active: string[]; healthy: boolean } | null; uplinks: Uplink[]; events: Transition[] }
interface Policy { name: string; action: string; uplink: string | null; reason: string; hits: number | null; moves: number; match: { domains: string[] } }

export function uplinks(feed: Feed): View {
  const body = h('div');
  const el = h('div', { class: 'view' }, h('h1', null, 'Uplinks'), body);
  let status: UplinksStatus | null = null;
  let policies: Policy[] = [];

  async function load(): Promise<void> {
    const [u, p] = await Promise.all([get<UplinksStatus>('/uplinks'), get<{ policies: Policy[] }>('/policies')]);
    status = u;
    policies = p.policies;
    draw();
  }

  function draw(): void {
    if (status === null) return;
    if (status.uplinks.length === 0) {
      body.replaceChildren(card('No uplinks', h('p', null, 'This gateway has no `uplinks:` section.')));
      return;
    }
    // Live transitions first (they arrive before the next read), then what /uplinks held.
    const seen = new Set<string>();
    const events = [...feed.transitions, ...status.events].filter((e) => {
      const k = `${e.uplink} ${e.at} ${e.to}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    }).slice(0, 50);
    const live = new Map(feed.transitions.map((t) => [t.uplink, t] as const));
    const times = feed.samples.map((s) => s.at);
    const series = (f: (p: { rttMs: number | null; loss: number | null }) => number | null) => status!.uplinks.map((u) => ({
      label: u.name, values: feed.samples.map((s) => { const p = s.uplinks.find((x) => x.name === u.name); return p ? f(p) : null; }),
    }));
    body.replaceChildren(
      card('Selection', h('p', { id: 'selection' }, `${status.mode ?? ''}: ${status.selection?.active.join(', ') || 'none'}${status.selection?.healthy === false ? ' (no healthy uplink)' : ''}`)),
      h('div', { class: 'cards' }, ...status.uplinks.map((u) => {
        const t = live.get(u.name);
        const state = t && (!u.since || t.at > Date.parse(u.since)) ? t.to : u.state;
        const reason = t && state === t.to ? t.reason : u.reason;
        return h('section', { class: `card uplink ${state}`, 'data-uplink': u.name },
          h('h2', null, u.name, ' ', badge(state), u.selected ? badge('selected', 'ok') : null),
          h('dl', null,
            h('dt', null, 'interface'), h('dd', null, `${u.interface} ${u.source ?? ''} → ${u.gateway ?? ''}`),
            h('dt', null, 'since'), h('dd', null, u.since ? clock(u.since) : '—'),
            h('dt', null, 'reason'), h('dd', { class: 'reason' }, reason ?? '—'),
            h('dt', null, 'RTT / loss'), h('dd', null, `${ms(u.rttMs)} / ${pct(u.loss)}`),
            h('dt', null, 'flaps'), h('dd', null, num(u.flaps)),
            u.holdDownLeftMs > 0 ? h('dt', null, 'hold-down') : null, u.holdDownLeftMs > 0 ? h('dd', null, duration(u.holdDownLeftMs / 1000)) : null));
      })),
      h('div', { class: 'grid2' },
        card('Probe RTT', lineChart('probe RTT, last 15 minutes', times, series((p) => p.rttMs), (v) => ms(v))),
        card('Probe loss', lineChart('probe loss, last 15 minutes', times, series((p) => p.loss), (v) => pct(v)))),
      h('section', { class: 'card', id: 'uplink-events' }, h('h2', null, 'Events'),
        table(['time', 'uplink', 'from → to', 'reason'], events.map((e) => [clock(e.at), e.uplink, `${e.from} → ${e.to}`, e.reason]), 'no transitions yet')),
      card('Policies', table(['policy', 'domains', 'action', 'uplink', 'hits', 'moves', 'why'], policies.map((p) => [
        p.name, p.match.domains.join(', '), p.action, p.uplink ?? '—', p.hits === null ? '—' : num(p.hits), num(p.moves), p.reason,
      ]), 'no policies')),
    );
  }
  void load();
  return { el, update: (k) => { if (k === 'uplink' || k === 'sample') { draw(); void load(); } } };
}
