/**
 * One circuit breaker per transport.
 *
 *   closed ──(FAILURE_THRESHOLD consecutive failures)──▶ open
 *   open ──(cool-down elapsed, or the transport reports it is usable again)──▶ half_open
 *   half_open ──(the single probe succeeds)──▶ closed   (cool-down back to its base)
 *   half_open ──(the probe fails)──▶ open               (cool-down doubles, up to a cap)
 *
 * Consecutive failures rather than a failure rate in a window: a messenger sends in
 * small bursts with long pauses, so a rate over a time window is mostly computed from a
 * handful of samples, while "N in a row with no success between" is meaningful at any
 * volume. Any success while closed resets the count.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { Listeners } from './listeners.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';

/** Gauge values of `circuit_breaker.state{transport}` (each change also counts `circuit_breaker.transitions{transport,to}`). */
export const BREAKER_STATE_GAUGE: Readonly<Record<BreakerState, number>> = { closed: 0, open: 1, half_open: 2 };

export interface BreakerConfig {
  /** Consecutive failures that open a closed breaker. */
  readonly failureThreshold: number;
  /** First cool-down before a half-open probe. */
  readonly openCooldownMs: number;
  /** Each failed probe multiplies the cool-down by this. */
  readonly cooldownMultiplier: number;
  /** The cool-down never grows beyond this. */
  readonly maxCooldownMs: number;
}

export const DEFAULT_BREAKER_CONFIG: BreakerConfig = {
  failureThreshold: 5,
  openCooldownMs: 5_000,
  cooldownMultiplier: 2,
  maxCooldownMs: 60_000,
};

export interface BreakerTransition {
  readonly name: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly at: number;
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private cooldownMs: number;
  private openedUntil = 0;
  private probeInFlight = false;
  private cancelCooldown: (() => void) | undefined;
  private readonly transitions = new Listeners<BreakerTransition>();

  constructor(
    /** The transport it guards; the `transport` label of its gauge. */
    readonly name: string,
    private readonly deps: { clock: Clock; metrics: Metrics; logger: Logger },
    private readonly config: BreakerConfig = DEFAULT_BREAKER_CONFIG,
  ) {
    this.cooldownMs = config.openCooldownMs;
    deps.metrics.set('circuit_breaker.state', BREAKER_STATE_GAUGE.closed, { transport: name });
  }

  get state(): BreakerState {
    this.refresh();
    return this.current;
  }

  /** When an open breaker will let a probe through (ms since epoch); undefined unless open. */
  get reopensAt(): number | undefined {
    return this.state === 'open' ? this.openedUntil : undefined;
  }

  /**
   * Asks to send through the guarded transport. Closed: always yes. Open: no. Half-open:
   * yes exactly once (the probe) until that probe reports back.
   */
  tryAcquire(): boolean {
    this.refresh();
    if (this.current === 'closed') return true;
    if (this.current === 'open') return false;
    if (this.probeInFlight) return false;
    this.probeInFlight = true;
    return true;
  }

  /** Would `tryAcquire` say yes right now? (No side effects.) */
  allows(): boolean {
    this.refresh();
    return this.current === 'closed' || (this.current === 'half_open' && !this.probeInFlight);
  }

  recordSuccess(): void {
    this.refresh();
    this.consecutiveFailures = 0;
    if (this.current !== 'closed') {
      this.probeInFlight = false;
      this.cooldownMs = this.config.openCooldownMs;
      this.transition('closed');
    }
  }

  recordFailure(): void {
    this.refresh();
    if (this.current === 'half_open') {
      this.probeInFlight = false;
      this.cooldownMs = Math.min(this.config.maxCooldownMs, this.cooldownMs * this.config.cooldownMultiplier);
      this.open();
      return;
    }
    if (this.current === 'open') return; // a straggler from before it opened
    this.consecutiveFailures++;
    if (this.consecutiveFailures >= this.config.failureThreshold) this.open();
  }

  /**
   * The guarded transport reports it is usable again (e.g. the relay link reconnected and
   * authenticated): an open breaker moves to half-open now instead of at the end of its
   * cool-down. Still only one probe goes through, so this cannot flood a sick path.
   */
  probeNow(): void {
    if (this.current !== 'open') return;
    this.cancelCooldown?.();
    this.cancelCooldown = undefined;
    this.openedUntil = this.deps.clock.now();
    this.refresh();
  }

  /** A probe that was acquired but never attempted (e.g. the transport became unavailable). */
  releaseProbe(): void {
    this.probeInFlight = false;
  }

  onTransition(listener: (t: BreakerTransition) => void): () => void {
    return this.transitions.add(listener);
  }

  dispose(): void {
    this.cancelCooldown?.();
    this.cancelCooldown = undefined;
  }

  private open(): void {
    this.consecutiveFailures = 0;
    this.openedUntil = this.deps.clock.now() + this.cooldownMs;
    this.transition('open');
    this.armCooldownTimer(this.cooldownMs);
  }

  /**
   * The timer makes half-open observable (gauge, events, waiting messages); `refresh`
   * also checks the time so a late timer can never keep the breaker open too long. A
   * timer can also fire EARLY by the wall clock (Node's timers run on a loop time that
   * lags `Date.now()` while the loop is busy): then it is armed again for the rest, or
   * the breaker would stay open until someone happened to ask.
   */
  private armCooldownTimer(ms: number): void {
    this.cancelCooldown?.();
    this.cancelCooldown = this.deps.clock.setTimeout(() => {
      this.cancelCooldown = undefined;
      if (this.current !== 'open') return;
      const left = this.openedUntil - this.deps.clock.now();
      if (left > 0) this.armCooldownTimer(left);
      else this.refresh();
    }, ms);
  }

  private refresh(): void {
    if (this.current === 'open' && this.deps.clock.now() >= this.openedUntil) {
      this.probeInFlight = false;
      this.transition('half_open');
    }
  }

  private transition(to: BreakerState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    const at = this.deps.clock.now();
    this.deps.metrics.set('circuit_breaker.state', BREAKER_STATE_GAUGE[to], { transport: this.name });
    // The gauge shows only the current state; a half-open probe that succeeds at once
    // would never be seen in it. The counter keeps every transition.
    this.deps.metrics.inc('circuit_breaker.transitions', { transport: this.name, to });
    this.deps.logger.info('circuit breaker transition', { transport: this.name, from, to, cooldownMs: this.cooldownMs });
    this.transitions.emit({ name: this.name, from, to, at });
  }
}
