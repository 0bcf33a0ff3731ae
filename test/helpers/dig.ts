/** Runs the real `dig` / `kdig` and reads what a person would read off their output. */
import { execFile } from 'node:child_process';

export interface DigRecord {
  name: string;
  ttl: number;
  type: string;
  data: string;
}

export interface DigResult {
  status: string;
  flags: string[];
  answer: DigRecord[];
  authority: DigRecord[];
  /** The question as echoed back (dig prints it after ";") */
  question: string;
  raw: string;
  timedOut: boolean;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      // dig exits 9 on "no servers could be reached": still a result to read
      if (err && !stdout) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

function section(raw: string, title: string): DigRecord[] {
  const m = new RegExp(`;; ${title} SECTION:\\n([\\s\\S]*?)(?:\\n\\n|$)`).exec(raw);
  if (!m) return [];
  return m[1].split('\n').filter((l) => l && !l.startsWith(';')).map((l) => {
    const [name, ttl, , type, ...data] = l.split(/\s+/);
    return { name, ttl: Number(ttl), type, data: data.join(' ') };
  });
}

export function parseDig(raw: string): DigResult {
  const status = /status: (\w+)/.exec(raw)?.[1] ?? '';
  const flags = (/;; flags: ([a-z ]+)[;:]/.exec(raw)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  const question = /;; QUESTION SECTION:\n;(\S+)/.exec(raw)?.[1] ?? '';
  return {
    status, flags, question, raw,
    answer: section(raw, 'ANSWER'),
    authority: section(raw, 'AUTHORITY'),
    timedOut: /timed out|no servers could be reached/.test(raw) && !status,
  };
}

/** `dig ARGS` with short retries so a dropped query fails fast; `netns` runs it inside one. */
export async function dig(args: string[], timeoutMs = 8000, netns?: string): Promise<DigResult> {
  const digArgs = ['+tries=1', '+time=2', ...args];
  const raw = netns ? await run('ip', ['netns', 'exec', netns, 'dig', ...digArgs], timeoutMs) : await run('dig', digArgs, timeoutMs);
  return parseDig(raw);
}

export async function kdig(args: string[], timeoutMs = 8000): Promise<DigResult> {
  const raw = await run('kdig', ['+retry=0', '+time=2', ...args], timeoutMs);
  // kdig prints ";; ->>HEADER<<- opcode: QUERY; status: NOERROR; id: 1" and ";; Flags: qr rd"
  const status = /->>HEADER<<-.*?status: (\w+)/.exec(raw)?.[1] ?? '';
  const flags = (/;; Flags: ([a-z ]+);/.exec(raw)?.[1] ?? '').trim().split(/\s+/).filter(Boolean);
  return { ...parseDig(raw), status, flags };
}
