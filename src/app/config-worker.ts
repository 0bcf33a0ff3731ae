/**
 * The worker thread `loadIsolated` runs: reads and validates the config file with every room's
 * section (zod, yaml), sends the result back serialized (v8.serialize keeps Buffers, Maps and
 * Sets), and exits, taking zod and yaml with it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serialize } from 'node:v8';
import { ConfigError } from '../config/errors.js';
import { loadEdgeConfig } from './sections.js';
import type { WorkerAnswer, WorkerInput } from './config-loader.js';

const input = workerData as WorkerInput;
let answer: WorkerAnswer;
try {
  answer = { config: serialize(await loadEdgeConfig(input.file, input.hints)) };
} catch (e) {
  answer = e instanceof ConfigError ? { issues: e.issues } : { error: (e as Error).message };
}
parentPort!.postMessage(answer);
