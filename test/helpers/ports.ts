/** A port free for both UDP and TCP on an address, so one number serves both protocols. */
import dgram from 'node:dgram';
import net from 'node:net';

async function tryPort(address: string, port: number): Promise<boolean> {
  const udp = dgram.createSocket('udp4');
  const ok = await new Promise<boolean>((resolve) => {
    udp.once('error', () => resolve(false));
    udp.bind(port, address, () => resolve(true));
  });
  if (!ok) return false;
  const tcp = net.createServer();
  const okTcp = await new Promise<boolean>((resolve) => {
    tcp.once('error', () => resolve(false));
    tcp.listen(port, address, () => resolve(true));
  });
  await new Promise<void>((r) => udp.close(() => r()));
  if (okTcp) await new Promise<void>((r) => tcp.close(() => r()));
  return okTcp;
}

export async function freePort(address = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    if (await tryPort(address, port)) return port;
  }
  throw new Error('no free port found');
}
