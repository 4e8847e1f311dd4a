/**
 * Stored state is tamper-evident: every single-byte change of a serialised session or
 * prekey pool is refused with a typed error (CorruptStateError, or MalformedStateError where
 * the version byte itself no longer names a format), never loaded as a different state.
 * (Before the integrity tag, about two thirds of such changes loaded silently.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptStateError, deserializePreKeyPool, deserializeSession, MalformedStateError, serializePreKeyPool, serializeSession } from '../../src/core/crypto/index.ts';
import { establish } from './helpers.ts';

function refusedEveryChange(good: Uint8Array, load: (b: Uint8Array) => unknown): void {
  fc.assert(
    fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
      const bad = good.slice();
      bad[at]! ^= xor;
      let error: unknown;
      try {
        load(bad);
      } catch (e) {
        error = e;
      }
      expect(error instanceof CorruptStateError || error instanceof MalformedStateError).toBe(true);
    }),
    { numRuns: 400 },
  );
}

describe('stored state integrity', () => {
  it('a serialised session: every single-byte change is refused', async () => {
    const { a, b } = await establish(91);
    for (const s of [a, b]) refusedEveryChange(serializeSession(s), deserializeSession);
  });

  it('a serialised prekey pool: every single-byte change is refused', async () => {
    const { bob } = await establish(92);
    refusedEveryChange(serializePreKeyPool(bob.pool), deserializePreKeyPool);
  });

  it('one kind of state cannot pass as another (the tag names its format)', async () => {
    const { b, bob } = await establish(93);
    const pool = serializePreKeyPool(bob.pool);
    const session = serializeSession(b);
    expect(() => deserializeSession(Uint8Array.of(3, ...pool.subarray(1)))).toThrow(CorruptStateError);
    expect(() => deserializePreKeyPool(Uint8Array.of(2, ...session.subarray(1)))).toThrow(CorruptStateError);
  });
});
