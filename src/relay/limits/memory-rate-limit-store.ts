import type { RateLimitStore } from './rate-limit-store.ts';
import { fullBucket, isFull, takeTokens, type BucketState, type RateRule } from './token-bucket.ts';

/** Buckets beyond this many trigger a sweep of the full (forgettable) ones. */
const SWEEP_THRESHOLD = 50_000;

/** In-process RateLimitStore. Memory stays bounded: refilled buckets are forgotten. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly buckets = new Map<string, { state: BucketState; rule: RateRule }>();

  take(key: string, rule: RateRule, now: number, cost = 1): boolean {
    let entry = this.buckets.get(key);
    if (!entry) {
      if (this.buckets.size >= SWEEP_THRESHOLD) this.sweep(now);
      entry = { state: fullBucket(rule, now), rule };
      this.buckets.set(key, entry);
    }
    return takeTokens(entry.state, rule, now, cost);
  }

  /** Forgets every bucket that has refilled. */
  sweep(now: number): void {
    for (const [key, { state, rule }] of this.buckets) if (isFull(state, rule, now)) this.buckets.delete(key);
  }

  size(): number {
    return this.buckets.size;
  }
}
