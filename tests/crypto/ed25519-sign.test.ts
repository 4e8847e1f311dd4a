/**
 * The native Ed25519 signer (ed25519-sign.ts) gives the bytes noble gives (RFC 8032
 * signatures are deterministic), verifies under the strict rule, and never answers from a
 * cached key imported from another seed.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { Ed25519Signer, SIGNING_KEY_CACHE_SIZE } from '../../src/core/crypto/ed25519-sign.ts';
import { verifyEd25519Strict } from '../../src/core/crypto/ed25519-verify.ts';

describe('Ed25519 signer', () => {
  it('signs exactly as noble does, natively and in the fallback', async () => {
    const native = new Ed25519Signer();
    const portable = new Ed25519Signer('noble');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), async (seed, message) => {
        const pub = ed25519.getPublicKey(seed);
        const expected = ed25519.sign(message, seed);
        expect(await native.sign(seed, pub, message)).toEqual(expected);
        expect(await portable.sign(seed, pub, message)).toEqual(expected);
        expect(verifyEd25519Strict(pub, message, expected)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('a cached key is used only for the seed it was imported from', async () => {
    const signer = new Ed25519Signer();
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    const pubA = ed25519.getPublicKey(a);
    const m = new Uint8Array([1, 2, 3]);
    expect(await signer.sign(a, pubA, m)).toEqual(ed25519.sign(m, a));
    // Another seed under the same public-key name: signed with the seed given, not the cache.
    expect(await signer.sign(b, pubA, m)).toEqual(ed25519.sign(m, b));
    for (let i = 0; i <= SIGNING_KEY_CACHE_SIZE; i++) {
      const s = new Uint8Array(32).fill(10 + i);
      expect(await signer.sign(s, ed25519.getPublicKey(s), m)).toEqual(ed25519.sign(m, s));
    }
    await expect(signer.sign(new Uint8Array(31), pubA, m)).rejects.toThrow(RangeError);
  });
});
