/** `dns`: ask the target for `.` NS (or `name` A) from the uplink's source; any answer counts. */
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { randomInt } from 'node:crypto';
import { makeQuery } from '../../dns/make-query.js';
import { RRType } from '../../dns/constants.js';
import { elapsedMs, hostPort, settleOnce, type Probe } from './probe.js';

export const dnsProbe: Probe = async (spec, ctx) => {
  const { host, port } = hostPort(spec.target, spec.port ?? 53);
  const id = randomInt(65536);
  const query = makeQuery(spec.name ?? '', spec.name ? RRType.A : RRType.NS, id);
  const label = `dns to ${spec.target}`;
  if (ctx.source === undefined) return { ok: false, error: `${label}: no source address on ${ctx.iface}` };
  return settleOnce(label, spec.timeoutMs, (done) => {
    const sock = dgram.createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    const start = process.hrtime.bigint();
    sock.on('error', (e) => done({ ok: false, error: `${label}: ${e.message}` }));
    sock.on('message', (msg) => {
      if (msg.length >= 12 && msg.readUInt16BE(0) === id && (msg[2] & 0x80) !== 0) done({ ok: true, rttMs: elapsedMs(start) });
    });
    sock.bind({ port: 0, address: ctx.source }, () => {
      sock.send(query, port, host, (e) => { if (e) done({ ok: false, error: `${label}: ${e.message}` }); });
    });
    return () => sock.close();
  });
};
