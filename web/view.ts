import type { Feed } from './feed.js';

/** A view draws into its element and redraws on what the stream says changed. */
export interface View {
  el: HTMLElement;
  update(kind: 'stats' | 'query' | 'uplink' | 'sample' | 'state'): void;
  close?(): void;
}

export type ViewFactory = (feed: Feed) => View;
