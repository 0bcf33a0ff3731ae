/**
 * The lease names as another room may read them (the DDNS push): the names served now, with the
 * client holding each, and a signal when they change. Stable across reloads of `leases:`.
 */
export interface LeaseClaim {
  /** dotted, lower case, under zone.domain */
  name: string;
  type: 'A' | 'AAAA';
  address: string;
  /** seconds */
  ttl: number;
  /** RFC 4701 identifier, hex (see LeaseRow.client); '' when unknown */
  client: string;
}

export interface LeaseFeed {
  /** false until the lease files have been read once: an empty list then is not "no leases" */
  ready(): boolean;
  claims(): LeaseClaim[];
  /** `cb` after each batch of changes; returns the way to stop listening */
  onChange(cb: () => void): () => void;
}
