/**
 * Structured, levelled logging for the core. The core never writes to the console:
 * it hands records to a sink (the app shows the recent ones in diagnostics; tests
 * capture them). Fields must never carry plaintext, keys or ciphertext.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogRecord {
  readonly time: number;
  readonly level: LogLevel;
  readonly scope: string;
  readonly msg: string;
  readonly fields?: Readonly<Record<string, string | number | boolean | null>>;
}

export interface Logger {
  debug(msg: string, fields?: LogRecord['fields']): void;
  info(msg: string, fields?: LogRecord['fields']): void;
  warn(msg: string, fields?: LogRecord['fields']): void;
  error(msg: string, fields?: LogRecord['fields']): void;
  child(scope: string): Logger;
}

export type LogSink = (record: LogRecord) => void;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(sink: LogSink, opts: { scope?: string; level?: LogLevel; now?: () => number } = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const now = opts.now ?? Date.now;
  const scope = opts.scope ?? 'core';
  const emit = (level: LogLevel) => (msg: string, fields?: LogRecord['fields']) => {
    if (ORDER[level] < min) return;
    sink(fields ? { time: now(), level, scope, msg, fields } : { time: now(), level, scope, msg });
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (child) => createLogger(sink, { ...opts, scope: `${scope}.${child}` }),
  };
}

/** Keeps the last `capacity` records in memory (diagnostics view, tests). */
export class RingLogSink {
  private readonly records: LogRecord[] = [];
  private readonly listeners = new Set<(r: LogRecord) => void>();
  constructor(private readonly capacity = 500) {}

  readonly sink: LogSink = (record) => {
    this.records.push(record);
    if (this.records.length > this.capacity) this.records.shift();
    for (const l of this.listeners) l(record);
  };

  recent(): readonly LogRecord[] {
    return this.records.slice();
  }

  subscribe(listener: (r: LogRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export const silentLogger: Logger = createLogger(() => {}, { level: 'error' });
