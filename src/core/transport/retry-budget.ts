/**
 * How long the router keeps trying one message before it reports it `failed`, and the
 * per-message retry state the durable outbox stores so the budget survives a crash.
 */
export interface RetryBudget {
  /** Rounds in which at least one transport was tried and all that were tried failed. */
  readonly maxAttempts: number;
  /** Age (since the first attempt) after which the message fails even if attempts are left. */
  readonly maxAgeMs: number;
}

/**
 * Twelve failed rounds on the RETRY_BACKOFF schedule is roughly 10-25 minutes of a
 * reachable but failing path. Rounds in which no transport was even available (the
 * device is offline, every breaker is open) do not use attempts: being offline for an
 * afternoon must not fail a message; only `maxAgeMs` bounds that.
 */
export const DEFAULT_RETRY_BUDGET: RetryBudget = { maxAttempts: 12, maxAgeMs: 3 * 24 * 60 * 60_000 };

/** What the outbox persists per message (with `nextAttemptAt`) to resume after a restart. */
export interface RetryState {
  /** When the first attempt was made (ms since epoch); the age budget counts from here. */
  readonly firstAttemptAt: number;
  /** Failed rounds so far (see RetryBudget.maxAttempts). */
  readonly attempts: number;
}

/**
 * Why a message was given up:
 * - `retry_budget_exhausted`: transports were tried `maxAttempts` times (or for `maxAgeMs`) and failed;
 * - `no_transport`: `maxAgeMs` passed without any transport ever being available;
 * - `rejected`: a transport refused the envelope for good (too large, malformed).
 */
export type DeliveryFailureReason = 'retry_budget_exhausted' | 'no_transport' | 'rejected';
