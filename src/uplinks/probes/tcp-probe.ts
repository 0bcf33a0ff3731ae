/** `tcp`: a connect to target:port from the uplink's source; the handshake completing counts. */
import net from 'node:net';
import { elapsedMs, hostPort, type Probe } from './probe.js';

export const tcpProbe: Probe = (spec, ctx) => {
  const { host, port } = hostPort(spec.target, spec.port ?? 443);
  const label = `tcp to ${host}:${port}`;
  if (ctx.source === undefined) return Promise.resolve({ ok: false, error: `${label}: no source address on ${ctx.iface}` });
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const sock = net.connect({ host, port, localAddress: ctx.source });
    let done = false;
    const finish = (r: Awaited<ReturnType<Probe>>) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, error: `${label}: timeout after ${spec.timeoutMs} ms` }), spec.timeoutMs);
    sock.once('connect', () => finish({ ok: true, rttMs: elapsedMs(start) }));
    sock.once('error', (e) => finish({ ok: false, error: `${label}: ${e.message}` }));
  });
};
