/** `edgedns show …`, `cache flush`, `reload`: the operator's commands, over the admin API. */
import type { Config } from '../config/types.js';
import { requestAny, targetsFor } from './admin-client.js';
import { ago, bytes, count, duration, ms, table } from './format.js';

type J = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const SHOW_VIEWS = ['stats', 'cache', 'zone', 'leases', 'upstreams', 'uplinks', 'policies', 'wireguard', 'queueing', 'ddns', 'ha'] as const;
export type ShowView = (typeof SHOW_VIEWS)[number];

const PATHS: Record<ShowView, string> = {
  stats: '/stats', cache: '/cache', zone: '/zone', leases: '/leases', upstreams: '/upstreams', uplinks: '/uplinks', policies: '/policies', wireguard: '/wireguard', queueing: '/queueing', ddns: '/ddns', ha: '/ha',
};

const pairs = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${count(v)}`).join(', ') || '—';

export function render(view: ShowView, d: J): string {
  switch (view) {
    case 'stats':
      return [
        `queries     ${count(d.queries)} total, ${count(d.qps)} qps (last minute), up ${duration(d.uptimeSeconds)}`,
        `latency     p50 ${ms(d.latencyMs.p50)}, p90 ${ms(d.latencyMs.p90)}, p99 ${ms(d.latencyMs.p99)} (bucket upper bounds)`,
        `transport   ${pairs(d.byTransport)}`,
        `rcode       ${pairs(d.byRcode)}`,
        `answered    ${pairs(d.bySource)}`,
        `refused ${count(d.refused)}, dropped ${count(d.dropped)}, coalesced ${count(d.coalesced)}`,
        `udp i/o     ${(d.udpIo as J[] | undefined)?.map((u) => `${u.listener.replace(/^udp\|/, '')} ${u.io}${u.io === 'recvmmsg' ? ` (${count(u.datagrams)} datagrams in ${count(u.batches)} batches)` : ''}`).join(', ') || '—'}`,
        '',
        `top names (last 5 minutes${d.topEstimated ? ', estimated' : ''})`,
        table(['name', 'queries'], d.topNames.map((n: J) => [n.name, count(n.count)])),
        `top clients (last 5 minutes${d.topEstimated ? ', estimated' : ''})`,
        table(['client', 'name', 'queries'], d.topClients.map((c: J) => [c.client, c.name, count(c.count)])),
      ].join('\n');
    case 'cache':
      return table(['entries', 'bytes', 'hits', 'misses', 'hit ratio', 'evictions', 'stale served', 'prefetches'],
        [[count(d.entries), bytes(d.bytes), count(d.hits), count(d.misses), `${(d.hitRatio * 100).toFixed(1)}%`, count(d.evictions), count(d.staleServed), count(d.prefetches)]]);
    case 'zone':
      return `zone ${d.domain}\n` + table(['name', 'type', 'ttl', 'value', 'from'], d.records.map((r: J) => [r.name, r.type, r.ttl, r.value, r.origin]));
    case 'leases':
      return table(['name', 'address', 'expires', 'source', 'state'], d.leases.map((l: J) => [l.name, l.address, ago(l.expires), l.source, l.state]));
    case 'upstreams':
      return table(['name', 'protocol', 'state', 'rtt', 'queries', 'errors', 'uplink', 'last error'],
        d.upstreams.map((u: J) => [u.name, u.protocol, u.state, ms(u.rtt), count(u.queries), count(u.errors), u.uplink, u.lastError]));
    case 'uplinks': {
      if (d.uplinks.length === 0) return 'no uplinks configured\n';
      const sel = d.selection as J | null;
      const routing = d.routing as J;
      return [
        `policy      ${d.mode}; selected ${sel?.active.join(', ') || '—'}${sel && !sel.healthy ? ' (nothing healthy: last-known-good)' : ''}`,
        `routing     ${routing.enabled ? `on${routing.reason ? `, last error: ${routing.reason}` : ''}` : `off (${routing.reason})`}`,
        ...(d.flows ? [`flows       nat ${d.flows.nat}; on failover ${d.flows.onFailover}${d.flows.l4Hash ? '; multipath hashed per flow (L4)' : ''}${d.flows.publishing ? '' : '; not published (HA backup)'}${d.flows.error ? `; ${d.flows.error}` : ''}`] : []),
        '',
        table(['name', 'interface', 'source', 'state', 'since', 'reason', 'rtt', 'loss', 'flaps', 'selected', 'sessions', 'flushed'],
          d.uplinks.map((u: J) => [u.name, u.interface, u.source, u.state, ago(u.since), u.reason, ms(u.rttMs),
            u.loss === null ? null : `${(u.loss * 100).toFixed(0)}%`, u.flaps, u.selected ? 'yes' : '', u.sessions ?? '—',
            u.lastFlush ? `${count(u.flushed)} (last ${ago(u.lastFlush.at)}: ${count(u.lastFlush.flows)}, ${u.lastFlush.reason})` : count(u.flushed ?? 0)])),
      ].join('\n');
    }
    case 'ha': {
      if (!d.enabled) return 'ha is not configured: this gateway publishes everything it runs\n';
      return [
        `role        ${d.role}${d.since ? ` since ${ago(d.since)}` : ''}${d.seenAt ? ` (taken up ${ago(d.seenAt)})` : ''}; ${count(d.changes)} changes`,
        `state file  ${d.stateFile}`,
        `publishes   ${d.publishes.join(', ') || '—'}`,
        `withheld    ${d.withheld.join(', ') || '—'}`,
        ...(d.follow ? [`follows     ${d.follow.peer}'s dynamic zone: peer serial ${d.follow.peerSerial ?? '—'}, applied ${d.follow.appliedSerial ?? '—'} (${d.follow.inStep ? 'in step' : 'behind'})${d.follow.lastSync ? `, last read ${ago(d.follow.lastSync)}` : ''}${d.follow.error ? `; ${d.follow.error}` : ''}`] : []),
      ].join('\n') + '\n';
    }
    case 'ddns': {
      if (!d.enabled) return 'ddns is not configured\n';
      const rows = Object.entries(d.updates.byKey as Record<string, Record<string, number>>)
        .flatMap(([key, m]) => Object.entries(m).map(([rcode, n]) => [key === '-' ? '(unsigned)' : key, rcode, count(n)]));
      const e = d.updates.lastError as J | null;
      return [
        `zone        serial ${d.zone.serial}; ${d.zone.names} dynamic names; journal ${d.zone.journal}`,
        `transfers   axfr ${d.transfers.axfr}, ixfr ${d.transfers.ixfr}, refused ${d.transfers.refused}; notify sent ${d.notify.sent}, answered ${d.notify.answered}, failed ${d.notify.failed}`,
        `last error  ${e ? `${e.at} ${e.key} from ${e.from}: ${e.rcode} ${e.reason}` : '—'}`,
        '',
        table(['key', 'rcode', 'updates'], rows),
        ...(d.push.length === 0 ? [] : [
          'pushes to external primaries',
          table(['primary', 'zone', 'pending', 'held', 'pushed', 'conflicts', 'last success', 'last error'],
            d.push.map((p: J) => [p.server, p.zone, count(p.pending), count(p.held), count(p.pushed), count(p.conflicts),
              p.lastSuccess ? ago(p.lastSuccess) : '—', p.lastError ? `${ago(p.lastError.at)}: ${p.lastError.reason}${p.retryAt ? ` (retry ${ago(p.retryAt)})` : ''}` : '—'])),
        ]),
      ].join('\n');
    }
    case 'policies': {
      if (d.policies.length === 0) return 'no multi-wan policies configured\n';
      const match = (m: J) => [...m.domains, ...m.source.map((x: string) => `from ${x}`), ...m.destination.map((x: string) => `to ${x}`)].join(', ');
      return (d.error ? `nftables    ${d.error}\n\n` : '') + table(['policy', 'match', 'uplinks', 'in force', 'why', 'since', 'hits', 'addresses', 'moves'],
        d.policies.map((p: J) => [p.name, match(p.match), p.uplinks.join(' > '), p.action === 'uplink' ? p.uplink : p.action, p.reason,
          ago(p.since), p.hits === null ? null : count(p.hits), p.addresses.length, p.moves]));
    }
    case 'wireguard': {
      if (!d.configured) return 'no wireguard section in the config\n';
      const ep = d.endpoint as J | null;
      return [
        `interface   ${d.interface} (${d.implementation ?? 'not applied'}${d.pid ? `, pid ${d.pid}` : ''}), port ${d.listenPort}, public key ${d.publicKey ?? '—'}`,
        `clients     dial ${ep ? `${ep.endpoint}${ep.uplink ? ` (uplink ${ep.uplink})` : ''}` : '— (no endpoint configured)'}`,
        ...(d.error ? [`error       ${d.error}`] : []),
        '',
        table(['peer', 'address', 'handshake', 'rx', 'tx', 'endpoint', 'allowed ips', 'state'],
          d.peers.map((p: J) => [p.name ?? `${String(p.publicKey).slice(0, 8)}…`, (p.address as string[]).join(', '), ago(p.handshake),
            bytes(p.rx ?? 0), bytes(p.tx ?? 0), p.endpoint, (p.allowedIps as string[]).join(', '), p.state])),
      ].join('\n');
    }
    case 'queueing': {
      if (d.uplinks.length === 0) return 'smart queueing is off: no uplink has a bandwidth\n';
      const rate = (v: number | null) => (v === null ? '—' : `${(v / 1e6).toFixed(1)}M`);
      const uplinks = table(['uplink', 'interface', 'qdisc', 'why', 'up', 'down', 'backlog', 'drops', 'marks', 'overlimits', 'offloads', 'autorate'],
        d.uplinks.map((u: J) => [u.name, u.interface, u.qdisc ?? 'none', u.reason, rate(u.rate.up), rate(u.rate.down), bytes(u.backlog),
          count(u.drops), count(u.marks), count(u.overlimits), u.offloads ?? '', u.autorate ? `baseline ${ms(u.autorate.baselineMs)}` : '']));
      const classes = d.uplinks.flatMap((u: J) => (u.classes ?? []).map((c: J) => [u.name, c.direction, c.name, `${rate(c.rate)}–${rate(c.ceil)}`,
        bytes(c.sentBytes), count(c.dropped), count(c.overlimits), bytes(c.backlog), `${c.delayMs.p50} / ${c.delayMs.p99} ms`,
        c.addresses ? (c.addresses as string[]).join(', ') || '(none yet)' : '']));
      return classes.length === 0 ? uplinks : [uplinks, table(['uplink', 'dir', 'class', 'rate–ceil', 'sent', 'drops', 'overlimits', 'backlog', 'delay p50 / p99', 'learned'], classes)].join('\n');
    }
  }
}

