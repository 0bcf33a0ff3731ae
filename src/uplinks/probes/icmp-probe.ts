/**
 * `icmp`: run `ping -c 1 -I <interface>` through the host port; Node has no ICMP or raw sockets.
 * `-I interface` binds the device (SO_BINDTODEVICE), so the echo leaves through the uplink
 * whatever the routes say. The RTT is ping's own measurement.
 */
import { isIPv6 } from 'node:net';
import { HostError, systemHost } from '../../host/host-port.js';
import type { Probe } from './probe.js';

const RTT = /time[=<]([\d.]+) ?ms/;

export const icmpProbe: Probe = async (spec, ctx) => {
  const label = `icmp to ${spec.target}`;
  const seconds = Math.max(0.1, spec.timeoutMs / 1000).toFixed(1);
  const args = [...(isIPv6(spec.target) ? ['-6'] : ['-4']), '-n', '-c', '1', '-W', seconds, '-I', ctx.iface, spec.target];
  try {
    const m = RTT.exec(await (ctx.host ?? systemHost).run('ping', args, { timeoutMs: spec.timeoutMs + 1000 }));
    return m ? { ok: true, rttMs: Number(m[1]) } : { ok: false, error: `${label}: no reply in ${spec.timeoutMs} ms` };
  } catch (e) {
    if (e instanceof HostError && e.code === 'HOST_MISSING') return { ok: false, error: `${label}: ping is not installed` };
    const stderr = e instanceof HostError ? e.stderr : '';
    return { ok: false, error: `${label}: ${stderr.trim().split('\n')[0] || `no reply in ${spec.timeoutMs} ms`}` };
  }
};
