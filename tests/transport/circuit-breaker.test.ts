import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type BreakerTransition } from '../../src/core/transport/circuit-breaker.ts';
import { FakeClock, type Clock } from '../../src/core/clock.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { silentLogger } from '../../src/core/log.ts';

const config = { failureThreshold: 3, openCooldownMs: 1_000, cooldownMultiplier: 2, maxCooldownMs: 3_000 };

function setup() {
  const clock = new FakeClock(0);
  const metrics = new InMemoryMetrics();
  const breaker = new CircuitBreaker('relay', { clock, metrics, logger: silentLogger }, config);
  const transitions: string[] = [];
  breaker.onTransition((t: BreakerTransition) => transitions.push(`${t.from}->${t.to}@${t.at}`));
  const gauge = () => metrics.gauge('circuit_breaker.state', { transport: 'relay' });
  const openIt = () => {
    for (let i = 0; i < config.failureThreshold; i++) breaker.recordFailure();
  };
  return { clock, metrics, breaker, transitions, gauge, openIt };
}

describe('circuit breaker', () => {
  it('starts closed (gauge 0) and lets everything through', () => {
    const { breaker, gauge } = setup();
    expect(breaker.state).toBe('closed');
    expect(gauge()).toBe(0);
    for (let i = 0; i < 10; i++) expect(breaker.tryAcquire()).toBe(true);
  });

  it('closed -> open only after the threshold of CONSECUTIVE failures', () => {
    const { breaker, transitions, gauge } = setup();
    breaker.recordFailure();
    breaker.recordFailure();
    breaker.recordSuccess(); // resets the run
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state).toBe('closed');
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
    expect(gauge()).toBe(1);
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.allows()).toBe(false);
    expect(breaker.reopensAt).toBe(1_000);
    expect(transitions).toEqual(['closed->open@0']);
  });

  it('open -> half_open after the cool-down, by timer (gauge 2, event) and not a millisecond before', () => {
    const { breaker, clock, transitions, gauge, openIt } = setup();
    openIt();
    clock.advance(999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(transitions).toEqual(['closed->open@0', 'open->half_open@1000']);
    expect(gauge()).toBe(2);
    expect(breaker.state).toBe('half_open');
  });

  it('half_open lets exactly one probe through', () => {
    const { breaker, clock, openIt } = setup();
    openIt();
    clock.advance(1_000);
    expect(breaker.allows()).toBe(true);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.allows()).toBe(false);
    breaker.releaseProbe(); // the probe was never used
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('counts every transition by target state, so a half-open that lasted a moment still shows', () => {
    const { breaker, clock, metrics, openIt } = setup();
    const count = (to: string) => metrics.counter('circuit_breaker.transitions', { transport: 'relay', to });
    openIt();
    clock.advance(1_000);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordSuccess();
    // The gauge is back at closed; the counters remember the whole cycle.
    expect(metrics.gauge('circuit_breaker.state', { transport: 'relay' })).toBe(0);
    expect([count('open'), count('half_open'), count('closed')]).toEqual([1, 1, 1]);
  });

  it('half_open -> closed when the probe succeeds, and a grown cool-down resets to its base', () => {
    const { breaker, clock, transitions, gauge, openIt } = setup();
    openIt();
    clock.advance(1_000);
    breaker.tryAcquire();
    breaker.recordFailure(); // failed probe: cool-down grows to 2 s
    clock.advance(2_000);
    breaker.tryAcquire();
    breaker.recordSuccess();
    expect(breaker.state).toBe('closed');
    expect(gauge()).toBe(0);
    expect(transitions.at(-1)).toBe('half_open->closed@3000');
    openIt();
    expect(breaker.reopensAt).toBe(4_000); // base cool-down again
  });

  it('half_open -> open when the probe fails, with a growing, capped cool-down', () => {
    const { breaker, clock, transitions, openIt } = setup();
    openIt();
    const reopenDelays: number[] = [];
    for (let i = 0; i < 4; i++) {
      clock.advance(breaker.reopensAt! - clock.now());
      expect(breaker.state).toBe('half_open');
      expect(breaker.tryAcquire()).toBe(true);
      breaker.recordFailure();
      expect(breaker.state).toBe('open');
      reopenDelays.push(breaker.reopensAt! - clock.now());
    }
    expect(reopenDelays).toEqual([2_000, 3_000, 3_000, 3_000]);
    expect(transitions.filter((t) => t.startsWith('half_open->open'))).toHaveLength(4);
  });

  it('probeNow (the transport is usable again) half-opens an open breaker at once, keeping one probe', () => {
    const { breaker, transitions, openIt } = setup();
    breaker.probeNow(); // closed: no effect
    expect(breaker.state).toBe('closed');
    openIt();
    breaker.probeNow();
    expect(breaker.state).toBe('half_open');
    expect(transitions).toEqual(['closed->open@0', 'open->half_open@0']);
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
    breaker.recordFailure();
    expect(breaker.reopensAt).toBe(2_000); // a failed probe still grows the cool-down
  });

  it('failures that straggle in while open change nothing', () => {
    const { breaker, clock, openIt, transitions } = setup();
    openIt();
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.reopensAt).toBe(1_000);
    clock.advance(1_000);
    expect(breaker.state).toBe('half_open');
    expect(transitions).toEqual(['closed->open@0', 'open->half_open@1000']);
  });

  it('reaches half_open from the clock even if its timer was lost (dispose)', () => {
    const { breaker, clock, openIt } = setup();
    openIt();
    breaker.dispose();
    expect(clock.pending()).toBe(0);
    clock.advance(1_000);
    expect(breaker.state).toBe('half_open');
  });
  it('half-opens by itself when its timer fires early by the wall clock (a busy Node loop)', () => {
    // Node runs timers on a loop time that lags Date.now() while the loop is busy, so a
    // timer can fire a few milliseconds before the deadline the breaker computed from
    // Date.now(). It must not then stay open until someone happens to ask.
    const clock = new FakeClock(0);
    let lag = 7; // the loop time lags once; the re-armed timer runs on a fresh loop time
    const early: Clock = {
      now: () => clock.now(),
      setTimeout: (fn, ms) => {
        const cancel = clock.setTimeout(fn, Math.max(0, ms - lag));
        lag = 0;
        return cancel;
      },
    };
    const metrics = new InMemoryMetrics();
    const breaker = new CircuitBreaker('direct', { clock: early, metrics, logger: silentLogger }, config);
    const transitions: string[] = [];
    breaker.onTransition((t: BreakerTransition) => transitions.push(`${t.from}->${t.to}@${t.at}`));
    for (let i = 0; i < config.failureThreshold; i++) breaker.recordFailure();
    clock.advance(995);
    expect(metrics.gauge('circuit_breaker.state', { transport: 'direct' })).toBe(1);
    clock.advance(5);
    // Nobody asked for the state: the gauge and the event come from the timer alone.
    expect(metrics.gauge('circuit_breaker.state', { transport: 'direct' })).toBe(2);
    expect(transitions).toEqual(['closed->open@0', 'open->half_open@1000']);
  });
});
