/** WireGuard: peers with handshake age and traffic; add a peer (its config and QR shown once); remove one. */
import { del, get, post } from '../api.js';
import { badge, card, h, table } from '../dom.js';
import type { Feed } from '../feed.js';
import { bytes, duration } from '../format.js';
import type { View } from '../view.js';

interface Peer { name: string; address: string[]; origin: string; state: string; handshakeAgeS: number | null; rx: number; tx: number; endpoint: string | null; scope?: string }
interface WgStatus { configured: boolean; interface: string | null; publicKey: string | null; listenPort: number | null; error: string | null; endpoint: { endpoint: string; uplink: string | null } | null; peers: Peer[] }
interface Added { name: string; config: string; qr: string; addresses: string[]; fqdn: string; endpoint: string }

export function wireguard(_feed: Feed): View {
  const body = h('div');
  const added = h('div', { id: 'added-peer', 'aria-live': 'polite' });
  const el = h('div', { class: 'view' }, h('h1', null, 'WireGuard'), added, body);
  let status: WgStatus | null = null;

  async function load(): Promise<void> {
    status = await get<WgStatus>('/wireguard');
    draw();
  }

  const name = h('input', { id: 'peer-name', name: 'name', required: true, pattern: '[a-z0-9][a-z0-9-]*', autocomplete: 'off', placeholder: 'phone' });
  const full = h('input', { type: 'radio', name: 'scope', value: 'full', id: 'scope-full', checked: true });
  const split = h('input', { type: 'radio', name: 'scope', value: 'split', id: 'scope-split' });
  const err = h('p', { class: 'error', role: 'alert' });
  const form = h('form', { class: 'add-peer', id: 'add-peer' },
    h('label', { for: 'peer-name' }, 'Name'), name,
    h('fieldset', null, h('legend', null, 'Tunnel'),
      h('label', null, full, ' full (all traffic)'), h('label', null, split, ' split (the LAN only)')),
    h('button', { type: 'submit' }, 'Add peer'), err);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    err.textContent = '';
    post<Added>('/wireguard/peers', { name: name.value.trim(), scope: split.checked ? 'split' : 'full' }).then((a) => {
      name.value = '';
      added.replaceChildren(h('section', { class: 'card added' },
        h('h2', null, `Peer ${a.name} added: ${a.addresses.join(', ')} (${a.fqdn})`),
        h('p', { class: 'warn' }, 'This is the only time the client config is shown: its private key is not kept. Scan the QR code with the WireGuard app, or copy the config.'),
        h('div', { class: 'qr-pair' },
          h('img', { src: a.qr, alt: `QR code of ${a.name}'s client config`, id: 'peer-qr', width: 280, height: 280 }),
          h('pre', { id: 'peer-config' }, a.config)),
        h('button', { type: 'button', onclick: () => added.replaceChildren() }, 'Done: hide it')));
      // The running tunnel takes the state file within a second; read the peers again after it.
      setTimeout(() => void load(), 1500);
    }, (e: Error) => { err.textContent = e.message; });
  });

  async function remove(peer: string): Promise<void> {
    if (!confirm(`Remove peer ${peer}? Its device loses the tunnel.`)) return;
    try {
      await del(`/wireguard/peers/${encodeURIComponent(peer)}`);
    } catch (e) { err.textContent = (e as Error).message; }
    void load();
  }

  function draw(): void {
    if (status === null) return;
    if (!status.configured) {
      body.replaceChildren(card('Not configured', h('p', null, 'This gateway has no `wireguard:` section.')));
      return;
    }
    body.replaceChildren(
      card(`Tunnel ${status.interface}`, h('p', null, `port ${status.listenPort ?? '—'}, endpoint for new clients ${status.endpoint?.endpoint ?? '—'}${status.endpoint?.uplink ? ` (uplink ${status.endpoint.uplink})` : ''}`),
        status.error ? h('p', { class: 'error' }, status.error) : null),
      card('Peers', table(['name', 'address', 'state', 'handshake', 'received', 'sent', 'endpoint', ''], status.peers.map((p) => [
        p.name, p.address.join(', '), badge(p.state), p.handshakeAgeS === null ? 'never' : `${duration(p.handshakeAgeS)} ago`,
        bytes(p.rx), bytes(p.tx), p.endpoint ?? '—',
        p.origin === 'state' ? h('button', { type: 'button', class: 'danger', onclick: () => void remove(p.name), 'aria-label': `remove peer ${p.name}` }, 'Remove') : h('span', { class: 'muted', title: 'written in the config file' }, 'config'),
      ]), 'no peers yet')),
      card('Add peer', form),
    );
  }
  void load();
  return { el, update: (k) => { if (k === 'sample') void load(); } };
}
