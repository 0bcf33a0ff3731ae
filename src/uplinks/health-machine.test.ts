import { describe, expect, it } from 'vitest';
import { HealthMachine } from './health-machine.js';

const settings = { downAfter: 3, upAfter: 2, holdDownMs: 10_000, minUpMs: 0 };

/** A machine past its first (good) round, at t = 0 ms. */
function started(s = settings): HealthMachine {
  const m = new HealthMachine('wan-a', s, 0);
  m.round(true, '', 0);
  return m;
}

describe('HealthMachine (driven clock)', () => {
  it('goes degraded on a failed round and down after down-after failures in a row', () => {
    const m = started();
    expect(m.round(false, 'dns timeout to 10.250.0.53', 1000)).toMatchObject({ from: 'up', to: 'degraded' });
    expect(m.round(false, 'dns timeout to 10.250.0.53', 2000)).toBeNull(); // still degraded, 2 of 3
    expect(m.state).toBe('degraded');
    const t = m.round(false, 'dns timeout to 10.250.0.53', 3000);
    expect(t).toMatchObject({ uplink: 'wan-a', from: 'degraded', to: 'down', at: 3000 });
    expect(t!.reason).toBe('3 consecutive failed rounds: dns timeout to 10.250.0.53');
    expect(m.flaps).toBe(1);
  });

  it('a good round resets the count: failures must be consecutive', () => {
    const m = started();
    m.round(false, 'x', 1000);
    m.round(false, 'x', 2000);
    expect(m.round(true, '', 3000)).toMatchObject({ from: 'degraded', to: 'up' });
    m.round(false, 'x', 4000);
    m.round(false, 'x', 5000);
    expect(m.state).toBe('degraded');
  });

  it('comes back only after up-after good rounds and hold-down since the last failure', () => {
    const m = started();
    for (const t of [1000, 2000, 3000]) m.round(false, 'x', t);
    expect(m.state).toBe('down');
    expect(m.round(true, '', 4000)).toBeNull();
    expect(m.round(true, '', 5000)).toBeNull(); // 2 good rounds, but hold-down (10 s from 3 s) not passed
    expect(m.holdDownLeft(5000)).toBe(8000);
    expect(m.round(true, '', 12_999)).toBeNull();
    const t = m.round(true, '', 13_000);
    expect(t).toMatchObject({ from: 'down', to: 'up', at: 13_000 });
    expect(t!.reason).toContain('hold-down 10s passed');
  });

  it('a failure while down restarts hold-down, so a flapping link stays down', () => {
    const m = started();
    for (const t of [1000, 2000, 3000]) m.round(false, 'x', t);
    let now = 3000;
    for (let i = 0; i < 20; i++) { // good, good, bad … for 20 s
      now += 1000;
      m.round(i % 3 !== 2, 'x', now);
    }
    expect(m.state).toBe('down');
    expect(m.flaps).toBe(1);
  });

  it('carrier loss is down at once; carrier back still needs good rounds and hold-down', () => {
    const m = started();
    expect(m.carrier(false, 'wan1', 500)).toMatchObject({ to: 'down', reason: 'carrier lost on wan1' });
    expect(m.round(true, '', 600)).toBeNull(); // no carrier: a stray good round does not count
    expect(m.carrier(true, 'wan1', 700)).toBeNull();
    expect(m.state).toBe('down');
    m.round(true, '', 1000);
    expect(m.round(true, '', 2000)).toBeNull(); // 2 good rounds; hold-down counts from the return (0.7 s)
    expect(m.round(true, '', 10_699)).toBeNull();
    expect(m.round(true, '', 10_700)).toMatchObject({ to: 'up' });
  });

  it('the first round decides the starting state, without hysteresis or a flap', () => {
    const m = new HealthMachine('wan-b', settings, 0);
    expect(m.round(false, 'tcp to 10.250.0.80:80: connect ECONNREFUSED', 100)).toMatchObject({ from: 'up', to: 'down' });
    expect(m.reason).toMatch(/^first probe round failed/);
    expect(m.flaps).toBe(0);
  });

  it('min-up: back up is not stable until it has stayed up that long', () => {
    const m = started({ ...settings, holdDownMs: 0, minUpMs: 5000 });
    expect(m.isStable(0)).toBe(true); // up since start counts as stable
    for (const t of [1000, 2000, 3000]) m.round(false, 'x', t);
    m.round(true, '', 4000);
    m.round(true, '', 5000);
    expect(m.state).toBe('up');
    expect(m.isStable(9999)).toBe(false);
    expect(m.isStable(10_000)).toBe(true);
  });

  it('counts every fall after being up as a flap', () => {
    const m = started({ ...settings, holdDownMs: 0 });
    let now = 0;
    for (let cycle = 0; cycle < 4; cycle++) {
      for (let i = 0; i < 3; i++) m.round(false, 'x', (now += 1000));
      for (let i = 0; i < 2; i++) m.round(true, '', (now += 1000));
    }
    expect(m.state).toBe('up');
    expect(m.flaps).toBe(4);
  });
});
