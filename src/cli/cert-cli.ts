/** `edgedns cert init [--dir certs] [--name NAME]... [--ip ADDR]...`: a local CA and a server certificate. */
import { certInit, trustInstructions } from '../cert/cert-init.js';
import { flags } from './flags.js';
import { fail } from './load.js';

const USAGE = 'edgedns cert init [--dir certs] [--name NAME]... [--ip ADDR]...';

export function certCommand(args: string[]): number {
  const f = flags<{ dir?: string; name?: string[]; ip?: string[] }>('cert', args,
    { dir: { type: 'string' }, name: { type: 'string', multiple: true }, ip: { type: 'string', multiple: true } }, USAGE);
  if (!f) return 2;
  if (f.positionals[0] !== 'init') {
    process.stderr.write(`usage: ${USAGE}\n`);
    return 2;
  }
  try {
    process.stdout.write(trustInstructions(certInit({ dir: f.values.dir ?? 'certs', names: f.values.name ?? [], ips: f.values.ip ?? [] })));
    return 0;
  } catch (e) {
    return fail('cert init', e);
  }
}
