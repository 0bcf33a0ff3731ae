/**
 * `icmp`: spawn `ping -c 1 -I <interface>`; Node has no ICMP or raw sockets. `-I interface`
 * binds the device (SO_BINDTODEVICE), so the echo leaves through the uplink whatever the routes
 * say. The RTT is ping's own measurement.
 */
import { execFile } from 'node:child_process';
import { isIPv6 } from 'node:net';
import type { Probe } from './probe.js';

const RTT = /time[=<]([\d.]+) ?ms/;

export const icmpProbe: Probe = (spec, ctx) => new Promise((resolve) => {
  const label = `icmp to ${spec.target}`;
  const seconds = Math.max(0.1, spec.timeoutMs / 1000).toFixed(1);
  const args = [...(isIPv6(spec.target) ? ['-6'] : ['-4']), '-n', '-c', '1', '-W', seconds, '-I', ctx.iface, spec.target];
  execFile('ping', args, { timeout: spec.timeoutMs + 1000 }, (err, stdout, stderr) => {
    const m = RTT.exec(stdout);
    if (!err && m) resolve({ ok: true, rttMs: Number(m[1]) });
    else if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') resolve({ ok: false, error: `${label}: ping is not installed` });
    else resolve({ ok: false, error: `${label}: ${stderr.trim().split('\n')[0] || `no reply in ${spec.timeoutMs} ms`}` });
  });
});
