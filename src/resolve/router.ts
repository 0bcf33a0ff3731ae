/**
 * Where a name is answered: the local zone, one of its reverse zones, a special-use zone, a
 * `forward` rule's upstreams, or (no match) the default upstreams. Built once per config; the
 * longest matching suffix wins, so `forward: sub.home.arpa` delegates a part of the local zone
 * and a forward rule for a private reverse zone overrides the RFC 6303 default.
 */
import { wireKey } from '../dns/name.js';
import type { UpstreamGroup } from '../upstream/upstream-group.js';
import type { Apex, LocalZone } from '../zone/local-zone.js';
import { specialZones, type EmptyZone } from './special-zones.js';
import { SuffixMatcher } from '../dns/suffix-matcher.js';

export type Route =
  | { kind: 'zone'; apex: Apex }
  | { kind: 'special'; zone: EmptyZone }
  | { kind: 'forward'; domain: string; group: UpstreamGroup };

export function buildRouter(zone: LocalZone, forwards: Array<{ domain: string; group: UpstreamGroup }>): SuffixMatcher<Route> {
  const m = new SuffixMatcher<Route>();
  for (const z of specialZones(zone.apexes[0].name)) m.add(wireKey(z.apex), { kind: 'special', zone: z });
  for (const apex of zone.apexes) m.add(apex.wire, { kind: 'zone', apex });
  for (const f of forwards) m.add(wireKey(f.domain), { kind: 'forward', domain: f.domain, group: f.group });
  return m;
}
