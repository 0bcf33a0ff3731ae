/**
 * `edgedns queueing apply -c FILE [--dry-run [--algorithm X]]`: put the configured shapers in
 * place once (no autorate), or print what that would run, from the same renderer.
 */
import type { Logger } from 'pino';
import { systemClock } from '../clock.js';
import type { Config } from '../config/types.js';
import { algorithmWarning, chooseKind, probeCapabilities } from './capabilities.js';
import { offloadCommand } from './offloads.js';
import type { QdiscKind } from './queueing-model.js';
import { QUEUEING } from './queueing-key.js';
import { sectionOf } from '../config/section.js';
import { QueueingService } from './queueing-service.js';
import { describeTree, formatCommand, OFFLOAD_OFF_BELOW, offloadsOff, planQueueing, removeCommands } from './tc-render.js';

export async function queueingApply(c: Config, dryRun: boolean, log: Logger, out: (t: string) => void, renderAs?: QdiscKind): Promise<void> {
  const settings = sectionOf(c, QUEUEING);
  if (settings.length === 0) {
    out('# no uplink has smart-queueing with a bandwidth: nothing to shape\n');
    return;
  }
  if (dryRun) {
    const caps = renderAs === undefined ? await probeCapabilities() : null;
    const lines: string[] = [];
    if (caps?.error) lines.push(`# could not test this kernel's qdiscs (${caps.error}): assuming htb with short FIFOs`);
    for (const s of settings) {
      const { kind, reason } = caps === null ? { kind: renderAs!, reason: `${renderAs} as asked (--algorithm), whatever this kernel has` } : chooseKind(s.algorithm, caps);
      const warning = caps === null ? null : algorithmWarning(s.algorithm, caps);
      lines.push(`# ${s.uplink} (${s.interface}): ${warning ?? reason}`);
      if (s.up !== undefined) lines.push(`# up: ${describeTree(s.up, kind, s.classes)}`);
      if (s.ingress && s.down !== undefined) lines.push(`# down: ${describeTree(s.down, kind, s.classes)}`);
      lines.push('# apply starts from nothing of ours (each of these may fail harmlessly):', ...removeCommands(s).map(formatCommand));
      lines.push(...planQueueing(s, kind).map(formatCommand));
      if (kind !== 'cake' && offloadsOff(Math.max(s.up ?? 0, s.down ?? 0, s.autorate?.max ?? 0))) {
        lines.push(`# below ${OFFLOAD_OFF_BELOW / 1e6} Mbit/s the queues must hold real packets (those of these that are on; restored on stop):`);
        for (const dev of [s.interface, ...(s.ingress && s.down !== undefined ? [s.ifb] : [])]) lines.push(formatCommand(offloadCommand(dev, ['gso', 'tso', 'gro'], 'off')));
      }
    }
    out(`${lines.join('\n')}\n`);
    return;
  }
  const svc = new QueueingService(settings, () => null, systemClock, log);
  await svc.start(false);
  for (const st of await svc.status()) out(`${st.name} (${st.interface}): ${st.qdisc ?? 'not applied'} — ${st.reason}\n`);
}
