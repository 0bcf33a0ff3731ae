/** The `edgedns` command: one file per command under cli/; this one only dispatches. */
import { readFileSync } from 'node:fs';

const HELP = `edgedns — the DNS server of an edge gateway

Usage:
  edgedns serve [-c FILE]        run the server (no -c: the embedded default config)
  edgedns check -c FILE          validate a config file; errors as FILE:LINE:COL key.path: message
  edgedns cert init [--dir certs] [--name NAME]... [--ip ADDR]...
                                 make a local CA and a server certificate for DoT/DoH
  edgedns show stats|cache|zone|leases|upstreams|uplinks|policies|wireguard|queueing|ddns|ha [--json]
  edgedns cache flush [NAME]     drop the whole cache, or one name (all types)
  edgedns reload                 re-read the config file; an invalid one changes nothing
  edgedns uplinks routes -c FILE --dry-run
                                 print the ip commands multi-WAN policy routing would run
  edgedns wg init -c FILE        make the WireGuard server key (mode 0600) if missing; print its public key
  edgedns wg add-peer NAME -c FILE [--full-tunnel | --split] [--psk] [--png FILE]
                                 add a peer; print its client config (stdout) and QR (stderr)
  edgedns wg remove-peer NAME -c FILE
  edgedns wg apply -c FILE [--dry-run]
                                 bring the tunnel to the config (kernel WireGuard, else wireguard-go)
  edgedns wg show [--json]       peers of a running server: handshake, rx/tx, endpoint, state
  edgedns queueing apply -c FILE [--dry-run [--algorithm cake|fq-codel|htb]]
                                 put the WAN shapers in place (serve does it at start, with autorate);
                                 --algorithm renders that tree for another machine
  edgedns ddns keygen NAME [--algorithm hmac-sha256|hmac-sha512|hmac-sha1]
                                 print a new TSIG secret (base64) and its ddns.keys entry
  edgedns ha set master|backup|fault [-c FILE] [--state-file PATH]
                                 for keepalived's notify: tell the server its VRRP role (the state file)
  edgedns --help | --version

show, cache flush and reload talk to a running server: --admin http://HOST:PORT or
--admin unix:/path/admin.sock, else the admin settings of -c FILE, else http://127.0.0.1:9153.
Signals to a running server: SIGHUP re-reads the config file; SIGTERM/SIGINT stop it gracefully.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

// Each command's module is loaded when it runs: `edgedns ha set`, run by keepalived's notify at
// the moment of a takeover, should not wait for the whole server's code to load.
const COMMANDS: Record<string, (args: string[]) => Promise<number | undefined> | number> = {
  serve: (a) => import('./serve.js').then((m) => m.serve(a)),
  check: (a) => import('./check.js').then((m) => m.check(a)),
  show: (a) => import('./admin-commands.js').then((m) => m.adminCommand('show', a)),
  reload: (a) => import('./admin-commands.js').then((m) => m.adminCommand('reload', a)),
  cache: (a) => import('./admin-commands.js').then((m) => m.adminCommand('cache', a)),
  uplinks: (a) => import('./uplinks-command.js').then((m) => m.uplinksCommand(a)),
  wg: (a) => import('./wg-cli.js').then((m) => m.wgCommand(a)),
  queueing: (a) => import('./queueing-cli.js').then((m) => m.queueingCommand(a)),
  cert: (a) => import('./cert-cli.js').then((m) => m.certCommand(a)),
  ddns: (a) => import('./ddns-cli.js').then((m) => m.ddnsCommand(a)),
  ha: (a) => import('./ha-cli.js').then((m) => m.haCommand(a)),
};

export async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const run = COMMANDS[command];
  if (run === undefined) {
    process.stderr.write(`edgedns: unknown command "${command}"\n\n${HELP}`);
    return 2;
  }
  return run(rest);
}
