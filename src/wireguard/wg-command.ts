/**
 * `edgedns wg init | add-peer | remove-peer | apply`: the operator's WireGuard commands. They work
 * on the config file and the state file directly (a running server notices the state file within
 * a second and applies it). Output: the client config alone on stdout, so `> phone.conf` gives a
 * clean file; the QR and notes go to stderr.
 */
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../atomic-write.js';
import type { Config } from '../config/types.js';
import { applyTunnel, dryRunPlan, NO_TUNNEL, readTunnel } from './apply-tunnel.js';
import { nextFreeAddresses } from './address-pool.js';
import { peerProblems } from './check-wireguard.js';
import { generatePresharedKey, generatePrivateKey, publicKeyOf } from './keys.js';
import { loadPeers } from './peer-set.js';
import { qrPng, qrTerminal } from './qr.js';
import { clientAllowedIps, clientEndpoint, renderClientConf, uplinkPreference } from './render.js';
import { loadSecrets, readKeyFile } from './secrets.js';
import { readState, statePeers, writeState } from './state-file.js';
import { pskFileFor, WgError, type TunnelScope, type WgPeer, type WgSettings } from './wg-model.js';
import { sectionOf } from '../config/section.js';
import { UPLINKS } from '../uplinks/uplinks-key.js';
import { WIREGUARD } from './wireguard-key.js';

export interface Io {
  out(text: string): void;
  err(text: string): void;
}

function settingsOf(c: Config): WgSettings {
  const s = sectionOf(c, WIREGUARD);
  if (!s) throw new WgError('WG_NOT_CONFIGURED', `${c.source} has no wireguard: section`);
  return s;
}

/** Make the server key if missing (mode 0600, never printed); print the public key. */
export function wgInit(c: Config, io: Io): void {
  const s = settingsOf(c);
  let priv: string;
  try {
    priv = readKeyFile(s.privateKeyFile, 'private key');
    io.err(`${s.privateKeyFile} exists; its public key:\n`);
  } catch (e) {
    if ((e as WgError).code !== 'WG_KEY_MISSING') throw e;
    priv = generatePrivateKey();
    mkdirSync(dirname(s.privateKeyFile), { recursive: true, mode: 0o700 });
    const fd = openSync(s.privateKeyFile, 'wx', 0o600); // never replace a key that appeared meanwhile
    try {
      writeSync(fd, `${priv}\n`);
    } finally {
      closeSync(fd);
    }
    io.err(`wrote ${s.privateKeyFile} (mode 0600); public key:\n`);
  }
  io.out(`${publicKeyOf(priv)}\n`);
}

/** Uplink names in the order the running server prefers them (`selected`); without one, by priority. */
function uplinkOrder(c: Config, selected: string[] | undefined, io: Pick<Io, 'err'>): string[] {
  const { uplinks } = sectionOf(c, UPLINKS);
  if (uplinks.length === 0) return [];
  if (selected !== undefined && selected.length > 0) return uplinkPreference(selected, uplinks);
  io.err('no running edgedns to ask which uplink is selected: using the highest-priority uplink\n');
  return uplinkPreference([], uplinks);
}

export interface AddPeerOptions {
  scope: TunnelScope;
  psk: boolean;
  png?: string;
  /** the uplinks a running server has selected now (the CLI asks it); undefined: none answered */
  selected?: string[];
}

/** What adding a peer made: the client config (its private key is in it, and nowhere else). */
export interface AddedPeer {
  name: string;
  config: string;
  addresses: string[];
  fqdn: string;
  endpoint: string;
  uplink: string | null;
}