export interface AdminCommandOptions {
  admin?: string;
  config?: Config;
  json?: boolean;
}

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export async function show(view: ShowView, o: AdminCommandOptions): Promise<number> {
  const res = await requestAny(targetsFor(o), 'GET', PATHS[view]);
  if (res.status !== 200) {
    process.stderr.write(`edgedns show ${view}: HTTP ${res.status}: ${res.body}`);
    return 1;
  }
  out(o.json ? res.body : render(view, JSON.parse(res.body) as J));
  return 0;
}

export async function cacheFlush(name: string | undefined, o: AdminCommandOptions): Promise<number> {
  const res = await requestAny(targetsFor(o), 'POST', '/cache/flush', name ? { name } : {});
  if (res.status !== 200) {
    process.stderr.write(`edgedns cache flush: HTTP ${res.status}: ${res.body}`);
    return 1;
  }
  const d = JSON.parse(res.body) as J;
  out(o.json ? res.body : `flushed ${d.flushed} ${d.flushed === 1 ? 'entry' : 'entries'}${name ? ` for ${name}` : ''}`);
  return 0;
}

export async function reload(o: AdminCommandOptions): Promise<number> {
  const res = await requestAny(targetsFor(o), 'POST', '/reload');
  const d = JSON.parse(res.body || '{}') as J;
  if (res.status === 200) {
    out(o.json ? res.body : 'reloaded');
    return 0;
  }
  if (o.json) out(res.body);
  else if (Array.isArray(d.issues)) {
    for (const i of d.issues as J[]) process.stderr.write(`${i.file}:${i.line}:${i.col} ${i.path || '(root)'}: ${i.message}\n`);
    process.stderr.write('reload failed: the running config stays\n');
  } else process.stderr.write(`reload failed: ${d.error ?? res.body}\n`);
  return 1;
}
