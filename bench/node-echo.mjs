// The ceiling: a bare Node UDP server that answers every query with one pre-encoded answer,
// writing only the query's ID. Whatever edgedns does per query costs on top of this.
import dgram from 'node:dgram';

const port = Number(process.argv[2] ?? 53530);
// h00000.bench.test A 192.0.2.1, TTL 3600, with an OPT record
const answer = Buffer.from('000081800001000100000001066830303030300562656e636804746573740000010001066830303030300562656e63680474657374000001000100000e100004c000020100002904d0000000000000', 'hex');
const sock = dgram.createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  const out = Buffer.allocUnsafe(answer.length);
  answer.copy(out);
  out[0] = msg[0];
  out[1] = msg[1];
  sock.send(out, rinfo.port, rinfo.address);
});
sock.bind(port, '127.0.0.1');
