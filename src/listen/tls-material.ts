/**
 * The server certificate and key for DoT and DoH. Servers built from it get the new pair via
 * setSecureContext when it is re-read (SIGHUP, or the files changing on disk), so connections
 * are not dropped; a pair that fails to load is logged and the old one stays.
 *
 * Session tickets (TLS resumption, RFC 8446 §2.2 / RFC 5077): one ticket key for every DoT and
 * DoH server of the process, kept across certificate reloads (a new secure context would
 * otherwise start with new keys, and every client would pay a full handshake again), replaced
 * every 12 hours with the previous key no longer accepted. Keys live in memory only: a restart
 * starts fresh, which keeps forward secrecy simple.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname, basename } from 'node:path';
import tls from 'node:tls';
import type { Logger } from 'pino';

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

export interface SecureServer {
  setSecureContext(options: tls.SecureContextOptions): void;
  setTicketKeys(keys: Buffer): void;
}

const TICKET_KEY_LIFETIME_MS = 12 * 3600_000;

export class TlsMaterial {
  private pair: TlsPair;
  private readonly servers = new Set<SecureServer>();
  private watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | null = null;
  private ticketKeys = randomBytes(48);
  private readonly rotation: NodeJS.Timeout;

  constructor(private certPath: string, private keyPath: string, private readonly log: Logger) {
    this.pair = TlsMaterial.load(certPath, keyPath);
    this.rotation = setInterval(() => {
      this.ticketKeys = randomBytes(48);
      for (const s of this.servers) s.setTicketKeys(this.ticketKeys);
    }, TICKET_KEY_LIFETIME_MS);
    this.rotation.unref();
  }

  /** Read and check a pair; throws with code TLS_LOAD_FAILED. */
  static load(certPath: string, keyPath: string): TlsPair {
    try {
      const pair = { cert: readFileSync(certPath), key: readFileSync(keyPath) };
      tls.createSecureContext(pair); // throws when they do not match or do not parse
      return pair;
    } catch (cause) {
      throw Object.assign(new Error(`cannot load TLS certificate ${certPath} / key ${keyPath}: ${(cause as Error).message}`, { cause }), { code: 'TLS_LOAD_FAILED' });
    }
  }

  /** What a server is created with: the pair and the shared ticket keys. */
  get current(): TlsPair & { ticketKeys: Buffer } {
    return { ...this.pair, ticketKeys: this.ticketKeys };
  }

  register(server: SecureServer): () => void {
    this.servers.add(server);
    return () => this.servers.delete(server);
  }

  /** Re-read the files (or new paths); keeps the old pair when the new one does not load. */
  reload(certPath = this.certPath, keyPath = this.keyPath): boolean {
    let pair: TlsPair;
    try {
      pair = TlsMaterial.load(certPath, keyPath);
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'TLS reload failed; the old certificate stays');
      return false;
    }
    const changed = certPath !== this.certPath || keyPath !== this.keyPath;
    this.certPath = certPath;
    this.keyPath = keyPath;
    this.pair = pair;
    for (const s of this.servers) {
      s.setSecureContext(pair);
      s.setTicketKeys(this.ticketKeys); // the new context would start with keys of its own
    }
    this.log.info({ cert: certPath }, 'TLS certificate loaded');
    if (changed && this.watchers.length > 0) this.watch();
    return true;
  }

  /** Follow the files: certificate renewals (e.g. by an ACME client) apply without a reload. */
  watch(): void {
    for (const w of this.watchers) w.close();
    const dirs = new Set([dirname(this.certPath), dirname(this.keyPath)]);
    const names = new Set([basename(this.certPath), basename(this.keyPath)]);
    this.watchers = [...dirs].map((d) => watch(d, (_e, file) => {
      if (file && !names.has(file.toString())) return;
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.reload(), 200); // cert and key are often written one after the other
    }));
    for (const w of this.watchers) w.unref();
  }

  close(): void {
    clearInterval(this.rotation);
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.debounce) clearTimeout(this.debounce);
  }
}
