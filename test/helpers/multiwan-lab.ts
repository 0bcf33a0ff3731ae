/**
 * The multi-WAN lab of recipe §6 (test/fixtures/multiwan-lab.sh, which the benchmark uses too),
 * made and removed by the test: a gateway namespace with two
 * uplinks (wan1, wan2) to two ISP namespaces, each ISP running a real Unbound on the shared
 * service address 10.250.0.53 that answers `whoami.test` TXT with its own name, and a LAN client
 * namespace routed through the gateway.
 *
 *   isp1 [isp1-lan 10.201.0.1, lo 10.250.0.53] — [wan1 10.201.0.2] gw [wan2 10.202.0.2] — [isp2-lan 10.202.0.1, lo 10.250.0.53] isp2
 *                                                 [lan0 10.203.0.1] — [host0 10.203.0.10] lan
 */
import { execFileSync } from 'node:child_process';
import { dig } from './dig.js';
import { fileURLToPath } from 'node:url';
import { Netns, uniqueName } from './netns.js';
import { Unbound } from './unbound.js';

export const SERVICE = '10.250.0.53';

const SCRIPT = fileURLToPath(new URL('../fixtures/multiwan-lab.sh', import.meta.url));

export class MultiWanLab {
  private readonly prefix = uniqueName();
  readonly gw: Netns;
  readonly isp1: Netns;
  readonly isp2: Netns;
  readonly lan: Netns;
  private readonly unbound: Unbound[] = [];

  constructor() {
    execFileSync('sh', [SCRIPT, 'up', this.prefix]);
    [this.gw, this.isp1, this.isp2, this.lan] = ['gw', 'isp1', 'isp2', 'lan'].map((n) => new Netns(`${this.prefix}-${n}`, true));
  }

  /** `extra`: more zones and local-data both ISPs' Unbound serve (e.g. a name a policy watches). */
  async startIsps(extra: { zones: string[]; data: string[] } = { zones: [], data: [] }): Promise<void> {
    for (const [ns, label] of [[this.isp1, 'isp-a'], [this.isp2, 'isp-b']] as const) {
      this.unbound.push(await Unbound.start({
        netns: ns.name, address: SERVICE,
        zones: ['whoami.test.', ...extra.zones],
        data: [`whoami.test. 0 IN TXT "${label}"`, ...extra.data],
      }));
    }
  }

  /** Set ISP n's side of its uplink down or up (carrier on the gateway's side follows). */
  ispLink(n: 1 | 2, up: boolean): void {
    const ns = n === 1 ? this.isp1 : this.isp2;
    ns.ip('link', 'set', `isp${n}-lan`, up ? 'up' : 'down');
    // A link set down loses its routes; the way back to the LAN must come back with it.
    if (up) ns.ip('route', 'replace', '10.203.0.0/24', 'via', `10.20${n}.0.2`);
  }

  /** `dig` run inside a namespace against an address; the TXT answer, or null. */
  async whoami(ns: Netns, server: string, port = 53): Promise<string | null> {
    const r = await dig([`@${server}`, '-p', String(port), 'whoami.test', 'TXT', '+time=1'], 4000, ns.name).catch(() => null);
    return r?.answer[0]?.data.replace(/"/g, '') ?? null;
  }

  async remove(): Promise<void> {
    await Promise.all(this.unbound.map((u) => u.stop()));
    for (const ns of [this.lan, this.gw, this.isp1, this.isp2]) ns.remove();
  }
}
