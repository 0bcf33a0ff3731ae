/**
 * The multi-WAN lab of recipe §6, made and removed by the test: a gateway namespace with two
 * uplinks (wan1, wan2) to two ISP namespaces, each ISP running a real Unbound on the shared
 * service address 10.250.0.53 that answers `whoami.test` TXT with its own name, and a LAN client
 * namespace routed through the gateway.
 *
 *   isp1 [isp1-lan 10.201.0.1, lo 10.250.0.53] — [wan1 10.201.0.2] gw [wan2 10.202.0.2] — [isp2-lan 10.202.0.1, lo 10.250.0.53] isp2
 *                                                 [lan0 10.203.0.1] — [host0 10.203.0.10] lan
 */
import { execFileSync } from 'node:child_process';
import { dig } from './dig.js';
import { Netns } from './netns.js';
import { Unbound } from './unbound.js';

export const SERVICE = '10.250.0.53';

export class MultiWanLab {
  readonly gw = new Netns();
  readonly isp1 = new Netns();
  readonly isp2 = new Netns();
  readonly lan = new Netns();
  private readonly unbound: Unbound[] = [];

  constructor() {
    const { gw, isp1, isp2, lan } = this;
    gw.ip('link', 'add', 'wan1', 'type', 'veth', 'peer', 'name', 'isp1-lan', 'netns', isp1.name);
    gw.ip('link', 'add', 'wan2', 'type', 'veth', 'peer', 'name', 'isp2-lan', 'netns', isp2.name);
    gw.ip('link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'host0', 'netns', lan.name);
    gw.ip('addr', 'add', '10.201.0.2/24', 'dev', 'wan1');
    gw.ip('addr', 'add', '10.202.0.2/24', 'dev', 'wan2');
    gw.ip('addr', 'add', '10.203.0.1/24', 'dev', 'lan0');
    for (const [ns, dev, addr, back] of [[isp1, 'isp1-lan', '10.201.0.1/24', '10.201.0.2'], [isp2, 'isp2-lan', '10.202.0.1/24', '10.202.0.2']] as const) {
      ns.ip('addr', 'add', addr, 'dev', dev);
      ns.ip('addr', 'add', `${SERVICE}/32`, 'dev', 'lo');
      ns.ip('link', 'set', dev, 'up');
      ns.ip('route', 'add', '10.203.0.0/24', 'via', back); // the way back to the LAN
    }
    lan.ip('addr', 'add', '10.203.0.10/24', 'dev', 'host0');
    lan.ip('link', 'set', 'host0', 'up');
    lan.ip('route', 'add', 'default', 'via', '10.203.0.1');
    for (const dev of ['wan1', 'wan2', 'lan0']) gw.ip('link', 'set', dev, 'up');
    execFileSync('ip', ['netns', 'exec', gw.name, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  }

  async startIsps(): Promise<void> {
    for (const [ns, label] of [[this.isp1, 'isp-a'], [this.isp2, 'isp-b']] as const) {
      this.unbound.push(await Unbound.start({
        netns: ns.name, address: SERVICE,
        zones: ['whoami.test.'],
        data: [`whoami.test. 0 IN TXT "${label}"`],
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
