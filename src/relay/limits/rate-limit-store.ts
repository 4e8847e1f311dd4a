import type { RateRule } from './token-bucket.ts';

/**
 * Token buckets by key (`ip:1.2.3.4:deposit`, ...). The embedded relay keeps them in
 * memory; several relay nodes would share them (e.g. in Redis) behind this interface,
 * which is why every call is asynchronous. Proven by tests/relay/contracts/rate-limit-store.contract.ts.
 */
export interface RateLimitStore {
  /**
   * Takes `cost` tokens from the bucket `key` under `rule` at time `now` (ms); resolves
   * false, taking nothing, when it holds fewer. An unseen key starts full. Concurrent takes
   * on one key never hand out more than the bucket holds.
   */
  take(key: string, rule: RateRule, now: number, cost?: number): Promise<boolean>;
  /**
   * Buckets held in this process's memory (the `rate_limit_buckets` state gauge); a store
   * that keeps them elsewhere answers 0. Bounded: refilled buckets are forgotten.
   */
  localEntries(): number;
  /** Stops background work (sweeping, connections). Idempotent; `take` must not be called after. */
  close(): Promise<void>;
}
