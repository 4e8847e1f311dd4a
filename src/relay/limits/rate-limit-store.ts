import type { RateRule } from './token-bucket.ts';

/**
 * Token buckets by key (`ip:1.2.3.4:deposit`, ...). The embedded relay keeps them in
 * memory; several relay nodes would share them (e.g. in Redis) behind this interface.
 */
export interface RateLimitStore {
  /** Takes `cost` tokens from the bucket `key` under `rule`; false when it is empty. */
  take(key: string, rule: RateRule, now: number, cost?: number): boolean;
}
