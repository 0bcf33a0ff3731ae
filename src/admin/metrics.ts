/**
 * Prometheus metrics via prom-client. The query path only bumps plain counters (QueryStats,
 * cache stats, upstream stats); every family here reads them when scraped, so metrics cost the
 * hot path nothing beyond those increments.
 */
import client from 'prom-client';
import { LATENCY_BUCKETS, TRANSPORTS } from '../resolve/query-stats.js';
import { RCODE_NAMES } from '../dns/constants.js';
import type { TransportCounts } from '../listen/acl-gate.js';
import type { ClassStatus } from '../aqm/queueing-service.js';
import type { AdminSources } from './sources.js';

type Labels = Record<string, string>;

function counter(registry: client.Registry, name: string, help: string, labelNames: string[], read: () => Array<[Labels, number]>) {
  return new client.Counter({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) this.inc(labels, v);
    },
  });
}

function gauge(registry: client.Registry, name: string, help: string, labelNames: string[], read: () => Array<[Labels, number]>) {
  return new client.Gauge({
    name, help, labelNames, registers: [registry],
    collect() {
      this.reset();
      for (const [labels, v] of read()) this.set(labels, v);
    },
  });
}

/** A histogram read from pre-counted buckets (prom-client's own Histogram wants observe()). */
function bucketHistogram(registry: client.Registry, name: string, help: string, read: () => { buckets: Float64Array; sum: number }) {
  registry.registerMetric({
    name, help, type: 'histogram', aggregator: 'sum',
    get: async () => {
      const { buckets, sum } = read();
      let cumulative = 0;
      const values = LATENCY_BUCKETS.map((le, i) => {
        cumulative += buckets[i];
        return { labels: { le: String(le) }, value: cumulative, metricName: `${name}_bucket` };
      });
      cumulative += buckets[LATENCY_BUCKETS.length];
      values.push({ labels: { le: '+Inf' }, value: cumulative, metricName: `${name}_bucket` });
      return {
        name, help, type: 'histogram', aggregator: 'sum',
        values: [...values, { labels: {} as never, value: sum, metricName: `${name}_sum` }, { labels: {} as never, value: cumulative, metricName: `${name}_count` }],
      };
    },
    reset: () => undefined,
  } as unknown as client.Metric);
}

