/**
 * The metrics as a file a person can attach to a bug report or compare between runs:
 * the metrics snapshot, breaker states, queue depth and storage state (not the logs).
 */
import type { Diagnostics, MessengerState } from '../../../core/messenger/messenger-api.ts';

export const METRICS_EXPORT_FORMAT = 'petrel.metrics.v1';

export interface MetricsExport {
  readonly format: typeof METRICS_EXPORT_FORMAT;
  readonly exportedAt: string;
  readonly queueDepth: number;
  readonly storage: MessengerState['storage'];
  readonly breakers: Diagnostics['breakers'];
  readonly metrics: Diagnostics['metrics'];
}

export function metricsExport(diagnostics: Diagnostics, state: Pick<MessengerState, 'queueDepth' | 'storage'>, now: Date): MetricsExport {
  return {
    format: METRICS_EXPORT_FORMAT,
    exportedAt: now.toISOString(),
    queueDepth: state.queueDepth,
    storage: state.storage,
    breakers: diagnostics.breakers,
    metrics: diagnostics.metrics,
  };
}

/** `petrel-metrics-2026-11-23T13-03-42Z.json` (no colons: some file systems refuse them). */
export function metricsFileName(now: Date): string {
  return `petrel-metrics-${now.toISOString().slice(0, 19).replaceAll(':', '-')}Z.json`;
}

/** How long the object URL outlives the click (the download has long started by then). */
const REVOKE_AFTER_MS = 60_000;

/** Saves `text` as a file through a Blob URL and a temporary `<a download>`. */
export function downloadText(fileName: string, text: string, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_AFTER_MS);
}
