/** `edgedns queueing apply -c FILE [--dry-run]`: put the configured shapers in place once (no autorate). */
import type { Logger } from 'pino';
import { systemClock } from '../clock.js';
import type { Config } from '../config/types.js';
import { chooseKind, probeCapabilities } from './capabilities.js';
import { queueingFromConfig } from './queueing-model.js';
import { QueueingService } from './queueing-service.js';
import { formatCommand, planQueueing } from './tc-render.js';

export async function queueingApply(c: Config, dryRun: boolean, log: Logger, out: (t: string) => void): Promise<void> {
  const settings = queueingFromConfig(c.raw);
  if (settings.length === 0) {
    out('# no uplink has smart-queueing with a bandwidth: nothing to shape\n');
    return;
  }
  if (dryRun) {
    const caps = await probeCapabilities();
    const lines: string[] = [];
    if (caps.error) lines.push(`# could not test this kernel's qdiscs (${caps.error}): assuming htb + bfifo`);
    for (const s of settings) {
      const { kind, reason } = chooseKind(s.algorithm, caps);
      lines.push(`# ${s.uplink} (${s.interface}): ${reason}`, ...planQueueing(s, kind).map(formatCommand));
    }
    out(`${lines.join('\n')}\n`);
    return;
  }
  const svc = new QueueingService(settings, () => null, systemClock, log);
  await svc.start();
  for (const st of await svc.status()) out(`${st.name} (${st.interface}): ${st.qdisc ?? 'not applied'} — ${st.reason}\n`);
}
