import { describe, expect, it } from 'vitest';
import { roundResult } from './round-result.js';

const up = { ok: true, error: null };
const down = (e: string) => ({ ok: false, error: e });

describe('roundResult: the quorum of probe targets', () => {
  it('one dead target of two does not fail the round with min-targets-up 1', () => {
    const r = roundResult([up, down('dns to 10.250.0.53: timeout after 500 ms')], 1, true, 'wan1');
    expect(r.ok).toBe(true);
    expect(r.why).toBe('dns to 10.250.0.53: timeout after 500 ms (1 of 2 targets up, 1 needed)');
  });

  it('fails when fewer targets than min-targets-up answer', () => {
    expect(roundResult([up, down('a'), down('b')], 2, true, 'wan1').ok).toBe(false);
    expect(roundResult([up, up, down('b')], 2, true, 'wan1').ok).toBe(true);
  });

  it('caps the quorum at the number of probes', () => {
    expect(roundResult([up], 3, true, 'wan1').ok).toBe(true);
  });

  it('an uplink without probes follows its carrier', () => {
    expect(roundResult([], 1, true, 'wan1').ok).toBe(true);
    expect(roundResult([], 1, false, 'wan1')).toEqual({ ok: false, why: 'no carrier on wan1' });
  });
});
