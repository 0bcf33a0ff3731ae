/**
 * System packages the integration tests use. Missing → the suite skips with a one-line reason,
 * unless EDGEDNS_REQUIRE_SYSTEM=1 (set by .ci/run), where a missing package fails the run.
 */
import { execFileSync } from 'node:child_process';

export function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The reason to skip, or null when every command is there. Throws under EDGEDNS_REQUIRE_SYSTEM=1. */
export function missing(...cmds: string[]): string | null {
  const absent = cmds.filter((c) => !have(c));
  if (absent.length === 0) return null;
  const reason = `needs ${absent.join(', ')} (apt-get install bind9-dnsutils knot-dnsutils unbound knot)`;
  if (process.env.EDGEDNS_REQUIRE_SYSTEM === '1') throw new Error(`EDGEDNS_REQUIRE_SYSTEM=1 but ${reason}`);
  console.warn(`skipping: ${reason}`);
  return reason;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** As `missing`, and also needs root (network namespaces, dropping privileges). */
export function missingOrNotRoot(...cmds: string[]): string | null {
  const m = missing(...cmds);
  if (m) return m;
  if (!isRoot()) {
    if (process.env.EDGEDNS_REQUIRE_SYSTEM === '1') throw new Error('EDGEDNS_REQUIRE_SYSTEM=1 but not root (network namespaces need root)');
    console.warn('skipping: needs root (network namespaces)');
    return 'not root';
  }
  return null;
}
