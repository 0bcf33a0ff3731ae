/**
 * A host port for tests and dry runs: records every call, answers from rules given in order
 * (the first whose pattern matches `cmd args…` wins), and fails a call a rule says fails. What
 * it never runs, it never changes.
 */
import { HostError, type HostPort, type RunOptions } from './host-port.js';

export interface RecordedCall {
  cmd: string;
  args: string[];
  input?: string;
}

interface Rule {
  pattern: RegExp;
  reply: string | ((call: RecordedCall) => string) | Error;
}

export class RecordingHost implements HostPort {
  readonly calls: RecordedCall[] = [];
  private readonly rules: Rule[] = [];
  private readonly files = new Map<string, string>();

  /** Calls whose `cmd args…` match answer `reply` (or fail with it, when an Error). */
  on(pattern: RegExp, reply: Rule['reply']): this {
    this.rules.push({ pattern, reply });
    return this;
  }

  file(path: string, text: string): this {
    this.files.set(path, text);
    return this;
  }

  /** The calls as command lines, with their stdin after a newline when they had one. */
  lines(filter?: RegExp): string[] {
    return this.calls.map((c) => `${c.cmd} ${c.args.join(' ')}${c.input !== undefined ? `\n${c.input}` : ''}`).filter((l) => !filter || filter.test(l));
  }

  async run(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
    const call: RecordedCall = { cmd, args, ...(opts.input !== undefined ? { input: opts.input } : {}) };
    this.calls.push(call);
    const line = `${cmd} ${args.join(' ')}`;
    const rule = this.rules.find((r) => r.pattern.test(line));
    if (rule === undefined) return '';
    if (rule.reply instanceof Error) throw new HostError('HOST_FAILED', `${line}: ${rule.reply.message}`, cmd, rule.reply.message);
    return typeof rule.reply === 'function' ? rule.reply(call) : rule.reply;
  }

  read(path: string): string | null {
    return this.files.get(path) ?? null;
  }

  /** Recorded as a call `write PATH` with the text as its input; the file reads back. */
  async write(path: string, text: string): Promise<void> {
    this.calls.push({ cmd: 'write', args: [path], input: text });
    this.files.set(path, text);
  }
}