export function createMetrics(src: AdminSources): client.Registry {
  const r = new client.Registry();
  client.collectDefaultMetrics({ register: r });
  counter(r, 'edgedns_queries_total', 'DNS queries answered, by transport and response code', ['transport', 'rcode'], () => {
    const out: Array<[Labels, number]> = [];
    const m = src.resolver().stats.byTransportRcode;
    TRANSPORTS.forEach((t, ti) => {
      for (let rc = 0; rc < 32; rc++) if (m[ti * 32 + rc] > 0) out.push([{ transport: t, rcode: RCODE_NAMES[rc] ?? String(rc) }, m[ti * 32 + rc]]);
    });
    return out;
  });
  counter(r, 'edgedns_answers_total', 'Answers by where they came from', ['source'], () =>
    Object.entries(src.resolver().stats.bySource).map(([source, v]) => [{ source }, v]));
  const perTransport = (c: TransportCounts) => (Object.entries(c) as Array<[string, number]>).map(([transport, n]) => [{ transport }, n] as [Labels, number]);
  const total = (c: TransportCounts) => c.udp + c.tcp + c.dot + c.doh;
  counter(r, 'edgedns_refused_total', 'Queries refused by the ACL', [], () => [[{}, total(src.acl().refused)]]);
  counter(r, 'edgedns_dropped_total', 'Packets dropped (ACL drop, too short, not a query)', [], () => [[{}, src.resolver().stats.dropped + total(src.acl().dropped)]]);
  counter(r, 'edgedns_acl_refused_total', 'Queries refused by the ACL, per transport (REFUSED; HTTP 403 over DoH)', ['transport'], () => perTransport(src.acl().refused));
  counter(r, 'edgedns_acl_dropped_total', 'Packets (UDP) and connections (TCP, DoT, DoH) dropped by the ACL, per transport', ['transport'], () => perTransport(src.acl().dropped));
  counter(r, 'edgedns_tsig_failures_total', 'Signed queries answered NOTAUTH or FORMERR for their TSIG (RFC 8945)', [], () => [[{}, src.resolver().stats.tsigFailures]]);
  counter(r, 'edgedns_ddns_updates_total', 'RFC 2136 UPDATE messages answered, by TSIG key ("-": unsigned) and rcode', ['key', 'rcode'], () => {
    const d = src.ddns();
    return d === null ? [] : Object.entries(d.updates.byKey).flatMap(([key, m]) => Object.entries(m).map(([rcode, n]) => [{ key, rcode }, n] as [Record<string, string>, number]));
  });
  gauge(r, 'edgedns_zone_serial', 'The SOA serial of the local zones (ddns configured)', [], () => { const d = src.ddns(); return d === null ? [] : [[{}, d.zone.serial]]; });
  counter(r, 'edgedns_zone_transfers_total', 'Zone transfers served, by kind (axfr, ixfr) and refused', ['kind'], () => {
    const d = src.ddns();
    return d === null ? [] : [[{ kind: 'axfr' }, d.transfers.axfr], [{ kind: 'ixfr' }, d.transfers.ixfr], [{ kind: 'refused' }, d.transfers.refused]];
  });
  gauge(r, 'edgedns_ddns_push_pending', 'Lease names not yet where they should be on an external primary (ddns.push)', ['primary'], () =>
    (src.ddns()?.push ?? []).map((p) => [{ primary: `${p.server}/${p.zone}` }, p.pending]));
  counter(r, 'edgedns_ddns_pushes_total', 'UPDATEs an external primary accepted from us', ['primary'], () =>
    (src.ddns()?.push ?? []).map((p) => [{ primary: `${p.server}/${p.zone}` }, p.pushed]));
  counter(r, 'edgedns_ddns_push_conflicts_total', 'Names an external primary holds for another client (RFC 4703), left alone', ['primary'], () =>
    (src.ddns()?.push ?? []).map((p) => [{ primary: `${p.server}/${p.zone}` }, p.conflicts]));
  counter(r, 'edgedns_ddns_push_failures_total', 'Pushes that got no answer, a refusal or a bad signature (retried with backoff)', ['primary'], () =>
    (src.ddns()?.push ?? []).map((p) => [{ primary: `${p.server}/${p.zone}` }, p.failures]));
  bucketHistogram(r, 'edgedns_query_duration_seconds', 'Time from a query arriving to its answer being handed to the socket', () => {
    const s = src.resolver().stats;
    return { buckets: s.latency, sum: s.latencySum };
  });
  const cache = () => src.resolver().cacheStats();
  gauge(r, 'edgedns_udp_io', '1 per UDP listener, labelled with its I/O path: recvmmsg (native batches) or dgram', ['listener', 'io'], () =>
    src.udpIo().map((u) => [{ listener: u.listener, io: u.io }, 1]));
  counter(r, 'edgedns_udp_batches_total', 'recvmmsg calls that returned datagrams (native path)', ['listener'], () =>
    src.udpIo().filter((u) => u.batches !== undefined).map((u) => [{ listener: u.listener }, u.batches!]));
  counter(r, 'edgedns_udp_datagrams_total', 'Datagrams received in batches (native path)', ['listener'], () =>
    src.udpIo().filter((u) => u.datagrams !== undefined).map((u) => [{ listener: u.listener }, u.datagrams!]));
  counter(r, 'edgedns_udp_send_errors_total', 'Answers the kernel refused to send (native path)', ['listener'], () =>
    src.udpIo().filter((u) => u.sendErrors !== undefined).map((u) => [{ listener: u.listener }, u.sendErrors!]));
  counter(r, 'edgedns_doh_h2_refused_total', 'HTTP/2 (DoH) connections closed and streams refused, by reason (badPreface, frameSize, continuationFlood, headerBlock, headerList, hpack, rapidReset, pingFlood, settingsFlood, streamIdBackwards, refusedStream, flowControl, protocol, slowReader)', ['reason'], () =>
    Object.entries(src.dohRefused()).map(([reason, n]) => [{ reason }, n]));
  gauge(r, 'edgedns_cache_entries', 'Answers in the cache', [], () => [[{}, cache().entries]]);
  gauge(r, 'edgedns_cache_bytes', 'Bytes the cache accounts for', [], () => [[{}, cache().bytes]]);
  gauge(r, 'edgedns_cache_slab_bytes', 'Bytes of off-heap slab the cache has made (its high-water mark, within cache.size)', [], () => [[{}, cache().slabBytes]]);
  counter(r, 'edgedns_cache_hits_total', 'Cache hits', [], () => [[{}, cache().hits]]);
  counter(r, 'edgedns_cache_misses_total', 'Cache misses', [], () => [[{}, cache().misses]]);
  counter(r, 'edgedns_cache_evictions_total', 'Entries evicted to stay within cache.size', [], () => [[{}, cache().evictions]]);
  counter(r, 'edgedns_cache_stale_served_total', 'Stale answers served because every upstream failed (RFC 8767)', [], () => [[{}, cache().staleServed]]);
  counter(r, 'edgedns_cache_prefetches_total', 'Popular entries refreshed before they expired', [], () => [[{}, cache().prefetches]]);
  const ups = () => src.resolver().upstreamStats().map((u) => [{ upstream: u.name, protocol: u.protocol }, u] as const);
  counter(r, 'edgedns_upstream_queries_total', 'Queries sent to each upstream', ['upstream', 'protocol'], () => ups().map(([l, u]) => [l, u.queries]));
  counter(r, 'edgedns_upstream_errors_total', 'Failed queries (timeouts, network errors) per upstream', ['upstream', 'protocol'], () => ups().map(([l, u]) => [l, u.errors]));
  gauge(r, 'edgedns_upstream_rtt_seconds', 'Round-trip time per upstream (EWMA)', ['upstream', 'protocol'], () =>
    ups().filter(([, u]) => u.rtt !== null).map(([l, u]) => [l, u.rtt! / 1000]));
  gauge(r, 'edgedns_upstream_up', '1 when the upstream is considered healthy', ['upstream', 'protocol'], () => ups().map(([l, u]) => [l, u.state === 'up' ? 1 : 0]));
  const uplinks = () => src.uplinks().uplinks;
  gauge(r, 'edgedns_uplink_up', '1 when the uplink is up or degraded (multi-WAN)', ['uplink'], () => uplinks().map((u) => [{ uplink: u.name }, u.state === 'down' ? 0 : 1]));
  gauge(r, 'edgedns_uplink_state', '1 for the state the uplink is in', ['uplink', 'state'], () =>
    uplinks().flatMap((u) => (['up', 'degraded', 'down'] as const).map((s) => [{ uplink: u.name, state: s }, u.state === s ? 1 : 0] as [Labels, number])));
  gauge(r, 'edgedns_uplink_selected', '1 when the uplink carries traffic now', ['uplink'], () => uplinks().map((u) => [{ uplink: u.name }, u.selected ? 1 : 0]));
  counter(r, 'edgedns_uplink_flaps_total', 'Times the uplink went down after being up', ['uplink'], () => uplinks().map((u) => [{ uplink: u.name }, u.flaps]));
  gauge(r, 'edgedns_uplink_probe_rtt_seconds', 'Last probe round-trip time per uplink', ['uplink'], () =>
    uplinks().filter((u) => u.rttMs !== null).map((u) => [{ uplink: u.name }, u.rttMs! / 1000]));
  gauge(r, 'edgedns_uplink_probe_loss_ratio', 'Failed share of the last 100 probes per uplink', ['uplink'], () =>
    uplinks().filter((u) => u.loss !== null).map((u) => [{ uplink: u.name }, u.loss!]));
  counter(r, 'edgedns_uplink_flows_flushed_total', 'Conntrack entries removed because their uplink failed (multi-wan.on-failover: flush)', ['uplink'], () =>
    src.flowSnapshot().map((f) => [{ uplink: f.name }, f.flushed]));
  gauge(r, 'edgedns_uplink_sessions', 'Flows leaving by the uplink at the last GET /uplinks (conntrack)', ['uplink'], () =>
    src.flowSnapshot().filter((f) => f.sessions !== null).map((f) => [{ uplink: f.name }, f.sessions!]));
  gauge(r, 'edgedns_ha_master', '1 while this gateway is the VRRP master (or HA is off), 0 otherwise', [], () => [[{}, src.ha().publishing ? 1 : 0]]);
  counter(r, 'edgedns_policy_moves_total', 'Times a multi-WAN policy moved to another uplink, the default, or drop', ['policy'], () =>
    src.policySnapshot().map((p) => [{ policy: p.name }, p.moves]));
  gauge(r, 'edgedns_policy_addresses', 'Addresses a domain policy holds, learned from answers', ['policy'], () =>
    src.policySnapshot().map((p) => [{ policy: p.name }, p.addresses]));
  const perClass = (f: (c: ClassStatus) => number) => () => src.queueingClasses().flatMap((u) =>
    u.status.map((c) => [{ uplink: u.uplink, direction: c.direction, class: c.name }, f(c)] as [Labels, number]));
  const classLabels = ['uplink', 'direction', 'class'];
  counter(r, 'edgedns_queueing_class_sent_bytes_total', 'Bytes sent per traffic class (smart queueing)', classLabels, perClass((c) => c.sentBytes));
  counter(r, 'edgedns_queueing_class_dropped_total', 'Packets dropped per traffic class', classLabels, perClass((c) => c.dropped));
  counter(r, 'edgedns_queueing_class_overlimits_total', 'Times a traffic class was held back by its rate', classLabels, perClass((c) => c.overlimits));
  gauge(r, 'edgedns_queueing_class_backlog_bytes', 'Bytes queued per traffic class', classLabels, perClass((c) => c.backlog));
  gauge(r, 'edgedns_queueing_class_delay_seconds', 'Estimated queue delay per traffic class (backlog ÷ ceiling), over the last minute', [...classLabels, 'quantile'], () =>
    src.queueingClasses().flatMap((u) => u.status.flatMap((c) => [['0.5', c.delayMs.p50], ['0.99', c.delayMs.p99]].map(([q, v]) =>
      [{ uplink: u.uplink, direction: c.direction, class: c.name, quantile: q as string }, (v as number) / 1000] as [Labels, number]))));
  gauge(r, 'edgedns_queueing_rate_bits', 'Shaped rate per uplink and direction (smart queueing, autorate included)', ['uplink', 'direction'], () =>
    src.queueingRates().flatMap((q) => [['up', q.up], ['down', q.down]].filter(([, v]) => v !== null).map(([d, v]) => [{ uplink: q.uplink, direction: d as string }, v as number] as [Labels, number])));
  const wgPeers = () => src.wireguardPeers().map((p) => [{ peer: p.name ?? p.publicKey }, p] as const);
  gauge(r, 'edgedns_wireguard_peers', 'WireGuard peers by state (up: handshake under 3 minutes ago)', ['state'], () =>
    (['up', 'stale', 'never'] as const).map((s) => [{ state: s }, src.wireguardPeers().filter((p) => p.state === s).length]));
  counter(r, 'edgedns_wireguard_peer_receive_bytes_total', 'Bytes received from each WireGuard peer', ['peer'], () => wgPeers().map(([l, p]) => [l, p.rx]));
  counter(r, 'edgedns_wireguard_peer_transmit_bytes_total', 'Bytes sent to each WireGuard peer', ['peer'], () => wgPeers().map(([l, p]) => [l, p.tx]));
  gauge(r, 'edgedns_wireguard_peer_handshake_age_seconds', 'Seconds since the latest handshake with each peer', ['peer'], () =>
    wgPeers().filter(([, p]) => p.handshakeAgeS !== null).map(([l, p]) => [l, p.handshakeAgeS!]));
  gauge(r, 'edgedns_lease_names', 'Names served from DHCP leases', ['source'], () => {
    const bySource = new Map<string, number>();
    for (const l of src.leases()) if (l.state === 'active') bySource.set(l.source, (bySource.get(l.source) ?? 0) + 1);
    return [...bySource].map(([source, n]) => [{ source }, n]);
  });
  return r;
}
