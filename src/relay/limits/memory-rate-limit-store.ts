import type { RateLimitStore } from './rate-limit-store.ts';
import { fullBucket, isFull, takeTokens, type BucketState, type RateRule } from './token-bucket.ts';

/** Buckets kept at most; past it the oldest are dropped (they restart full). */
export const DEFAULT_MAX_BUCKETS = 50_000;

export interface MemoryRateLimitStoreOptions {
  /** The clock the idle sweep reads (takes pass their own `now`). */
  readonly now: () => number;
  /** How often buckets that have refilled are forgotten. */
  readonly sweepIntervalMs: number;
  readonly maxBuckets?: number;
}

/**
 * In-process RateLimitStore. Memory stays bounded on its own: refilled buckets (which
 * behave exactly like unseen keys) are swept every `sweepIntervalMs`, on the next take and
 * on an idle timer; if more than `maxBuckets` are still draining, the oldest are dropped.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly buckets = new Map<string, { state: BucketState; rule: RateRule }>();
  private readonly maxBuckets: number;
  private lastSweep: number;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: MemoryRateLimitStoreOptions) {
    this.maxBuckets = options.maxBuckets ?? DEFAULT_MAX_BUCKETS;
    this.lastSweep = options.now();
    this.timer = setInterval(() => this.sweep(options.now()), options.sweepIntervalMs);
    this.timer.unref();
  }

  async take(key: string, rule: RateRule, now: number, cost = 1): Promise<boolean> {
    if (now - this.lastSweep >= this.options.sweepIntervalMs) this.sweep(now);
    let entry = this.buckets.get(key);
    if (!entry) {
      if (this.buckets.size >= this.maxBuckets) this.makeRoom(now);
      entry = { state: fullBucket(rule, now), rule };
      this.buckets.set(key, entry);
    }
    return takeTokens(entry.state, rule, now, cost);
  }

  localEntries(): number {
    return this.buckets.size;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Forgets every bucket that has refilled. */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [key, { state, rule }] of this.buckets) if (isFull(state, rule, now)) this.buckets.delete(key);
  }

  /** Sweeps; if every bucket is still draining, drops the oldest (insertion order) until one fits. */
  private makeRoom(now: number): void {
    this.sweep(now);
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxBuckets) break;
      this.buckets.delete(key);
    }
  }
}
