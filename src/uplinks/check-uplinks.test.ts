import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/errors.js';
import { parseEdgeConfig as parseConfig } from '../app/sections.js';

function issues(yaml: string): string[] {
  try {
    parseConfig(yaml, 'edgedns.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.line}:${i.col} ${i.path}: ${i.message}`);
    throw e;
  }
  return [];
}

describe('uplinks and multi-wan config checks', () => {
  it('accepts the CONFIG.md example shape', () => {
    expect(issues(`
uplinks:
  - name: wan-a
    interface: wan1
    source: 10.201.0.2
    gateway: 10.201.0.1
    table: 101
    probes:
      - { type: dns, target: 10.250.0.53, interval: 1s, timeout: 500ms }
      - { type: icmp, target: 10.250.0.53 }
      - { type: tcp, target: "10.250.0.53:443" }
      - { type: http, target: "http://10.250.0.80/" }
multi-wan: { mode: load-balance, apply-routes: true }
`)).toEqual([]);
  });

  it('names the key and line of each mistake', () => {
    expect(issues(`
uplinks:
  - name: wan-a
    interface: wan1
    table: 254
    probes:
      - { type: icmp, target: isp.example }
      - { type: dns, target: 10.250.0.53, interval: 200ms, timeout: 1s }
    min-targets-up: 3
  - name: wan-a
    interface: wan2
    source: 10.202.0.2
    gateway: "fd00::1"
`)).toEqual([
      '5:12 uplinks[0].table: table 254 is reserved by the kernel',
      '7:31 uplinks[0].probes[0].target: an icmp probe needs an IP address',
      '8:69 uplinks[0].probes[1].timeout: timeout is longer than interval',
      '9:21 uplinks[0].min-targets-up: 3 targets needed but only 2 probes',
      '10:11 uplinks[1].name: uplink "wan-a" is already defined (uplinks[0])',
      '13:14 uplinks[1].gateway: source and gateway must be of one address family',
    ]);
  });

  it('refuses a table used twice, or the default table', () => {
    expect(issues(`
uplinks:
  - { name: a, interface: wan1, table: 100 }
  - { name: b, interface: wan2 }
  - { name: c, interface: wan3, table: 102 }
`)).toEqual([
      '3:40 uplinks[0].table: table 100 is multi-wan.default-table',
      '5:40 uplinks[2].table: table 102 is already used by uplinks[1]',
    ]);
  });
});
