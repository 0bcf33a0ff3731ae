/**
 * The one live stream (`GET /events`) and what the page keeps of it: the newest stats, the last
 * 15 minutes of samples (loaded once from /history, then extended by `sample` events), the last
 * 1,000 queries and uplink transitions. EventSource reconnects by itself and sends Last-Event-ID,
 * so the server replays what was missed.
 */
import { get } from './api.js';
import type { QueryEvent, Sample, Stats, Transition } from './types.js';

const KEEP_QUERIES = 1000;
const KEEP_SAMPLES = 180;

type Listener = (kind: 'stats' | 'query' | 'uplink' | 'sample' | 'state') => void;

export class Feed {
  stats: Stats | null = null;
  samples: Sample[] = [];
  queries: QueryEvent[] = [];
  transitions: Transition[] = [];
  connected = false;
  private readonly listeners = new Set<Listener>();
  private source: EventSource | null = null;

  async start(): Promise<void> {
    try {
      this.samples = (await get<{ samples: Sample[] }>('/history')).samples;
    } catch { /* the stream still works */ }
    const es = new EventSource('/events');
    this.source = es;
    es.addEventListener('open', () => { this.connected = true; this.emit('state'); });
    es.addEventListener('error', () => {
      this.connected = false;
      this.emit('state');
      if (es.readyState === EventSource.CLOSED) location.assign('/'); // refused: the login lapsed
    });
    es.addEventListener('stats', (e) => { this.stats = JSON.parse(e.data) as Stats; this.emit('stats'); });
    es.addEventListener('query', (e) => {
      const q = JSON.parse(e.data) as QueryEvent;
      q.at = Date.now();
      this.queries.push(q);
      if (this.queries.length > KEEP_QUERIES) this.queries.splice(0, this.queries.length - KEEP_QUERIES);
      this.emit('query');
    });
    es.addEventListener('uplink', (e) => { this.transitions.unshift(JSON.parse(e.data) as Transition); this.emit('uplink'); });
    es.addEventListener('sample', (e) => {
      const s = JSON.parse(e.data) as Sample;
      if (this.samples.length === 0 || this.samples[this.samples.length - 1].at < s.at) this.samples.push(s);
      if (this.samples.length > KEEP_SAMPLES) this.samples.shift();
      this.emit('sample');
    });
  }

  on(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(kind: Parameters<Listener>[0]): void {
    for (const l of this.listeners) l(kind);
  }
}
