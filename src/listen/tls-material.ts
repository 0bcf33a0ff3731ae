/**
 * The server certificate and key for DoT and DoH. Servers built from it get the new pair via
 * setSecureContext when it is re-read (SIGHUP, or the files changing on disk), so connections
 * are not dropped; a pair that fails to load is logged and the old one stays.
 */
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
}

export class TlsMaterial {
  private pair: TlsPair;
  private readonly servers = new Set<SecureServer>();
  private watchers: FSWatcher[] = [];
  private debounce: NodeJS.Timeout | null = null;

  constructor(private certPath: string, private keyPath: string, private readonly log: Logger) {
    this.pair = TlsMaterial.load(certPath, keyPath);
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

  get current(): TlsPair {
    return this.pair;
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
    for (const s of this.servers) s.setSecureContext(pair);
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
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.debounce) clearTimeout(this.debounce);
  }
}
