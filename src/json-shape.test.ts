import { describe, expect, it } from 'vitest';
import { arr, int, JsonShapeError, obj, oneOf, optional, str } from './json-shape.js';

describe('json-shape', () => {
  const peer = obj({ name: str({ min: 1 }), port: optional(int(1, 65535)), scope: oneOf('full', 'split') }, true);
  const file = obj({ version: oneOf(1), peers: arr(peer) });

  it('returns the value typed, leaving out absent optional keys', () => {
    expect(file({ version: 1, peers: [{ name: 'phone', scope: 'full' }, { name: 'nas', port: 51820, scope: 'split' }] }, ''))
      .toEqual({ version: 1, peers: [{ name: 'phone', scope: 'full' }, { name: 'nas', port: 51820, scope: 'split' }] });
  });

  it.each([
    [{ version: 2, peers: [] }, 'version: expected one of 1'],
    [{ version: 1, peers: {} }, 'peers: expected an array'],
    [{ version: 1, peers: [{ name: '', scope: 'full' }] }, 'peers.0.name: expected 1–∞ characters'],
    [{ version: 1, peers: [{ name: 'a', scope: 'full', port: 0 }] }, 'peers.0.port: expected an integer in 1..65535'],
    [{ version: 1, peers: [{ name: 'a', scope: 'full', extra: true }] }, 'peers.0.extra: unknown key'],
    [[], '(root): expected an object'],
  ])('names the first value that does not fit: %j', (v, message) => {
    expect(() => file(v, '')).toThrow(JsonShapeError);
    expect(() => file(v, '')).toThrow(message);
  });

  it('a non-strict object keeps only its known keys', () => {
    expect(obj({ a: int() })({ a: 1, b: 2 }, '')).toEqual({ a: 1 });
    expect(() => str({ pattern: /^[A-Z]+$/ })('abc', 'type')).toThrow('type: does not match');
  });
});
