/** Probe type → probe. */
import type { ProbeType } from '../uplink-model.js';
import { dnsProbe } from './dns-probe.js';
import { httpProbe } from './http-probe.js';
import { icmpProbe } from './icmp-probe.js';
import type { Probe } from './probe.js';
import { tcpProbe } from './tcp-probe.js';

export const PROBES: Record<ProbeType, Probe> = { dns: dnsProbe, icmp: icmpProbe, tcp: tcpProbe, http: httpProbe };
export type { Probe, ProbeContext, ProbeResult } from './probe.js';
export { closeHttpProbes } from './http-probe.js';
