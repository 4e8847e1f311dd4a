import { describe, expect, it } from 'vitest';
import { Router, type RouterConfig } from '../../src/core/transport/router.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { seededRandom } from '../../src/core/random.ts';
import { createLogger, RingLogSink } from '../../src/core/log.ts';
import { deliver, Undelivered } from './deliver.ts';
import { envelope, FakeTransport, flush } from './fakes.ts';

const config: Partial<RouterConfig> = {
  budget: { maxAttempts: 4, maxAgeMs: 60 * 60_000 },
  backoff: { baseMs: 1_000, capMs: 8_000 },
  breaker: { failureThreshold: 3, openCooldownMs: 5_000, cooldownMultiplier: 2, maxCooldownMs: 20_000 },
  attemptTimeoutMs: 10_000,
};

function setup(overrides: Partial<RouterConfig> = {}) {
  const clock = new FakeClock(0);
  const metrics = new InMemoryMetrics();
  const logs = new RingLogSink();
  const direct = new FakeTransport('direct');
  const relay = new FakeTransport('relay');
  // Deliberately registered relay-first: the router orders by priority itself.
  const router = new Router([relay, direct], { clock, random: seededRandom(7), metrics, logger: createLogger(logs.sink, { level: 'debug' }) }, { ...config, ...overrides });
  return { clock, metrics, logs, direct, relay, router };
}

type Settled<T> = { status: 'pending' } | { status: 'fulfilled'; value: T } | { status: 'rejected'; reason: unknown };
function track<T>(p: Promise<T>): () => Settled<T> {
  let s: Settled<T> = { status: 'pending' };
  p.then(
    (value) => (s = { status: 'fulfilled', value }),
    (reason: unknown) => (s = { status: 'rejected', reason }),
  );
  return () => s;
}

/** Advances the fake clock in steps until the promise settles (bounded). */
async function settle<T>(clock: FakeClock, p: Promise<T>, stepMs = 500, maxSteps = 10_000): Promise<Settled<T>> {
  const state = track(p);
  for (let i = 0; i < maxSteps && state().status === 'pending'; i++) {
    await flush(1);
    if (state().status !== 'pending') break;
    clock.advance(stepMs);
  }
  await flush(1);
  return state();
}

describe('router: path choice and failover', () => {
  it('prefers a live direct channel, and uses the relay when direct is unavailable for that destination', async () => {
    const { router, direct, relay, metrics } = setup();
    expect(await router.attempt(envelope(1))).toMatchObject({ ok: true, transport: 'direct' });
    direct.setAvailable(false, envelope(2).to);
    expect(await router.attempt(envelope(2))).toMatchObject({ ok: true, transport: 'relay' });
    expect(direct.sent).toHaveLength(1);
    expect(relay.sent).toHaveLength(1);
    expect(metrics.counter('send.success', { transport: 'direct' })).toBe(1);
    expect(metrics.counter('send.success', { transport: 'relay' })).toBe(1);
    // Simply being unavailable is not a failover.
    expect(metrics.counter('transport.failover')).toBe(0);
  });

  it('fails over to the relay within the same round when direct fails, counting it', async () => {
    const { router, direct, relay, metrics } = setup();
    direct.fail('disconnected');
    const out = await router.attempt(envelope(1));
    expect(out).toMatchObject({ ok: true, transport: 'relay', state: { attempts: 0 } });
    expect(direct.sent.map((e) => e.id)).toEqual([envelope(1).id]);
    expect(relay.sent.map((e) => e.id)).toEqual([envelope(1).id]);
    expect(metrics.counter('send.failure', { transport: 'direct' })).toBe(1);
    expect(metrics.counter('transport.failover')).toBe(1);
  });

  it('skips a transport whose breaker is open (counted as failover) and probes it again after the cool-down', async () => {
    const { router, direct, relay, metrics, clock } = setup();
    direct.fail('timeout', 3);
    for (let i = 0; i < 3; i++) await router.attempt(envelope(i));
    expect(router.breakerState('direct')).toBe('open');
    expect(metrics.gauge('circuit_breaker.state', { transport: 'direct' })).toBe(1);
    const before = direct.sent.length;
    expect(await router.attempt(envelope(10))).toMatchObject({ ok: true, transport: 'relay' });
    expect(direct.sent).toHaveLength(before); // not even tried
    expect(metrics.counter('transport.failover')).toBe(4);
    clock.advance(5_000);
    expect(router.breakerState('direct')).toBe('half_open');
    expect(await router.attempt(envelope(11))).toMatchObject({ ok: true, transport: 'direct' });
    expect(router.breakerState('direct')).toBe('closed');
    expect(relay.sent).toHaveLength(4);
  });

  it('lets only one probe through a half-open breaker; concurrent sends take the relay', async () => {
    const { router, direct, clock } = setup();
    direct.fail('timeout', 3);
    for (let i = 0; i < 3; i++) await router.attempt(envelope(i));
    clock.advance(5_000);
    let releaseProbe: () => void = () => {};
    direct.fallback = () => new Promise<void>((r) => (releaseProbe = r));
    const probe = router.attempt(envelope(20));
    const others = await Promise.all([router.attempt(envelope(21)), router.attempt(envelope(22))]);
    expect(others.map((o) => o.ok && o.transport)).toEqual(['relay', 'relay']);
    releaseProbe();
    expect(await probe).toMatchObject({ ok: true, transport: 'direct' });
  });

  it('a destination_full failure does not count against the transport', async () => {
    const { router, direct, relay } = setup();
    direct.available = false;
    relay.alwaysFail('destination_full');
    for (let i = 0; i < 6; i++) {
      const out = await router.attempt(envelope(i));
      expect(out).toMatchObject({ ok: false, final: false, reason: 'destination_full', state: { attempts: 1 } });
    }
    expect(router.breakerState('relay')).toBe('closed');
  });

  it('an answer that refuses the message (mailbox full) still proves the path healthy: a half-open probe closes the breaker', async () => {
    const { router, direct, relay, clock } = setup();
    direct.available = false;
    relay.fail('timeout', 3);
    for (let i = 0; i < 3; i++) await router.attempt(envelope(i));
    expect(router.breakerState('relay')).toBe('open');
    clock.advance(5_000);
    relay.fail('destination_full');
    expect(await router.attempt(envelope(9))).toMatchObject({ ok: false, final: false, reason: 'destination_full' });
    expect(router.breakerState('relay')).toBe('closed');
  });
});

