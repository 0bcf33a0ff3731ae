/** An interface's first address of a family (link-local IPv6 skipped), as the host has it now. */
import os from 'node:os';
import { isLinkLocalV6 } from '../prefix.js';

export function interfaceAddress(iface: string, family: 4 | 6): string | undefined {
  const list = os.networkInterfaces()[iface] ?? [];
  return list.find((a) => (family === 4 ? a.family === 'IPv4' : a.family === 'IPv6' && !isLinkLocalV6(a.address)))?.address;
}
