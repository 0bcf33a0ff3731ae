/** The dashboard: one live stream, six views picked by the URL's hash. */
import { Feed } from './feed.js';
import type { View, ViewFactory } from './view.js';
import { overview } from './views/overview.js';
import { queries } from './views/queries.js';
import { names } from './views/names.js';
import { uplinks } from './views/uplinks.js';
import { wireguard } from './views/wireguard.js';
import { queueing } from './views/queueing.js';

const VIEWS: Record<string, ViewFactory> = { overview, queries, names, uplinks, wireguard, queueing };

const feed = new Feed();
let current: View | null = null;

function show(): void {
  const key = location.hash.slice(1) in VIEWS ? location.hash.slice(1) : 'overview';
  current?.close?.();
  current = VIEWS[key](feed);
  const main = document.getElementById('view')!;
  main.replaceChildren(current.el);
  for (const a of document.querySelectorAll('nav a')) {
    if (a.getAttribute('href') === `#${key}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `edgedns — ${key}`;
}

feed.on((kind) => {
  if (kind === 'state') {
    const el = document.getElementById('feed')!;
    el.textContent = feed.connected ? 'live' : 'reconnecting…';
    el.className = `feed ${feed.connected ? 'ok' : 'warn'}`;
  }
  current?.update(kind);
});
window.addEventListener('hashchange', () => { show(); document.getElementById('view')!.focus(); });
show();
void feed.start().then(() => current?.update('sample'));