describe('router: retry with backoff and the retry budget', () => {
  it('a round where every transport failed uses one attempt and schedules a jittered retry inside the backoff window', async () => {
    const { router, direct, relay, metrics, clock } = setup();
    direct.alwaysFail('timeout');
    relay.alwaysFail('overloaded');
    const out = await router.attempt(envelope(1));
    expect(out.ok).toBe(false);
    if (out.ok || out.final) throw new Error('expected a retry');
    expect(out.reason).toBe('all_failed');
    expect(out.state).toEqual({ firstAttemptAt: 0, attempts: 1 });
    expect(out.retryAt).toBeGreaterThanOrEqual(clock.now());
    expect(out.retryAt).toBeLessThan(clock.now() + 1_000);
    expect(metrics.counter('retry.count')).toBe(1);
    const second = await router.attempt(envelope(1), out.state);
    if (second.ok || second.final) throw new Error('expected a retry');
    expect(second.state.attempts).toBe(2);
    expect(second.retryAt - clock.now()).toBeLessThan(2_000);
  });

  it('rounds driven until delivered report the carrying transport and each retry', async () => {
    const { router, direct, relay, clock, metrics } = setup();
    direct.available = false;
    relay.fail('disconnected', 2);
    const retries: number[] = [];
    const result = await settle(clock, deliver(router, clock, envelope(1), { onRetry: (o) => retries.push(o.state.attempts) }));
    expect(result).toMatchObject({ status: 'fulfilled', value: { transport: 'relay', state: { attempts: 2 } } });
    expect(retries).toEqual([1, 2]);
    expect(relay.sent).toHaveLength(3);
    expect(metrics.counter('retry.count')).toBe(2);
  });

  it('after the budget is spent the message fails with retry_budget_exhausted and the last error', async () => {
    const { router, direct, relay, clock, logs } = setup();
    direct.alwaysFail('timeout');
    relay.alwaysFail('overloaded');
    const result = await settle(clock, deliver(router, clock, envelope(1)));
    expect(result.status).toBe('rejected');
    const err = (result as { reason: unknown }).reason;
    expect(err).toBeInstanceOf(Undelivered);
    expect(err).toMatchObject({ reason: 'retry_budget_exhausted', state: { attempts: 4 }, detail: 'overloaded' });
    // Rounds 1-3 try both and open both breakers (threshold 3). While both are open a
    // round tries nothing and uses no attempt; after the cool-down each breaker lets one
    // probe through, both fail, and that 4th round spends the budget.
    expect(direct.sent.length).toBe(4);
    expect(relay.sent.length).toBe(4);
    expect(router.breakerStates()).toEqual({ direct: 'open', relay: 'open' });
    expect(logs.recent().some((r) => r.msg === 'message failed' && r.fields?.reason === 'retry_budget_exhausted')).toBe(true);
  });

  it('a budget restored from the outbox continues where it stopped (crash recovery)', async () => {
    const { router, direct, relay } = setup();
    direct.available = false;
    relay.fail('timeout');
    const out = await router.attempt(envelope(1), { firstAttemptAt: 0, attempts: 3 });
    expect(out).toMatchObject({ ok: false, final: true, reason: 'retry_budget_exhausted', state: { attempts: 4 } });
  });

  it('the age budget fails a message even with attempts left', async () => {
    const { router, direct, relay, clock } = setup();
    direct.available = false;
    relay.fail('timeout');
    clock.advance(60 * 60_000);
    const out = await router.attempt(envelope(1), { firstAttemptAt: 0, attempts: 0 });
    expect(out).toMatchObject({ ok: false, final: true, reason: 'retry_budget_exhausted' });
  });

  it('a permanent rejection fails at once with reason rejected and the relay code', async () => {
    const { router, direct, relay, clock } = setup();
    direct.available = false;
    relay.fail('rejected', 1, 'too_large');
    const result = await settle(clock, deliver(router, clock, envelope(1)));
    expect(result).toMatchObject({ status: 'rejected', reason: { reason: 'rejected', detail: 'too_large' } });
    expect(relay.sent).toHaveLength(1);
    expect(router.breakerState('relay')).toBe('closed');
  });

  it('offline rounds (no transport available) use no attempts; only the age budget ends them, with no_transport', async () => {
    const { router, direct, relay, clock } = setup();
    direct.available = false;
    relay.available = false;
    const first = await router.attempt(envelope(1));
    expect(first).toMatchObject({ ok: false, final: false, reason: 'no_transport', state: { attempts: 0 } });
    const result = await settle(clock, deliver(router, clock, envelope(1)), 60_000);
    expect(result).toMatchObject({ status: 'rejected', reason: { reason: 'no_transport', state: { attempts: 0 } } });
    expect(clock.now()).toBeGreaterThanOrEqual(60 * 60_000);
    expect(relay.sent).toHaveLength(0);
  });

  it('a transport that never answers is timed out by the router', async () => {
    const { router, direct, relay, clock } = setup();
    direct.hang();
    const attempt = track(router.attempt(envelope(1)));
    await flush();
    expect(attempt().status).toBe('pending');
    clock.advance(10_000);
    await flush();
    expect(attempt()).toMatchObject({ status: 'fulfilled', value: { ok: true, transport: 'relay' } });
    expect(relay.sent).toHaveLength(1);
  });
});

