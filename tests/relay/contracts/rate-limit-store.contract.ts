import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RateLimitStore } from '../../../src/relay/limits/rate-limit-store.ts';

/** A clock the test moves by hand; stores read it instead of Date.now(). */
export interface FakeClock {
  now(): number;
  advance(ms: number): void;
}

/** A fresh store with no buckets, reading `clock`; `dispose` releases what `close` does not. */
export type RateLimitStoreFactory = (clock: FakeClock) => Promise<{ store: RateLimitStore; dispose(): Promise<void> }>;

const T0 = 1_700_000_000_000;
/** Longer than any sweep period a store may use (the relay's default is 10 minutes). */
const SWEEP_WINDOW_MS = 60 * 60 * 1000;

function fakeClock(): FakeClock {
  let t = T0;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** The behaviour every RateLimitStore must have (memory today; a shared store such as Redis later). */
export function describeRateLimitStoreContract(name: string, factory: RateLimitStoreFactory): void {
  describe(`RateLimitStore contract: ${name}`, () => {
    let store: RateLimitStore;
    let dispose: () => Promise<void>;
    let clock: FakeClock;
    const rule = { perSec: 2, burst: 3 };
    const takeN = async (key: string, n: number, r = rule) => {
      const out: boolean[] = [];
      for (let i = 0; i < n; i++) out.push(await store.take(key, r, clock.now()));
      return out;
    };

    beforeEach(async () => {
      clock = fakeClock();
      ({ store, dispose } = await factory(clock));
    });
    afterEach(async () => {
      await store.close();
      await dispose();
    });

    it('an unseen key starts full: the burst is allowed, the next take refused', async () => {
      expect(await takeN('k', 4)).toEqual([true, true, true, false]);
    });

    it('refills at the rule rate on the clock it is given, never above the burst', async () => {
      await takeN('k', 3);
      clock.advance(499);
      expect(await store.take('k', rule, clock.now())).toBe(false);
      clock.advance(1);
      expect(await takeN('k', 2)).toEqual([true, false]);
      clock.advance(60_000);
      expect(await takeN('k', 4)).toEqual([true, true, true, false]);
    });

    it('keeps keys apart', async () => {
      await takeN('ip:a:deposit', 3);
      expect(await store.take('ip:a:deposit', rule, clock.now())).toBe(false);
      expect(await store.take('ip:b:deposit', rule, clock.now())).toBe(true);
      expect(await store.take('ip:a:fetch', rule, clock.now())).toBe(true);
    });

    it('takes a cost of several tokens only when all are there', async () => {
      expect(await store.take('k', rule, clock.now(), 2)).toBe(true);
      expect(await store.take('k', rule, clock.now(), 2)).toBe(false);
      expect(await store.take('k', rule, clock.now(), 1)).toBe(true);
    });

    it('concurrent takes on one key never hand out more than the burst', async () => {
      const burst = { perSec: 1, burst: 25 };
      const results = await Promise.all(Array.from({ length: 100 }, () => store.take('hot', burst, clock.now())));
      expect(results.filter(Boolean)).toHaveLength(25);
    });

    it('memory stays bounded: buckets that refilled are forgotten once a sweep period passed', async () => {
      for (let i = 0; i < 2000; i++) await store.take(`ip:10.0.${i >> 8}.${i & 255}:deposit`, rule, clock.now());
      expect(store.localEntries()).toBeLessThanOrEqual(2000);
      clock.advance(SWEEP_WINDOW_MS);
      await store.take('ip:late:deposit', rule, clock.now());
      expect(store.localEntries()).toBeLessThanOrEqual(1);
      // A forgotten bucket behaves as it did before: full.
      expect(await takeN('ip:10.0.0.0:deposit', 4)).toEqual([true, true, true, false]);
    });

    it('close is idempotent', async () => {
      await store.close();
      await expect(store.close()).resolves.toBeUndefined();
    });
  });
}
