/**
 * Exponential backoff with FULL jitter (AWS Architecture Blog, "Exponential Backoff And
 * Jitter"): delay = random(0, min(cap, base * 2^attempt)). Full jitter spreads a crowd
 * of clients that failed together across the whole window, so they do not return in
 * lockstep (e.g. every browser after a relay restart).
 */
import type { Random } from '../random.ts';

export interface BackoffPolicy {
  /** Window of the first retry (attempt 0). */
  readonly baseMs: number;
  /** Upper bound of any window. */
  readonly capMs: number;
}

/** Reconnect policy for a lost relay connection. */
export const RECONNECT_BACKOFF: BackoffPolicy = { baseMs: 500, capMs: 30_000 };
/** Per-message retry policy after every transport failed. */
export const RETRY_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 5 * 60_000 };

/** Beyond this exponent the window is at the cap anyway; avoids 2^attempt overflowing. */
const MAX_EXPONENT = 52;

/** The upper bound of the jitter window for `attempt` (0-based). */
export function backoffWindow(attempt: number, policy: BackoffPolicy): number {
  const exp = Math.min(Math.max(0, Math.floor(attempt)), MAX_EXPONENT);
  return Math.min(policy.capMs, policy.baseMs * 2 ** exp);
}

/** A delay drawn uniformly from [0, window(attempt)). */
export function fullJitterDelay(attempt: number, policy: BackoffPolicy, random: Random): number {
  return Math.floor(random.float() * backoffWindow(attempt, policy));
}

/** Counts consecutive failures and hands out the next delay; `reset` after a success. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: Random,
  ) {}

  /** The delay before the next try; each call widens the window until the cap. */
  next(): number {
    const delay = fullJitterDelay(this.attempt, this.policy, this.random);
    this.attempt++;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