describe('router: retry opportunities wake the rounds waiting for them', () => {
  it('a transport becoming available wakes the messages waiting for it', async () => {
    const { router, direct, relay, clock } = setup({ backoff: { baseMs: 60_000, capMs: 60_000 } });
    direct.setAvailable(false, envelope(1, 1).to);
    direct.setAvailable(false, envelope(2, 2).to);
    relay.available = false;
    const a = track(deliver(router, clock, envelope(1, 1)));
    const b = track(deliver(router, clock, envelope(2, 2)));
    await flush();
    expect([a().status, b().status]).toEqual(['pending', 'pending']);
    direct.setAvailable(true, envelope(1, 1).to); // a direct channel to destination 1 opened
    await flush();
    expect(a()).toMatchObject({ status: 'fulfilled', value: { transport: 'direct' } });
    expect(b().status).toBe('pending');
    relay.setAvailable(true); // the relay reconnected: everyone may go
    await flush();
    expect(b()).toMatchObject({ status: 'fulfilled', value: { transport: 'relay' } });
  });

  it('a link that comes back half-opens its open breaker and the waiting messages go at once', async () => {
    const { router, direct, relay, clock } = setup({ backoff: { baseMs: 60_000, capMs: 60_000 } });
    direct.available = false;
    relay.fail('disconnected', 3); // three in-flight sends fail as the link drops: breaker opens
    const sends = [1, 2, 3].map((n) => track(deliver(router, clock, envelope(n))));
    await flush();
    expect(router.breakerState('relay')).toBe('open');
    relay.available = false;
    relay.setAvailable(true); // reconnected and authenticated, long before the 5 s cool-down
    await flush();
    expect(router.breakerState('relay')).toBe('closed'); // the probe succeeded...
    await flush();
    expect(sends.map((s) => s().status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']); // ...and closing woke the rest
    expect(clock.now()).toBe(0);
  });

  it('tells attempt-driven callers when retrying early makes sense', async () => {
    const { router, direct, relay, clock } = setup();
    const seen: string[] = [];
    router.onRetryOpportunity((o) => seen.push(o.destination ? `dest:${o.destination[0]}` : 'all'));
    direct.setAvailable(true, envelope(1, 7).to);
    relay.setAvailable(false); // going down is no opportunity
    relay.setAvailable(true);
    relay.alwaysFail('timeout');
    direct.available = false;
    for (let i = 0; i < 5; i++) await router.attempt(envelope(i));
    expect(router.breakerState('relay')).toBe('open');
    clock.advance(5_000); // half-open
    expect(seen).toEqual(['dest:7', 'all', 'all']);
  });

  it('refuses two transports with the same name', () => {
    const clock = new FakeClock(0);
    expect(
      () =>
        new Router([new FakeTransport('relay'), new FakeTransport('relay')], {
          clock,
          random: seededRandom(1),
          metrics: new InMemoryMetrics(),
          logger: createLogger(() => {}),
        }),
    ).toThrow(RangeError);
  });
});
