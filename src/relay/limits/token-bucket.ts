/** A token bucket's rule: refills `perSec` tokens per second up to `burst`. */
export interface RateRule {
  readonly perSec: number;
  readonly burst: number;
}

export interface BucketState {
  tokens: number;
  updatedAt: number;
}

/** A full bucket, as an unseen key starts. */
export function fullBucket(rule: RateRule, now: number): BucketState {
  return { tokens: rule.burst, updatedAt: now };
}

/** Refills `state` for the time elapsed, then takes `cost` tokens if there are enough. Mutates `state`. */
export function takeTokens(state: BucketState, rule: RateRule, now: number, cost = 1): boolean {
  const elapsed = Math.max(0, now - state.updatedAt);
  state.tokens = Math.min(rule.burst, state.tokens + (elapsed * rule.perSec) / 1000);
  state.updatedAt = now;
  if (state.tokens < cost) return false;
  state.tokens -= cost;
  return true;
}

/** True once the bucket has refilled completely (it can be forgotten). */
export function isFull(state: BucketState, rule: RateRule, now: number): boolean {
  return state.tokens + ((now - state.updatedAt) * rule.perSec) / 1000 >= rule.burst;
}
