/** `edgedns ddns keygen NAME [--algorithm hmac-sha256]`: a new TSIG secret and its `ddns.keys` entry. */
import { randomBytes } from 'node:crypto';
import { flags } from './flags.js';

const USAGE = 'edgedns ddns keygen NAME [--algorithm hmac-sha256|hmac-sha512|hmac-sha1]';
/** Secret length = the hash's output, as RFC 8945 §6 (and BIND's tsig-keygen) recommend. */
const BYTES: Record<string, number> = { 'hmac-sha256': 32, 'hmac-sha512': 64, 'hmac-sha1': 20 };

export function ddnsCommand(args: string[]): number {
  const f = flags<{ algorithm?: string }>('ddns', args, { algorithm: { type: 'string' } }, USAGE);
  if (!f) return 2;
  const [sub, name] = f.positionals;
  const algorithm = f.values.algorithm ?? 'hmac-sha256';
  if (sub !== 'keygen' || name === undefined || !/^[A-Za-z0-9_.-]+$/.test(name) || BYTES[algorithm] === undefined) {
    process.stderr.write(`usage: ${USAGE}\n`);
    return 2;
  }
  const secret = randomBytes(BYTES[algorithm]).toString('base64');
  const file = `/etc/edgedns/${name}.tsig`;
  process.stdout.write([
    `# the secret: save it (mode 0600) as ${file}; give the same to the client`,
    `#   (nsupdate -y ${algorithm}:${name}:SECRET, Kea D2 "tsig-keys", BIND "key ${name}. { algorithm ${algorithm}; secret ... }")`,
    secret,
    '# the ddns.keys entry:',
    `- { name: ${name}, algorithm: ${algorithm}, secret-file: ${file} }`,
    '',
  ].join('\n'));
  return 0;
}
