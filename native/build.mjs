#!/usr/bin/env node
/**
 * Builds the optional native UDP addon during `npm ci` (the `install` script) with the system C
 * compiler against the headers of the running Node (they ship with it: include/node beside bin/).
 * Nothing is downloaded. Any failure — no compiler, no headers, not Linux — leaves no addon and
 * exits 0: edgedns then uses node:dgram and says so once at start.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, 'build', 'udp_batch.node');
const say = (m) => process.stderr.write(`edgedns native: ${m}\n`);

function headers() {
  const candidates = [process.env.EDGEDNS_NODE_INCLUDE, join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'];
  return candidates.find((d) => d && existsSync(join(d, 'node_api.h')) && existsSync(join(d, 'uv.h')));
}

try {
  if (process.env.EDGEDNS_NO_NATIVE === '1') throw new Error('EDGEDNS_NO_NATIVE=1');
  if (process.platform !== 'linux') throw new Error(`recvmmsg/sendmmsg are Linux calls (this is ${process.platform})`);
  const inc = headers();
  if (!inc) throw new Error("Node's headers (include/node/node_api.h) are not beside this node");
  const cc = process.env.CC || 'cc';
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp`;
  execFileSync(cc, ['-O2', '-fPIC', '-shared', '-std=gnu11', '-Wall', '-Wextra', '-Wno-unused-parameter', '-DNAPI_VERSION=8', '-DNODE_GYP_MODULE_NAME=udp_batch',
    `-I${inc}`, join(here, 'udp-batch.c'), '-o', tmp], { stdio: ['ignore', 'inherit', 'inherit'] });
  renameSync(tmp, out);
  say(`built ${out} (${cc}, headers ${inc})`);
} catch (e) {
  rmSync(out, { force: true });
  say(`not built (${e.message.split('\n')[0]}); edgedns will use node:dgram for UDP`);
}
