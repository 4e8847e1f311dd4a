/**
 * Model-based check of the circuit breaker: random sequences of successes, failures,
 * probe requests, "usable again" signals and time steps, compared after every step
 * with a small reference model written from the documented state machine.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CircuitBreaker, type BreakerState } from '../../src/core/transport/circuit-breaker.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { silentLogger } from '../../src/core/log.ts';

const config = { failureThreshold: 3, openCooldownMs: 1_000, cooldownMultiplier: 2, maxCooldownMs: 5_000 };

class Model {
  state: BreakerState = 'closed';
  failures = 0;
  cooldown = config.openCooldownMs;
  until = 0;
  probe = false;
  constructor(private readonly now: () => number) {}
  private tick() {
    if (this.state === 'open' && this.now() >= this.until) {
      this.state = 'half_open';
      this.probe = false;
    }
  }
  private open() {
    this.state = 'open';
    this.failures = 0;
    this.until = this.now() + this.cooldown;
  }
  acquire(): boolean {
    this.tick();
    if (this.state === 'closed') return true;
    if (this.state === 'open' || this.probe) return false;
    this.probe = true;
    return true;
  }
  success() {
    this.tick();
    this.failures = 0;
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.probe = false;
      this.cooldown = config.openCooldownMs;
    }
  }
  failure() {
    this.tick();
    if (this.state === 'half_open') {
      this.probe = false;
      this.cooldown = Math.min(config.maxCooldownMs, this.cooldown * config.cooldownMultiplier);
      this.open();
    } else if (this.state === 'closed' && ++this.failures >= config.failureThreshold) this.open();
  }
  probeNow() {
    if (this.state === 'open') {
      this.until = this.now();
      this.tick();
    }
  }
  observed(): BreakerState {
    this.tick();
    return this.state;
  }
}

// Failures weigh more so that runs reach open, half-open and the growing cool-down often.
const op = fc.oneof(
  { arbitrary: fc.constant({ k: 'success' as const }), weight: 2 },
  { arbitrary: fc.constant({ k: 'failure' as const }), weight: 5 },
  { arbitrary: fc.constant({ k: 'acquire' as const }), weight: 3 },
  { arbitrary: fc.constant({ k: 'probeNow' as const }), weight: 1 },
  { arbitrary: fc.integer({ min: 0, max: 3_000 }).map((ms) => ({ k: 'advance' as const, ms })), weight: 3 },
);

describe('circuit breaker against a reference model', () => {
  it('agrees on state, permissions, reopen time and the gauge after every step', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 200, size: 'max' }), (ops) => {
        const clock = new FakeClock(0);
        const metrics = new InMemoryMetrics();
        const breaker = new CircuitBreaker('relay', { clock, metrics, logger: silentLogger }, config);
        const model = new Model(() => clock.now());
        let lastTransition: BreakerState = 'closed';
        breaker.onTransition((t) => {
          expect(t.from).toBe(lastTransition); // transitions chain without gaps
          expect(t.from).not.toBe(t.to);
          lastTransition = t.to;
        });
        for (const o of ops) {
          switch (o.k) {
            case 'advance':
              clock.advance(o.ms);
              break;
            case 'acquire':
              expect(breaker.tryAcquire()).toBe(model.acquire());
              break;
            case 'success':
              breaker.recordSuccess();
              model.success();
              break;
            case 'failure':
              breaker.recordFailure();
              model.failure();
              break;
            case 'probeNow':
              breaker.probeNow();
              model.probeNow();
              break;
          }
          const state = model.observed();
          expect(breaker.state).toBe(state);
          expect(metrics.gauge('circuit_breaker.state', { transport: 'relay' })).toBe({ closed: 0, open: 1, half_open: 2 }[state]);
          expect(breaker.reopensAt).toBe(state === 'open' ? model.until : undefined);
        }
      }),
      { numRuns: 300 },
    );
  });
});
