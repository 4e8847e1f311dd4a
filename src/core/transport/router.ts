/**
 * Chooses, per envelope, the path to its destination: transports in priority order (a
 * live direct channel first, the relay second), skipping any that is unavailable for
 * that destination or whose circuit breaker is open, failing over to the next when one
 * fails, and retrying the whole round later with full-jitter backoff until the retry
 * budget is spent.
 *
 * `attempt(envelope, state)` makes ONE round and returns what happened, including
 * `retryAt` and the new `RetryState`. It keeps no per-message state: the messenger's
 * outbox worker persists `{ state, retryAt }` after every round, so a crash is recovered
 * by re-scheduling each outbox entry at its stored `retryAt` and nothing about a message
 * lives only in memory. `onRetryOpportunity` says when waiting entries may try early (a
 * transport came up, a breaker let traffic through).
 *
 * The router owns no durability: it is given envelopes and reports outcomes.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Random } from '../random.ts';
import { fullJitterDelay, RETRY_BACKOFF, type BackoffPolicy } from './backoff.ts';
import { CircuitBreaker, DEFAULT_BREAKER_CONFIG, type BreakerConfig, type BreakerState, type BreakerTransition } from './circuit-breaker.ts';
import { envelopeKey, type Envelope } from './envelope.ts';
import { Listeners } from './listeners.ts';
import { DEFAULT_RETRY_BUDGET, type DeliveryFailureReason, type RetryBudget, type RetryState } from './retry-budget.ts';
import type { SignedDeviceList } from '../wire/index.ts';
import { countsAgainstTransport, TRANSPORT_PRIORITY, TransportSendError, type SendOptions, type Transport, type TransportName } from './transport.ts';

/** A transport whose send neither resolves nor rejects within this is treated as timed out. */
export const ATTEMPT_TIMEOUT_MS = 30_000;

export interface RouterConfig {
  readonly budget: RetryBudget;
  readonly backoff: BackoffPolicy;
  readonly breaker: BreakerConfig;
  readonly attemptTimeoutMs: number;
}

export const DEFAULT_ROUTER_CONFIG: RouterConfig = {
  budget: DEFAULT_RETRY_BUDGET,
  backoff: RETRY_BACKOFF,
  breaker: DEFAULT_BREAKER_CONFIG,
  attemptTimeoutMs: ATTEMPT_TIMEOUT_MS,
};

export interface RouterDeps {
  readonly clock: Clock;
  readonly random: Random;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

/** The outcome of one round over the transports. */
export type AttemptOutcome =
  | { readonly ok: true; readonly transport: TransportName; readonly state: RetryState }
  | {
      readonly ok: false;
      readonly final: false;
      /** `no_transport`: nothing could be tried (no attempt used); `all_failed`: every tried transport failed. */
      readonly reason: 'no_transport' | 'all_failed' | 'destination_full';
      /** When to try again (ms since epoch); persist it as the outbox entry's next attempt time. */
      readonly retryAt: number;
      readonly state: RetryState;
    }
  | {
      readonly ok: false;
      readonly final: true;
      readonly reason: DeliveryFailureReason;
      readonly state: RetryState;
      readonly detail?: string;
      /** With detail `stale_devices`: the current device list the relay sent (unverified). */
      readonly deviceList?: SignedDeviceList;
    };

/** A moment when messages waiting for a retry may succeed now (see `onRetryOpportunity`). */
export interface RetryOpportunity {
  /** Only messages to this destination (a direct channel opened), or all when undefined. */
  readonly destination?: Uint8Array;
}

export class Router {
  private readonly transports: readonly Transport[];
  private readonly breakers = new Map<TransportName, CircuitBreaker>();
  private readonly transitions = new Listeners<BreakerTransition>();
  private readonly opportunities = new Listeners<RetryOpportunity>();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly config: RouterConfig;
  private readonly log: Logger;

  constructor(
    transports: readonly Transport[],
    private readonly deps: RouterDeps,
    config: Partial<RouterConfig> = {},
  ) {
    this.config = { ...DEFAULT_ROUTER_CONFIG, ...config };
    this.log = deps.logger.child('router');
    const names = new Set(transports.map((t) => t.name));
    if (names.size !== transports.length) throw new RangeError('Router: one transport per name');
    this.transports = [...transports].sort((a, b) => TRANSPORT_PRIORITY.indexOf(a.name) - TRANSPORT_PRIORITY.indexOf(b.name));
    for (const t of this.transports) {
      const breaker = new CircuitBreaker(t.name, { clock: deps.clock, metrics: deps.metrics, logger: this.log }, this.config.breaker);
      this.breakers.set(t.name, breaker);
      this.unsubscribe.push(
        breaker.onTransition((tr) => {
          this.transitions.emit(tr);
          // A probe may go (half_open) or the path is healthy again (closed): waiting messages may try now.
          if (tr.to !== 'open') this.opportunities.emit({});
        }),
        t.onStateChange((change) => {
          if (!change.available) return;
          // Fresh evidence the path works (a link or channel came up): probe it now.
          breaker.probeNow();
          this.opportunities.emit(change.destination ? { destination: change.destination } : {});
        }),
      );
    }
  }

