/**
 * Checks of `uplinks[].smart-queueing` beyond the schema: the classes (see traffic-classes.ts),
 * and — when the kernel's qdiscs are known (`edgedns check` probes them) — an explicit
 * algorithm the kernel cannot run, which is a warning: the fallback is used instead.
 */
import type { RawQueueing } from './queueing-section.js';
import type { PathIssue } from '../config/validate.js';
import { checkClasses } from './traffic-classes.js';

export interface KernelQdiscs {
  cake: boolean;
  fqCodel: boolean;
}

export function checkQueueing(raw: RawQueueing, kernel?: KernelQdiscs): { errors: PathIssue[]; warnings: PathIssue[] } {
  const warnings: PathIssue[] = [];
  if (kernel !== undefined) {
    raw.uplinks.forEach((u, i) => {
      const a = u['smart-queueing']?.algorithm;
      const lacks = a === 'cake' && !kernel.cake ? 'cake' : a === 'fq-codel' && !kernel.fqCodel ? 'fq_codel' : null;
      if (lacks) {
        const fallback = kernel.fqCodel ? 'htb + fq_codel' : 'htb with an interactive class and short FIFOs';
        warnings.push({ path: ['uplinks', i, 'smart-queueing', 'algorithm'], message: `this kernel has no ${lacks}: ${fallback} is used instead` });
      }
    });
  }
  return { errors: checkClasses(raw), warnings };
}
