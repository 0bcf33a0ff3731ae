import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { makeQuery } from '../../test/helpers/packets.js';
import { parseQuery, ParseStatus } from './query.js';
import { ServerCookies } from './server-cookies.js';
import { siphash24 } from './siphash.js';
import { checkTsig, signResponse, type TsigKey } from './tsig.js';
import { TsigError } from './constants.js';
import { encodeName } from './name.js';

describe('SipHash-2-4', () => {
  it('matches the reference vectors', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    const out = Buffer.alloc(8);
    const hash = (n: number) => { siphash24(key, Uint8Array.from({ length: n }, (_, i) => i), out); return out.toString('hex'); };
    expect(hash(0)).toBe('310e0edd47db6f72');
    expect(hash(8)).toBe('6224939a79f5f593');
    expect(hash(15)).toBe('e545be4961ca29a1');
    expect(hash(63)).toBe('724506eb4c328a95');
  });
});

describe('server cookies (RFC 9018)', () => {
  it('builds the RFC 9018 appendix A.1 cookie', () => {
    const cookies = new ServerCookies(Buffer.from('e5e973e5a6b2a43f48e7dc849e37bfcf', 'hex'));
    const query = Buffer.from('2464c4abcf10c957', 'hex');
    const q = { ...parseQuery(makeQuery('a.example')), cookieAt: 0, cookieLen: 8 };
    expect(cookies.answer(query, q, '198.51.100.100', 1559731985)).toBe(false);
    expect(q.cookieOut!.toString('hex')).toBe('2464c4abcf10c957010000005cf79f111f8130c3eee29480');
  });

  it('accepts its own cookie for an hour, from the same client address only', () => {
    const cookies = new ServerCookies();
    const q = { ...parseQuery(makeQuery('a.example')), cookieAt: 0, cookieLen: 8 };
    cookies.answer(Buffer.from('0102030405060708', 'hex'), q, '10.0.0.5', 1000);
    const issued = q.cookieOut!;
    const back = { ...q, cookieLen: 24, cookieOut: null };
    expect(cookies.answer(issued, back, '10.0.0.5', 1000 + 3599)).toBe(true);
    expect(cookies.answer(issued, back, '10.0.0.5', 1000 + 3601)).toBe(false);
    expect(cookies.answer(issued, back, '10.0.0.6', 1001)).toBe(false);
  });

  it('parses the COOKIE option and calls a malformed length FORMERR (RFC 7873 §5.2.2)', () => {
    const withCookie = (len: number) => {
      const base = makeQuery('a.example', 'A', { edns: 1232 });
      const opt = Buffer.concat([Buffer.from([0, 10, 0, len]), Buffer.alloc(len, 1)]);
      const out = Buffer.concat([base, opt]);
      out.writeUInt16BE(opt.length, base.length - 2);
      return parseQuery(out);
    };
    expect(withCookie(8)).toMatchObject({ status: ParseStatus.OK, cookieLen: 8 });
    expect(withCookie(24)).toMatchObject({ status: ParseStatus.OK, cookieLen: 24 });
    for (const bad of [0, 7, 9, 15, 41]) expect(withCookie(bad).status).toBe(ParseStatus.FORMERR);
  });
});

describe('TSIG (RFC 8945)', () => {
  const key: TsigKey = { name: 'k.example', algorithm: 'hmac-sha256', secret: Buffer.alloc(32, 9) };
  const keys = new Map([[key.name, key]]);

  /** Sign a query the way a client does (RFC 8945 §4.3.3), independently of tsig.ts. */
  function signQuery(msg: Buffer, time: number, secret = key.secret): Buffer {
    const keyName = encodeName(key.name);
    const alg = encodeName('hmac-sha256');
    const vars = Buffer.concat([keyName, Buffer.from([0, 255, 0, 0, 0, 0]), alg, Buffer.from([0, 0, 0, 0, 0, 0, 1, 44, 0, 0, 0, 0])]);
    vars.writeUInt32BE(time, keyName.length + 6 + alg.length + 2);
    const mac = createHmac('sha256', secret).update(msg).update(vars).digest();
    const rdata = Buffer.concat([alg, Buffer.alloc(10), mac, Buffer.alloc(6)]);
    rdata.writeUInt32BE(time, alg.length + 2);
    rdata.writeUInt16BE(300, alg.length + 6);
    rdata.writeUInt16BE(32, alg.length + 8);
    rdata.writeUInt16BE(msg.readUInt16BE(0), alg.length + 10 + 32);
    const head = Buffer.from([0, 250, 0, 255, 0, 0, 0, 0, 0, 0]);
    head.writeUInt16BE(rdata.length, 8);
    const out = Buffer.concat([msg, keyName, head, rdata]);
    out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
    return out;
  }

  it('accepts a good signature, and says BADSIG, BADKEY or BADTIME as the RFC orders them', () => {
    const query = makeQuery('a.example');
    const signed = signQuery(query, 5000);
    const q = parseQuery(signed);
    expect(q.tsigAt).toBe(query.length);
    expect(checkTsig(signed, q.tsigAt, keys, 5100).error).toBe(0);
    expect(checkTsig(signed, q.tsigAt, keys, 5301).error).toBe(TsigError.BADTIME);
    expect(checkTsig(signed, q.tsigAt, new Map(), 5000).error).toBe(TsigError.BADKEY);
    const forged = signQuery(query, 5000, Buffer.alloc(32, 1));
    expect(checkTsig(forged, q.tsigAt, keys, 5000).error).toBe(TsigError.BADSIG);
    const tampered = Buffer.from(signed);
    tampered[13] ^= 0x20;
    expect(checkTsig(tampered, q.tsigAt, keys, 5000).error).toBe(TsigError.BADSIG);
  });

  it('signs a response over the request MAC, and leaves BADSIG responses unsigned', () => {
    const signed = signQuery(makeQuery('a.example'), 5000);
    const check = checkTsig(signed, parseQuery(signed).tsigAt, keys, 5000);
    const reply = Buffer.from(makeQuery('a.example'));
    reply[2] |= 0x80;
    const out = signResponse(reply, check, 5001);
    expect(out.readUInt16BE(10)).toBe(1);
    const macLen = out.readUInt16BE(out.length - 6 - 32 - 2);
    expect(macLen).toBe(32);
    const len = Buffer.from([0, 32]);
    const vars = Buffer.concat([encodeName(key.name), Buffer.from([0, 255, 0, 0, 0, 0]), encodeName('hmac-sha256'), Buffer.from([0, 0, 0, 0, 0x13, 0x89, 1, 44, 0, 0, 0, 0])]);
    const want = createHmac('sha256', key.secret).update(len).update(check.requestMac).update(reply).update(vars).digest();
    expect(out.subarray(out.length - 6 - 32, out.length - 6).equals(want)).toBe(true);
    const bad = signResponse(reply, { ...check, error: TsigError.BADSIG, key: undefined }, 5001);
    expect(bad.readUInt16BE(bad.length - 8)).toBe(0); // MAC size 0
  });

  it('calls a TSIG record that is not the last one a format error', () => {
    const signed = signQuery(makeQuery('a.example', 'A'), 5000);
    const opt = Buffer.from([0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0]);
    const after = Buffer.concat([signed, opt]);
    after.writeUInt16BE(2, 10);
    expect(parseQuery(after).status).toBe(ParseStatus.FORMERR);
  });
});