  /**
   * One round over the transports in priority order. Never rejects. `skip` leaves some
   * out for this round (the caller's own rule, e.g. keeping order across paths).
   */
  async attempt(
    envelope: Envelope,
    state: RetryState = { firstAttemptAt: this.deps.clock.now(), attempts: 0 },
    options: { readonly skip?: readonly TransportName[] } & SendOptions = {},
  ): Promise<AttemptOutcome> {
    const id = envelopeKey(envelope);
    let tried = 0;
    let skippedOrFailed = false;
    let lastError: TransportSendError | undefined;
    let onlyDestinationFull = true;
    for (const transport of this.transports) {
      const breaker = this.breakers.get(transport.name)!;
      if (options.skip?.includes(transport.name) || !transport.isAvailable(envelope.to)) continue;
      if (!breaker.tryAcquire()) {
        skippedOrFailed = true;
        continue;
      }
      if (skippedOrFailed) this.deps.metrics.inc('transport.failover');
      tried++;
      try {
        await this.sendWithTimeout(transport, envelope, options.deviceList ? { deviceList: options.deviceList } : undefined);
        breaker.recordSuccess();
        this.deps.metrics.inc('send.success', { transport: transport.name });
        return { ok: true, transport: transport.name, state };
      } catch (err) {
        const error = err instanceof TransportSendError ? err : new TransportSendError('disconnected', transport.name, 'unexpected');
        lastError = error;
        this.deps.metrics.inc('send.failure', { transport: transport.name });
        // `destination_full` and `rejected` are answers: the path itself is healthy.
        if (countsAgainstTransport(error.kind)) breaker.recordFailure();
        else breaker.recordSuccess();
        if (error.kind !== 'destination_full') onlyDestinationFull = false;
        this.log.debug('send attempt failed', { id, transport: transport.name, kind: error.kind, code: error.code ?? null });
        if (error.kind === 'rejected') {
          return { ok: false, final: true, reason: 'rejected', state: { ...state, attempts: state.attempts + 1 }, detail: error.code ?? error.kind, ...(error.deviceList ? { deviceList: error.deviceList } : {}) };
        }
        skippedOrFailed = true;
      }
    }
    return this.afterFailedRound(id, state, tried, tried > 0 && onlyDestinationFull, lastError);
  }

  /** True when `transport` has a path to `destination` now (its breaker aside). */
  isAvailable(transport: TransportName, destination: Uint8Array): boolean {
    return this.transports.some((t) => t.name === transport && t.isAvailable(destination));
  }

  breakerState(transport: TransportName): BreakerState | undefined {
    return this.breakers.get(transport)?.state;
  }

  breakerStates(): Partial<Record<TransportName, BreakerState>> {
    const out: Partial<Record<TransportName, BreakerState>> = {};
    for (const [name, b] of this.breakers) out[name] = b.state;
    return out;
  }

  onBreakerTransition(listener: (t: BreakerTransition) => void): () => void {
    return this.transitions.add(listener);
  }

  /**
   * For callers that drive `attempt` from their own (durable) schedule: a transport came
   * up or a breaker let traffic through again, so entries waiting for `retryAt` may try
   * now.
   */
  onRetryOpportunity(listener: (o: RetryOpportunity) => void): () => void {
    return this.opportunities.add(listener);
  }

  dispose(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    for (const b of this.breakers.values()) b.dispose();
  }

  private afterFailedRound(id: string, state: RetryState, tried: number, destinationFull: boolean, lastError: TransportSendError | undefined): AttemptOutcome {
    const now = this.deps.clock.now();
    const { budget } = this.config;
    const aged = now - state.firstAttemptAt >= budget.maxAgeMs;
    if (tried === 0) {
      if (aged) return this.giveUp(id, 'no_transport', state, undefined);
      // Nothing was tried: use no attempt; come back when a breaker half-opens, a
      // transport announces itself available, or after the current backoff window.
      const reopen = this.earliestReopen();
      const backoffAt = now + fullJitterDelay(state.attempts, this.config.backoff, this.deps.random);
      const retryAt = reopen !== undefined ? Math.min(reopen, backoffAt) : backoffAt;
      return { ok: false, final: false, reason: 'no_transport', retryAt, state };
    }
    const next: RetryState = { firstAttemptAt: state.firstAttemptAt, attempts: state.attempts + 1 };
    if (next.attempts >= budget.maxAttempts || aged) return this.giveUp(id, 'retry_budget_exhausted', next, lastError);
    this.deps.metrics.inc('retry.count');
    const retryAt = now + fullJitterDelay(next.attempts - 1, this.config.backoff, this.deps.random);
    return { ok: false, final: false, reason: destinationFull ? 'destination_full' : 'all_failed', retryAt, state: next };
  }

  private giveUp(id: string, reason: DeliveryFailureReason, state: RetryState, lastError: TransportSendError | undefined): AttemptOutcome {
    const detail = lastError ? (lastError.code ?? lastError.kind) : undefined;
    this.log.warn('message failed', { id, reason, attempts: state.attempts, detail: detail ?? null });
    return detail === undefined ? { ok: false, final: true, reason, state } : { ok: false, final: true, reason, state, detail };
  }

  private earliestReopen(): number | undefined {
    let earliest: number | undefined;
    for (const b of this.breakers.values()) {
      const at = b.reopensAt;
      if (at !== undefined && (earliest === undefined || at < earliest)) earliest = at;
    }
    return earliest;
  }

  private sendWithTimeout(transport: Transport, envelope: Envelope, options?: SendOptions): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const cancelTimer = this.deps.clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new TransportSendError('timeout', transport.name, 'attempt_timeout'));
      }, this.config.attemptTimeoutMs);
      let sending: Promise<void>;
      try {
        sending = options ? transport.send(envelope, options) : transport.send(envelope);
      } catch (err) {
        sending = Promise.reject(err);
      }
      sending.then(
        () => {
          if (settled) return;
          settled = true;
          cancelTimer();
          resolve();
        },
        (err: unknown) => {
          if (settled) return;
          settled = true;
          cancelTimer();
          reject(err);
        },
      );
    });
  }
}
