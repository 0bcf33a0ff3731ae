/** pino JSON logs on stdout. */
import { pino, type Logger } from 'pino';

export function createLogger(level: string = 'info'): Logger {
  return pino({ level, base: { name: 'edgedns' } });
}
export type { Logger };