/** Add a peer to the state file and render its client config; the CLI and the dashboard both call this. */
export function addPeer(c: Config, name: string, o: AddPeerOptions, io: Pick<Io, 'err'>): AddedPeer {
  const s = settingsOf(c);
  const peers = loadPeers(s);
  const serverPublic = publicKeyOf(readKeyFile(s.privateKeyFile, 'private key'));
  const endpoint = clientEndpoint(s, uplinkOrder(c, o.selected, io));
  if (!endpoint) throw new WgError('WG_NO_ENDPOINT', 'no endpoint for clients: set wireguard.endpoint (or wireguard.endpoints per uplink)');
  const addresses = nextFreeAddresses(s.addresses, peers.flatMap((p) => [...p.addresses, ...p.routes]));
  const clientPrivate = generatePrivateKey();
  const pskFile = o.psk ? pskFileFor(s, name) : undefined;
  const peer: WgPeer = { name, publicKey: publicKeyOf(clientPrivate), presharedKeyFile: pskFile, addresses, mode: 'remote-access', routes: [], origin: 'state', scope: o.scope };
  const problems = peerProblems(s, [...peers, peer]).filter((p) => p.index === peers.length);
  if (problems.length > 0) throw new WgError('WG_PEER_INVALID', problems.map((p) => p.message).join('; '));

  // Everything that can fail has been checked: now write, psk first, state last (the commit).
  const psk = o.psk ? generatePresharedKey() : undefined;
  if (pskFile && psk) writeFileAtomic(pskFile, `${psk}\n`);
  const state = readState(s.stateFile);
  state.peers.push({ name, 'public-key': peer.publicKey, 'preshared-key-file': pskFile, address: addresses, scope: o.scope, created: new Date().toISOString() });
  try {
    writeState(s.stateFile, state);
  } catch (e) {
    if (pskFile) rmSync(pskFile, { force: true });
    throw e;
  }
  const config = renderClientConf({
    addresses, dns: s.dns, privateKey: clientPrivate, serverPublicKey: serverPublic, psk,
    endpoint: endpoint.endpoint, allowedIps: clientAllowedIps(s, o.scope),
  });
  return { name, config, addresses, fqdn: `${name}.${s.nameSuffix}`, endpoint: endpoint.endpoint, uplink: endpoint.uplink ?? null };
}

export async function wgAddPeer(c: Config, name: string, o: AddPeerOptions, io: Io): Promise<void> {
  const added = addPeer(c, name, o, io);
  io.out(added.config);
  io.err(`\n${await qrTerminal(added.config)}\n`);
  if (o.png) {
    await qrPng(added.config, o.png);
    io.err(`QR written to ${o.png}\n`);
  }
  io.err(`peer "${name}" added: ${added.addresses.join(', ')} (${added.fqdn}), endpoint ${added.endpoint}${added.uplink ? ` (uplink ${added.uplink})` : ''}\n`
    + 'a running edgedns applies it within a second; otherwise run: edgedns wg apply -c FILE\n');
}

export function wgRemovePeer(c: Config, name: string, io: Pick<Io, 'err'>): void {
  const s = settingsOf(c);
  if (s.peers.some((p) => p.name === name)) throw new WgError('WG_PEER_INVALID', `peer "${name}" is written in ${c.source}; remove it there`);
  const state = readState(s.stateFile);
  const gone = state.peers.find((p) => p.name === name);
  if (!gone) throw new WgError('WG_PEER_INVALID', `no peer "${name}" in ${s.stateFile} (peers: ${statePeers(state).map((p) => p.name).join(', ') || 'none'})`);
  writeState(s.stateFile, { ...state, peers: state.peers.filter((p) => p !== gone) });
  if (gone['preshared-key-file']) rmSync(gone['preshared-key-file'], { force: true });
  io.err(`peer "${name}" removed; a running edgedns drops it within a second\n`);
}

export async function wgApply(c: Config, dryRun: boolean, log: Logger, io: Io): Promise<void> {
  const s = settingsOf(c);
  const peers = loadPeers(s);
  if (dryRun) {
    // The same planner as apply, from what the host has now (nothing, when it cannot be read).
    io.out(dryRunPlan(s, peers, await readTunnel(s).catch(() => NO_TUNNEL)));
    return;
  }
  const r = await applyTunnel(s, peers, loadSecrets(s, peers), log);
  io.out(`${s.interface} (${r.implementation}${r.pid ? `, pid ${r.pid}` : ''}): ${peers.length} peers; ${r.changes.length > 0 ? r.changes.join('; ') : 'no address or route changes'}\n`);
}
