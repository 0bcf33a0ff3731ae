/** pino JSON logs on stdout (the server), or on stderr for commands whose stdout is their output. */
import { pino, type Logger } from 'pino';

export function createLogger(level: string = 'info', toStderr = false): Logger {
  return pino({ level, base: { name: 'edgedns' } }, toStderr ? pino.destination(2) : undefined);
}
export type { Logger };
