import { describe, expect, it } from 'vitest';
import { encodeResponse, HpackDecoder, HpackError } from './hpack.js';
import { captureClientBlocks } from '../../../test/helpers/h2-raw.js';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('HPACK decoder (RFC 7541)', () => {
  it('decodes the RFC\'s request examples with Huffman (C.4), keeping the dynamic table across blocks', () => {
    const d = new HpackDecoder();
    expect(d.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff')).headers).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']]);
    expect(d.dynamicSize).toBe(57);
    expect(d.decode(hex('8286 84be 5886 a8eb 1064 9cbf')).headers).toEqual([
      [':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']]);
    const third = d.decode(hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'));
    expect(third.headers).toEqual([
      [':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']]);
    expect(d.dynamicSize).toBe(164);
    expect(third.size).toBe(5 * 32 + 7 + 3 + 7 + 5 + 5 + 11 + 10 + 15 + 10 + 12);
  });

  it('decodes the plain-literal examples (C.3) and evicts by size', () => {
    const d = new HpackDecoder();
    expect(d.decode(hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d')).headers[3]).toEqual([':authority', 'www.example.com']);
    // a table size update to 0 empties the table: index 62 no longer exists
    d.decode(hex('20'));
    expect(d.dynamicSize).toBe(0);
    expect(() => d.decode(hex('be'))).toThrow(HpackError);
  });

  it('refuses what would break it: index 0, a table above what we advertised, cut strings, runaway integers, a late size update', () => {
    const d = () => new HpackDecoder();
    expect(() => d().decode(hex('80'))).toThrow(HpackError);
    expect(() => d().decode(hex('3fe21f'))).toThrow(/SETTINGS_HEADER_TABLE_SIZE/); // 4097
    expect(() => d().decode(hex('3fe11f'))).not.toThrow(); // 4096
    expect(() => d().decode(hex('400a 6162'))).toThrow(/beyond the block/);
    expect(() => d().decode(hex('ff ffffffffff 01'))).toThrow(/too large/);
    expect(() => d().decode(hex('82 20'))).toThrow(/after a header/);
    expect(() => d().decode(hex('4082 ffff 01 61'))).toThrow(/Huffman/); // EOS inside a name
  });

  it('decodes what Node\'s own HTTP/2 client (nghttp2) sends, Huffman and dynamic table included', async () => {
    // nghttp2 encodes the same request twice: the second block leans on its dynamic table entries
    const blocks = await captureClientBlocks([
      { ':method': 'GET', ':path': '/dns-query?dns=AAABAAABAAAAAAAAB2V4YW1wbGUDY29tAAABAAE', accept: 'application/dns-message', 'user-agent': 'curl/7.88.1' },
      { ':method': 'POST', ':path': '/dns-query', 'content-type': 'application/dns-message', accept: 'application/dns-message', 'user-agent': 'curl/7.88.1' },
    ]);
    const d = new HpackDecoder();
    const first = Object.fromEntries(d.decode(blocks[0]).headers);
    expect(first).toMatchObject({ ':method': 'GET', ':path': '/dns-query?dns=AAABAAABAAAAAAAAB2V4YW1wbGUDY29tAAABAAE', accept: 'application/dns-message' });
    const second = Object.fromEntries(d.decode(blocks[1]).headers);
    expect(second).toMatchObject({ ':method': 'POST', 'content-type': 'application/dns-message', 'user-agent': 'curl/7.88.1' });
  });
});

describe('HPACK response encoding', () => {
  it('static :status, literal never-indexed headers, which our decoder and the RFC agree on', () => {
    const b = encodeResponse(200, { 'content-type': 'application/dns-message', 'cache-control': 'max-age=300', 'content-length': 45 });
    expect(b[0]).toBe(0x88);
    expect(new HpackDecoder().decode(b).headers).toEqual([
      [':status', '200'], ['content-type', 'application/dns-message'], ['cache-control', 'max-age=300'], ['content-length', '45']]);
    expect(new HpackDecoder().decode(encodeResponse(415, { 'x-thing': 'y' })).headers).toEqual([[':status', '415'], ['x-thing', 'y']]);
  });
});
