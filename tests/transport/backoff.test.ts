import { describe, expect, it } from 'vitest';
import { Backoff, backoffWindow, fullJitterDelay } from '../../src/core/transport/backoff.ts';
import { seededRandom, type Random } from '../../src/core/random.ts';

const policy = { baseMs: 100, capMs: 10_000 };
const fixed = (v: number): Random => ({ float: () => v, bytes: (n) => new Uint8Array(n) });

describe('backoff with full jitter', () => {
  it('doubles the window per attempt until the cap', () => {
    expect([0, 1, 2, 3, 6, 7, 8, 100, 5000].map((a) => backoffWindow(a, policy))).toEqual([
      100, 200, 400, 800, 6400, 10_000, 10_000, 10_000, 10_000,
    ]);
    // Nonsense attempts clamp instead of producing NaN or Infinity.
    expect(backoffWindow(-3, policy)).toBe(100);
    expect(backoffWindow(Number.MAX_SAFE_INTEGER, policy)).toBe(10_000);
  });

  it('draws from [0, window): the extremes of the random source map to the bounds', () => {
    expect(fullJitterDelay(3, policy, fixed(0))).toBe(0);
    expect(fullJitterDelay(3, policy, fixed(0.999999))).toBe(799);
    expect(fullJitterDelay(20, policy, fixed(0.5))).toBe(5_000);
  });

  it('spreads delays uniformly over the whole window (statistical bounds, seeded)', () => {
    const random = seededRandom(42);
    const samples = 20_000;
    const window = backoffWindow(4, policy); // 1600 ms
    const buckets = new Array<number>(10).fill(0);
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < samples; i++) {
      const d = fullJitterDelay(4, policy, random);
      sum += d;
      min = Math.min(min, d);
      max = Math.max(max, d);
      buckets[Math.floor((d / window) * 10)]!++;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(window);
    // Uniform on [0, 1600): mean 800, each tenth holds ~2000 samples (sd ~ 42).
    expect(sum / samples).toBeGreaterThan(780);
    expect(sum / samples).toBeLessThan(820);
    for (const b of buckets) {
      expect(b).toBeGreaterThan(1800);
      expect(b).toBeLessThan(2200);
    }
    // Full jitter reaches close to both ends of the window.
    expect(min).toBeLessThan(16);
    expect(max).toBeGreaterThan(window - 16);
  });

  it('the stateful helper widens per failure and resets after a success', () => {
    const b = new Backoff(policy, fixed(0.999999));
    expect([b.next(), b.next(), b.next()]).toEqual([99, 199, 399]);
    expect(b.attempts).toBe(3);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(99);
    for (let i = 0; i < 20; i++) b.next();
    expect(b.next()).toBe(9_999);
  });
});
