/** `tcp`: a connect to target:port from the uplink's source; the handshake completing counts. */
import net from 'node:net';
import { elapsedMs, hostPort, settleOnce, type Probe } from './probe.js';

export const tcpProbe: Probe = async (spec, ctx) => {
  const { host, port } = hostPort(spec.target, spec.port ?? 443);
  const label = `tcp to ${host}:${port}`;
  if (ctx.source === undefined) return { ok: false, error: `${label}: no source address on ${ctx.iface}` };
  return settleOnce(label, spec.timeoutMs, (done) => {
    const start = process.hrtime.bigint();
    const sock = net.connect({ host, port, localAddress: ctx.source });
    sock.once('connect', () => done({ ok: true, rttMs: elapsedMs(start) }));
    sock.once('error', (e) => done({ ok: false, error: `${label}: ${e.message}` }));
    return () => sock.destroy();
  });
};
