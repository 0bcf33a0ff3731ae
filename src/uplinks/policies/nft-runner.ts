/** The one place the policies run `nft`, through the host port: a script on stdin, and JSON reads of our own table. */
import { HostError, systemHost, type HostPort } from '../../host/host-port.js';
import { DELETE_TABLE, NFT_TABLE, type NftExisting } from './nft-render.js';

/** Runs a script as one transaction: all of it or none. */
export function nftScript(script: string, timeoutMs = 5000, host: HostPort = systemHost): Promise<void> {
  return host.run('nft', ['-f', '-'], { input: script, timeoutMs }).then(() => undefined);
}

interface NftJson { nftables: Array<Record<string, { name?: string; table?: string; packets?: number; bytes?: number }>> }

async function listTable(host: HostPort): Promise<NftJson['nftables']> {
  try {
    return (JSON.parse(await host.run('nft', ['-j', 'list', 'table', 'inet', NFT_TABLE], { timeoutMs: 5000 })) as NftJson).nftables;
  } catch (e) {
    if (e instanceof HostError && e.code === 'HOST_FAILED' && /No such file|does not exist/i.test(e.message)) return [];
    throw e;
  }
}

/** Sets and counters our table holds now (to delete those no policy wants). */
export async function nftExisting(host: HostPort = systemHost): Promise<NftExisting> {
  const items = await listTable(host);
  return {
    sets: items.filter((i) => i.set).map((i) => i.set.name!),
    counters: items.filter((i) => i.counter).map((i) => i.counter.name!),
    chains: items.filter((i) => i.chain).map((i) => i.chain.name!),
  };
}

/** Runs a removal script, then deletes the table once nothing of anyone's is left in it. */
export async function nftRemove(script: string, host: HostPort = systemHost): Promise<void> {
  if (script !== '') await nftScript(script, undefined, host);
  const left = await nftExisting(host);
  const tableThere = (await listTable(host)).some((i) => i.table);
  if (tableThere && left.chains.length + left.sets.length + left.counters.length === 0) await nftScript(DELETE_TABLE, undefined, host);
}

/** Packets counted per policy (the policies count new flows). */
export async function nftCounters(host: HostPort = systemHost): Promise<Map<string, number>> {
  const items = await listTable(host);
  return new Map(items.filter((i) => i.counter).map((i) => [i.counter.name!, i.counter.packets ?? 0]));
}
