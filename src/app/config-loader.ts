/**
 * How a config file becomes a `Config`. Commands validate in their own process (`loadHere`).
 * The server validates in a worker thread that exits after (`loadIsolated`): zod, yaml and every
 * room's schema cost about 15 MB that a router would otherwise keep for the process's life.
 */
import { Worker } from 'node:worker_threads';
import { deserialize } from 'node:v8';
import { ConfigError, type ConfigIssue } from '../config/errors.js';
import type { Config } from '../config/types.js';
import { releaseFreedMemory } from '../host/native-udp.js';

export type ConfigLoader = (file?: string, hints?: Record<string, unknown>) => Promise<Config>;

export interface WorkerInput { file?: string; hints?: Record<string, unknown> }
export type WorkerAnswer = { config: Uint8Array } | { issues: ConfigIssue[] } | { error: string };

/** In this process (imported on first use, so a process that never loads here never has zod). */
export const loadHere: ConfigLoader = async (file, hints) => (await import('./sections.js')).loadEdgeConfig(file, hints);

const WORKER = new URL('./config-worker.js', import.meta.url);

/**
 * In a worker thread; the same `Config` (or `ConfigError`) as `loadHere`. Only from the built
 * code: under the TypeScript sources (tests in-process) there is no worker file, so it loads here.
 */
export const loadIsolated: ConfigLoader = (file, hints) => {
  if (import.meta.url.endsWith('.ts')) return loadHere(file, hints);
  return new Promise<Config>((resolve, reject) => {
    let answer: WorkerAnswer | null = null;
    const worker = new Worker(WORKER, { workerData: { file, hints } satisfies WorkerInput });
    worker.once('message', (m: WorkerAnswer) => { answer = m; });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      releaseFreedMemory();
      if (answer === null) reject(new Error(`config worker exited (${code}) without an answer`));
      else if ('config' in answer) resolve(deserialize(answer.config) as Config);
      else if ('issues' in answer) reject(new ConfigError(answer.issues));
      else reject(new Error(answer.error));
    });
  });
};
