/** The one place the policies run `nft`: a script on stdin, and JSON reads of our own table. */
import { execFile } from 'node:child_process';
import { NFT_TABLE, type NftExisting } from './nft-render.js';
import { EdgeError } from '../../errors.js';

export class NftError extends EdgeError<'NFT_FAILED' | 'NFT_MISSING'> {}

function nft(args: string[], input?: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('nft', args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      reject(new NftError(missing ? 'NFT_MISSING' : 'NFT_FAILED', missing ? 'nft (nftables) is not installed' : `nft ${args.join(' ')}: ${stderr.trim().split('\n')[0] || err.message}`, { cause: err }));
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Runs a script as one transaction: all of it or none. */
export function nftScript(script: string, timeoutMs?: number): Promise<void> {
  return nft(['-f', '-'], script, timeoutMs).then(() => undefined);
}

interface NftJson { nftables: Array<Record<string, { name?: string; table?: string; packets?: number; bytes?: number }>> }

async function listTable(): Promise<NftJson['nftables']> {
  try {
    return (JSON.parse(await nft(['-j', 'list', 'table', 'inet', NFT_TABLE])) as NftJson).nftables;
  } catch (e) {
    if (e instanceof NftError && e.code === 'NFT_FAILED' && /No such file|does not exist/i.test(e.message)) return [];
    throw e;
  }
}

/** Sets and counters our table holds now (to delete those no policy wants). */
export async function nftExisting(): Promise<NftExisting> {
  const items = await listTable();
  return {
    sets: items.filter((i) => i.set).map((i) => i.set.name!),
    counters: items.filter((i) => i.counter).map((i) => i.counter.name!),
  };
}

/** Packets counted per policy (the policies count new flows). */
export async function nftCounters(): Promise<Map<string, number>> {
  const items = await listTable();
  return new Map(items.filter((i) => i.counter).map((i) => [i.counter.name!, i.counter.packets ?? 0]));
}
