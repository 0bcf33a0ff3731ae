/**
 * The CommonJS dependencies the serving process uses, loaded with `require`. Imported as ES
 * modules, Node builds each a module namespace after lexing its source for named exports; for
 * ipaddr.js and dns-packet that kept about 2 MB more RSS (bench/RESULTS.md, "RSS idle"). The
 * types stay the packages' own.
 */
import { createRequire } from 'node:module';
import type * as DnsPacketModule from 'dns-packet';
import type * as IpAddrModule from 'ipaddr.js';

const require = createRequire(import.meta.url);

export const ipaddr = require('ipaddr.js') as typeof IpAddrModule;
// The address classes, as types (`ipaddr.IPv4`), as the default import gave them.
export declare namespace ipaddr {
  export type IPv4 = IpAddrModule.IPv4;
  export type IPv6 = IpAddrModule.IPv6;
}

export const dnsPacket = require('dns-packet') as typeof DnsPacketModule;
export declare namespace dnsPacket {
  export type Packet = DnsPacketModule.Packet;
  export type Answer = DnsPacketModule.Answer;
}
