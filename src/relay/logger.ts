import { pino, type Logger } from 'pino';
import type { RelayConfig } from './config.ts';

/** Structured JSON logs. Never log message contents, keys or envelope bytes. */
export function createLogger(level: RelayConfig['logLevel'], destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: 'petrel-relay' }, timestamp: pino.stdTimeFunctions.isoTime }, destination ?? process.stdout);
}
