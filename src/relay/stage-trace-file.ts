/**
 * Timing marks of the relay's steps for a deposit (received, committed, pushed to the
 * recipient), written to a file for the end-to-end benchmark's stage breakdown
 * (bench/e2e.bench.ts). On only when PETREL_TRACE_FILE names a file; otherwise the relay
 * has no tracer and a mark costs one `?.` check. Each mark is a line `stage<TAB>ms`, the
 * time on the clock every process and page of the machine shares
 * (`performance.timeOrigin + performance.now()`). Lines are buffered and appended every
 * FLUSH_MS (and on close), so the file is not written on the deposit's path.
 */
import { appendFileSync } from 'node:fs';

export const TRACE_FLUSH_MS = 200;
/** Marks buffered at most between two flushes (later ones dropped). */
const BUFFER_MAX = 100_000;

export interface RelayStageTrace {
  mark(stage: string): void;
  close(): void;
}

export function stageTraceFile(path: string): RelayStageTrace {
  let lines: string[] = [];
  const flush = () => {
    if (!lines.length) return;
    const out = lines.join('\n') + '\n';
    lines = [];
    try {
      appendFileSync(path, out);
    } catch {
      // A benchmark's aid: a write that fails loses marks, never a deposit.
    }
  };
  const timer = setInterval(flush, TRACE_FLUSH_MS);
  timer.unref();
  return {
    mark(stage) {
      if (lines.length < BUFFER_MAX) lines.push(`${stage}\t${performance.timeOrigin + performance.now()}`);
    },
    close() {
      clearInterval(timer);
      flush();
    },
  };
}
