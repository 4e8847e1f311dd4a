/**
 * The counter saver alone: counters reach storage at most once per interval while they
 * move, once more when the core stops, and a failing save is logged, not thrown.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { createLogger, RingLogSink } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { COUNTER_SAVE_INTERVAL_MS, CounterSaver, META_COUNTERS_SAVED_AT } from '../../src/core/messenger/counter-saver.ts';
import { createMemoryStore, type PetrelStore } from '../../src/core/store/index.ts';
import { flush } from '../transport/fakes.ts';

function setUp(fail = false) {
  const clock = new FakeClock(0);
  const inner = createMemoryStore({ now: () => clock.now() });
  const saves: Array<Record<string, number>> = [];
  const store: PetrelStore = Object.create(inner) as PetrelStore;
  store.saveCounters = async (c) => {
    if (fail) throw new Error('disk went away');
    saves.push({ ...c });
    await inner.saveCounters(c);
  };
  const metrics = new InMemoryMetrics();
  const logs = new RingLogSink();
  const saver = new CounterSaver({ store, clock, metrics, log: createLogger(logs.sink, { level: 'debug' }) });
  return { clock, inner, metrics, saves, saver, logs };
}

describe('counter saver', () => {
  it('saves at most once per interval while counters move, then once more at stop', async () => {
    const { clock, inner, metrics, saves, saver } = setUp();
    metrics.inc('messages.composed');
    saver.saveSoon();
    metrics.inc('messages.composed');
    saver.saveSoon();
    clock.advance(COUNTER_SAVE_INTERVAL_MS - 1);
    await flush();
    expect(saves).toHaveLength(0);
    clock.advance(1);
    await flush();
    expect(saves).toEqual([{ 'messages.composed': 2 }]);
    expect(await inner.getMeta(META_COUNTERS_SAVED_AT)).toBe(COUNTER_SAVE_INTERVAL_MS);
    metrics.inc('messages.composed');
    await saver.stop();
    expect(saves.at(-1)).toEqual({ 'messages.composed': 3 });
    saver.saveSoon(); // stopped: no more timers
    clock.advance(COUNTER_SAVE_INTERVAL_MS);
    await flush();
    expect(saves).toHaveLength(2);
  });

  it('a failing save is logged and leaves the next change to try again; the last one at stop is silent', async () => {
    const { clock, saver, logs } = setUp(true);
    saver.saveSoon();
    clock.advance(COUNTER_SAVE_INTERVAL_MS);
    await flush();
    expect(logs.recent().filter((r) => r.msg === 'counters not saved')).toHaveLength(1);
    await expect(saver.stop()).resolves.toBeUndefined();
    expect(logs.recent().filter((r) => r.msg === 'counters not saved')).toHaveLength(1);
  });
});
