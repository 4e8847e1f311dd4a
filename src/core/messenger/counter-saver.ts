/**
 * Writes the metrics counters back to storage, so Diagnostics shows totals across
 * reloads: at most every COUNTER_SAVE_INTERVAL_MS while counters move, and once more when
 * the core stops. A failed save is logged and tried again at the next change.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { PetrelStore } from '../store/index.ts';

/** Counters are written back to storage at most this often. */
export const COUNTER_SAVE_INTERVAL_MS = 5_000;
/** Meta key: when the counters were last written. */
export const META_COUNTERS_SAVED_AT = 'metrics.savedAt';

export interface CounterSaverDeps {
  readonly store: PetrelStore;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly log: Logger;
}

export class CounterSaver {
  private timerSet = false;
  private stopped = false;

  constructor(private readonly deps: CounterSaverDeps) {}

  /** A counter moved: save within COUNTER_SAVE_INTERVAL_MS. */
  saveSoon(): void {
    if (this.stopped || this.timerSet) return;
    this.timerSet = true;
    this.deps.clock.setTimeout(() => {
      this.timerSet = false;
      void this.save(false);
    }, COUNTER_SAVE_INTERVAL_MS);
  }

  /** The last save, when the core stops (a failure is not worth a log line then). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.save(true);
  }

  private async save(final: boolean): Promise<void> {
    const { store, clock, metrics, log } = this.deps;
    try {
      await store.saveCounters(metrics.snapshot().counters);
      await store.setMeta(META_COUNTERS_SAVED_AT, clock.now());
    } catch (err) {
      if (!final) log.warn('counters not saved', { error: err instanceof Error ? err.name : 'unknown' });
    }
  }
}
