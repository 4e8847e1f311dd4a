/**
 * The UI thread's identity-key check (src/core/crypto/ed25519-key-check.ts, BigInt only)
 * gives the same verdict as the core's noble-based `isStrictEd25519PublicKey` on every
 * input: real keys, the small-order and non-canonical encodings, every y ≥ p, and random
 * bytes (about half of which decode to a point).
 */
import fc from 'fast-check';
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../src/core/bytes.ts';
import { isUsableEd25519Key } from '../../src/core/crypto/ed25519-key-check.ts';
import { isStrictEd25519PublicKey } from '../../src/core/crypto/ed25519-verify.ts';

const withSign = (key: Uint8Array, bit: boolean) => {
  const out = key.slice();
  out[31] = bit ? out[31]! | 0x80 : out[31]! & 0x7f;
  return out;
};

describe('isUsableEd25519Key', () => {
  it('accepts real public keys', () => {
    for (let i = 0; i < 20; i++) expect(isUsableEd25519Key(ed25519.getPublicKey(ed25519.utils.randomSecretKey()))).toBe(true);
  });

  it('refuses the 8 small-order points, with either sign bit', () => {
    for (const hex of ED25519_TORSION_SUBGROUP) {
      for (const bit of [false, true]) {
        const key = withSign(fromHex(hex), bit);
        expect(isUsableEd25519Key(key)).toBe(false);
        expect(isStrictEd25519PublicKey(key)).toBe(false);
      }
    }
  });

  it('refuses every non-canonical y (p ≤ y < 2^255), with either sign bit', () => {
    for (let k = 0; k < 19; k++) {
      const key = fromHex('ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
      key[0] = 0xed + k;
      for (const bit of [false, true]) {
        expect(isUsableEd25519Key(withSign(key, bit))).toBe(false);
        expect(isStrictEd25519PublicKey(withSign(key, bit))).toBe(false);
      }
    }
  });

  it('refuses wrong lengths and non-bytes without throwing', () => {
    expect(isUsableEd25519Key(new Uint8Array(31))).toBe(false);
    expect(isUsableEd25519Key(new Uint8Array(33))).toBe(false);
    expect(isUsableEd25519Key('ab' as unknown as Uint8Array)).toBe(false);
  });

  it('agrees with the noble-based check on random bytes (property)', () => {
    let points = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
        const strict = isStrictEd25519PublicKey(key);
        if (strict) points++;
        expect(isUsableEd25519Key(key)).toBe(strict);
      }),
      { numRuns: 1000 },
    );
    expect(points).toBeGreaterThan(250); // both branches were exercised
  });
});
