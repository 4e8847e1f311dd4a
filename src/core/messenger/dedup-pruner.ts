/**
 * Keeps the store's dedup marks within their bounds while the core runs (a tab can stay
 * open for weeks): `pruneDedup` at start, every DEDUP_PRUNE_INTERVAL_MS (marks past
 * DEDUP_RETENTION_MS), and as soon as DEDUP_PRUNE_AFTER_ENVELOPES envelopes were
 * committed since the last prune (a burst must not grow the set far past
 * DEDUP_MAX_ENTRIES). Between prunes the set holds at most
 * DEDUP_MAX_ENTRIES + DEDUP_PRUNE_AFTER_ENVELOPES marks. One prune at a time.
 *
 * Each prune also drops the copies of sent messages kept for resend past their bounds
 * (`pruneResendable`: RESEND_RETENTION_MS, RESENDABLE_MAX; PROTOCOL.md §12.8).
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { PetrelStore } from '../store/index.ts';

/** Time between two prunes while running. */
export const DEDUP_PRUNE_INTERVAL_MS = 60 * 60_000;
/** Committed envelopes after which a prune runs without waiting for the interval. */
export const DEDUP_PRUNE_AFTER_ENVELOPES = 5_000;

export class DedupPruner {
  private sinceLast = 0;
  private running: Promise<void> | undefined;
  private again = false;
  private cancelTimer: (() => void) | undefined;
  private stopped = false;

  private readonly intervalMs: number;
  private readonly afterEnvelopes: number;

  constructor(
    private readonly store: PetrelStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    options: { readonly intervalMs?: number; readonly afterEnvelopes?: number } = {},
  ) {
    this.intervalMs = options.intervalMs ?? DEDUP_PRUNE_INTERVAL_MS;
    this.afterEnvelopes = options.afterEnvelopes ?? DEDUP_PRUNE_AFTER_ENVELOPES;
  }

  /** Prunes now, then every DEDUP_PRUNE_INTERVAL_MS. */
  start(): void {
    this.prune();
  }

  /** `count` envelopes were just committed (their marks written). */
  committed(count: number): void {
    this.sinceLast += count;
    if (this.sinceLast >= this.afterEnvelopes) this.prune();
  }

  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
  }

  /** Resolves when the prune in progress (if any) is done. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private prune(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.sinceLast = 0;
    this.cancelTimer?.();
    const now = this.clock.now();
    this.running = this.store
      .pruneDedup(now)
      .then(async (n) => {
        if (n > 0) this.log.info('dedup marks pruned', { count: n });
        const kept = await this.store.pruneResendable(now);
        if (kept > 0) this.log.info('copies kept for resend pruned', { count: kept });
      })
      .catch((err: unknown) => this.log.warn('dedup prune failed', { error: err instanceof Error ? err.name : 'unknown' }))
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.prune();
        } else this.cancelTimer = this.clock.setTimeout(() => this.prune(), this.intervalMs);
      });
  }
}
