/**
 * `edgedns cert init`: a local CA and a server certificate for the DoT and DoH listeners. Node
 * can read X.509 but not issue it, so this drives the `openssl` command, which every Debian-based
 * gateway has. An existing CA in the folder is reused, so re-running adds names without making
 * clients trust a new CA.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { isLinkLocalV6 } from '../prefix.js';

export interface CertInitOptions {
  dir: string;
  names: string[];
  ips: string[];
  /** days the server certificate is valid; browsers cap what they accept near 398 */
  days?: number;
}

export interface CertInitResult {
  dir: string;
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
  names: string[];
  ips: string[];
  caCreated: boolean;
}

/** The host's LAN addresses: every non-loopback, non-link-local address. */
export function lanAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flat()
    .filter((a): a is os.NetworkInterfaceInfo => !!a && !a.internal && !isLinkLocalV6(a.address))
    .map((a) => a.address);
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (cause) {
    const e = cause as { stderr?: Buffer; code?: string };
    const detail = e.code === 'ENOENT' ? 'the openssl command is not installed' : e.stderr?.toString().trim();
    throw Object.assign(new Error(`openssl ${args[0]} failed: ${detail}`, { cause }), { code: 'CERT_INIT_FAILED' });
  }
}

export function certInit(opts: CertInitOptions): CertInitResult {
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const names = opts.names.length > 0 ? opts.names : ['gw.home.arpa'];
  const ips = opts.ips.length > 0 ? opts.ips : ['127.0.0.1', '::1', ...lanAddresses()];
  for (const ip of ips) if (isIP(ip) === 0) throw Object.assign(new Error(`not an IP address: ${ip}`), { code: 'CERT_INIT_FAILED' });
  const p = (f: string) => join(dir, f);
  const caCreated = !(existsSync(p('ca.pem')) && existsSync(p('ca.key')));
  if (caCreated) {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem',
      '-days', '3650', '-subj', `/CN=edgedns local CA ${os.hostname()}`,
      '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    chmodSync(p('ca.key'), 0o600);
  }
  const san = [...names.map((n) => `DNS:${n}`), ...ips.map((i) => `IP:${i}`)].join(',');
  writeFileSync(p('server.ext'), [
    `subjectAltName=${san}`, 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', '',
  ].join('\n'));
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${names[0]}`], dir);
  chmodSync(p('server.key'), 0o600);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem',
    '-days', String(opts.days ?? 397), '-sha256', '-extfile', 'server.ext'], dir);
  rmSync(p('server.csr'));
  rmSync(p('server.ext'));
  return { dir, caCert: p('ca.pem'), caKey: p('ca.key'), cert: p('server.pem'), key: p('server.key'), names, ips, caCreated };
}

export function trustInstructions(r: CertInitResult): string {
  return `
${r.caCreated ? 'Made a new local CA' : 'Reused the local CA'} and a server certificate for: ${[...r.names, ...r.ips].join(', ')}

  CA certificate (give this to clients):  ${r.caCert}
  CA key (keep it here, mode 0600):       ${r.caKey}
  server certificate / key:               ${r.cert}  ${r.key}

Use them in the config:
  tls:
    cert: ${r.cert}
    key: ${r.key}

Trust the CA on each client:
  Debian/Ubuntu:  cp ${r.caCert} /usr/local/share/ca-certificates/edgedns-ca.crt && update-ca-certificates
  macOS:          sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${r.caCert}
  Windows:        certutil -addstore -f Root ca.pem
  Android/iOS:    install ca.pem as a CA certificate (Settings → Security → Encryption & credentials / Profile)
  Firefox/Chrome on Linux: certutil -d sql:$HOME/.pki/nssdb -A -t "C,," -n edgedns -i ${r.caCert}
`;
}
