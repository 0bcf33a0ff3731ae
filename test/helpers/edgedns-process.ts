/** Runs `edgedns serve` as a real process (the built CLI) and stops it by PID. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/edgedns.js', import.meta.url));

export class EdgednsProcess {
  readonly logs: string[] = [];
  private exitCode: number | null = null;
  private exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess, readonly configPath: string) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => this.logs.push(...d.split('\n').filter(Boolean)));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => this.logs.push(...d.split('\n').filter(Boolean)));
    this.exited = new Promise((resolve) => child.on('exit', (code) => { this.exitCode = code; resolve(code); }));
  }

  /** `wrap`: a command prefix (e.g. setpriv …) run inside the netns, before node. */
  static async start(configYaml: string, opts: { netns?: string; wrap?: string[]; configDir?: string } = {}): Promise<EdgednsProcess> {
    const dir = opts.configDir ?? mkdtempSync(join(tmpdir(), 'edgedns-test-'));
    const configPath = join(dir, 'edgedns.yaml');
    // Parallel test servers must not all take the default admin address (127.0.0.1:9153).
    writeFileSync(configPath, /^admin:/m.test(configYaml) ? configYaml : `${configYaml}\nadmin: {}\n`);
    const inner = [...(opts.wrap ?? []), process.execPath, BIN, 'serve', '-c', configPath];
    const full = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...inner] : inner;
    const [cmd, ...args] = full;
    const p = new EdgednsProcess(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }), configPath);
    await p.waitForLog('edgedns started', 10_000);
    return p;
  }

  get pid(): number {
    return this.child.pid!;
  }

  async waitForLog(text: string, timeoutMs = 5000, from = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const line = this.logs.slice(from).find((l) => l.includes(text));
      if (line) return line;
      if (this.exitCode !== null) throw new Error(`edgedns exited (${this.exitCode}) before "${text}":\n${this.logs.join('\n')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for "${text}" in edgedns logs:\n${this.logs.join('\n')}`);
  }

  rewriteConfig(yaml: string): void {
    writeFileSync(this.configPath, /^admin:/m.test(yaml) ? yaml : `${yaml}\nadmin: {}\n`);
  }

  signal(sig: NodeJS.Signals): void {
    process.kill(this.pid, sig);
  }

  async stop(): Promise<number | null> {
    if (this.exitCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 8000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  get running(): boolean {
    return this.exitCode === null;
  }
}
