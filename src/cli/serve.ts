/** `edgedns serve [-c FILE]`: run until SIGTERM/SIGINT; SIGHUP re-reads the file. */
import { EdgeServer } from '../app/edge-server.js';
import { createLogger } from '../log.js';
import { CONFIG, flags } from './flags.js';
import { loadIsolated } from '../app/config-loader.js';
import { releaseFreedMemory } from '../host/native-udp.js';
import { loadOrReport } from './load.js';

export async function serve(args: string[]): Promise<number | undefined> {
  const f = flags<{ config?: string }>('serve', args, CONFIG, 'edgedns serve [-c FILE]');
  if (!f) return 2;
  const file = f.values.config;
  const config = await loadOrReport(file, {}, process.stderr, loadIsolated);
  if (config === null) return 1;
  const log = createLogger(config.log.level);
  let server: EdgeServer;
  try {
    server = await EdgeServer.start({ config, configPath: file, log, load: loadIsolated });
  } catch (e) {
    log.fatal({ err: (e as Error).message, code: (e as { code?: string }).code }, 'cannot start');
    return 1;
  }
  // glibc keeps what other threads freed (the config worker, V8's compiler threads) in their
  // arenas; give it back after start and every half minute (about 7–9 MB after warm-up).
  releaseFreedMemory();
  setInterval(releaseFreedMemory, 30_000).unref();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    server.stop().then(() => {
      log.info('stopped');
      log.flush?.();
      process.exit(0);
    }, (err: Error) => {
      log.error({ err: err.message }, 'stop failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    if (file === undefined) {
      log.warn('SIGHUP: running on the embedded default config; nothing to re-read');
      return;
    }
    void server.reload();
  });
  return undefined;
}
