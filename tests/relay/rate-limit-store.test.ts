import { describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from '../../src/relay/limits/memory-rate-limit-store.ts';
import { describeRateLimitStoreContract } from './contracts/rate-limit-store.contract.ts';
import { waitFor } from './helpers/wait-for.ts';

describeRateLimitStoreContract('memory', async (clock) => ({
  store: new MemoryRateLimitStore({ now: clock.now, sweepIntervalMs: 10 * 60 * 1000 }),
  dispose: async () => {},
}));

describe('MemoryRateLimitStore', () => {
  const rule = { perSec: 1, burst: 5 };

  it('never holds more than maxBuckets, even when none has refilled (the oldest go first)', async () => {
    const now = 1000;
    const store = new MemoryRateLimitStore({ now: () => now, sweepIntervalMs: 60_000, maxBuckets: 100 });
    for (let i = 0; i < 1000; i++) await store.take(`k${i}`, rule, now);
    expect(store.localEntries()).toBe(100);
    // k0 was dropped and starts full again; the newest keeps its spent token.
    expect(await store.take('k0', rule, now, 5)).toBe(true);
    expect(await store.take('k999', rule, now, 5)).toBe(false);
    await store.close();
  });

  it('sweeps on its own timer when no take comes', async () => {
    let now = 1000;
    const store = new MemoryRateLimitStore({ now: () => now, sweepIntervalMs: 20, maxBuckets: 100 });
    for (let i = 0; i < 10; i++) await store.take(`k${i}`, rule, now);
    now += 60_000;
    await waitFor(() => store.localEntries(), (n) => n === 0, 'the idle sweep', 2000, 5);
    expect(store.localEntries()).toBe(0);
    await store.close();
  });
});
