/**
 * One strict Ed25519 rule in the core (noble points, src/core/crypto/ed25519-verify.ts) and
 * the relay (OpenSSL behind byte checks, src/relay/crypto/ed25519-verify.ts): RFC 8032 with
 * canonical A and R, S < L, the cofactorless equation, small-order public keys refused.
 * Both must give the same verdict on every input: the named attacks below, and random
 * mutations of genuine signatures (property). The Wycheproof file runs through both in
 * tests/crypto/wycheproof.test.ts.
 */
import fc from 'fast-check';
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, utf8 } from '../../src/core/bytes.ts';
import { verifyEd25519StrictAsync, verifyEd25519StrictAsyncAll } from '../../src/core/crypto/ed25519-verify.ts';
import { identityX25519Public, isValidIdentityKey, verifySignature } from '../../src/core/crypto/identity.ts';
import { InvalidKeyError } from '../../src/core/crypto/errors.ts';
import { isStrictEd25519PublicKey as relayStrictKey, verifyEd25519 as relayVerify } from '../../src/relay/crypto/ed25519-verify.ts';

const both = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): [boolean, boolean] => [verifySignature(pk, msg, sig), relayVerify(pk, msg, sig)];

/** The 8 canonical encodings of the torsion points, and the 4 non-canonical ones (y ≥ p, or x = 0 with the sign bit). */
const SMALL_ORDER_KEYS = [
  ...ED25519_TORSION_SUBGROUP.map(fromHex),
  fromHex('0100000000000000000000000000000000000000000000000000000000000080'), // y = 1, "negative" x = 0
  fromHex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'), // y = −1, "negative" x = 0
  fromHex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'), // y = p + 1 ≡ 1
  fromHex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'), // y = p ≡ 0
];
/** R = identity, S = 0: a "signature" of every message under a key whose order divides k. */
const UNIVERSAL_SIGNATURE = concatBytes(fromHex(ED25519_TORSION_SUBGROUP[0]!), new Uint8Array(32));

describe('strict Ed25519: core and relay agree', () => {
  it('refuses all 12 small-order public keys, with the universal signature and with any other', () => {
    expect(SMALL_ORDER_KEYS).toHaveLength(12);
    for (const pk of SMALL_ORDER_KEYS) {
      for (let i = 0; i < 8; i++) {
        const msg = utf8(`message ${i}`);
        expect(both(pk, msg, UNIVERSAL_SIGNATURE)).toEqual([false, false]);
      }
      expect(isValidIdentityKey(pk)).toBe(false);
      expect(relayStrictKey(pk)).toBe(false);
      expect(() => identityX25519Public(pk)).toThrow(InvalidKeyError);
    }
  });

  it('refuses a non-canonical R (Wycheproof ed25519 tcId 151: y = 1 with the sign bit of x set)', () => {
    const pk = fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const sig = fromHex('0100000000000000000000000000000000000000000000000000000000000080c803ee1f2342aa96ff698a393d1ab5e66f3eda101d6d120b394c3fd32c117d0a');
    expect(both(pk, fromHex('313233343030'), sig)).toEqual([false, false]);
  });

  it('refuses S + L (malleated), accepts the genuine signature', () => {
    const seed = new Uint8Array(32).fill(7);
    const pk = ed25519.getPublicKey(seed);
    const msg = utf8('hello');
    const sig = ed25519.sign(msg, seed);
    expect(both(pk, msg, sig)).toEqual([true, true]);
    const L = ed25519.Point.Fn.ORDER;
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
    s += L;
    const malleated = sig.slice();
    for (let i = 32; i < 64; i++, s >>= 8n) malleated[i] = Number(s & 0xffn);
    expect(both(pk, msg, malleated)).toEqual([false, false]);
  });

  it('refuses a key with a torsion component only if the cofactorless equation fails (same verdict in both)', () => {
    const seed = new Uint8Array(32).fill(9);
    const pk = ed25519.getPublicKey(seed);
    const mixed = ed25519.Point.fromBytes(pk).add(ed25519.Point.fromBytes(fromHex(ED25519_TORSION_SUBGROUP[1]!))).toBytes();
    const msg = utf8('mixed order');
    const sig = ed25519.sign(msg, seed);
    const verdict = both(mixed, msg, sig);
    expect(verdict[0]).toBe(verdict[1]);
    expect(verdict[0]).toBe(false);
  });

  it('the native path (WebCrypto after the byte checks) agrees: named attacks and random mutations', async () => {
    for (const pk of SMALL_ORDER_KEYS) expect(await verifyEd25519StrictAsync(pk, utf8('m'), UNIVERSAL_SIGNATURE)).toBe(false);
    const tc151pk = fromHex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    const tc151 = fromHex('0100000000000000000000000000000000000000000000000000000000000080c803ee1f2342aa96ff698a393d1ab5e66f3eda101d6d120b394c3fd32c117d0a');
    expect(await verifyEd25519StrictAsync(tc151pk, fromHex('313233343030'), tc151)).toBe(false);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 64 }), fc.nat(127), fc.integer({ min: 0, max: 255 }), async (seed, msg, at, xor) => {
        const pk = ed25519.getPublicKey(seed);
        const mutated = concatBytes(pk, ed25519.sign(msg, seed));
        mutated[at % 96]! ^= xor;
        const [k, sig] = [mutated.subarray(0, 32), mutated.subarray(32)];
        expect(await verifyEd25519StrictAsync(k, msg, sig)).toBe(verifySignature(k, msg, sig));
      }),
      { numRuns: 200 },
    );
  });

  it('several signatures by one key (one import): each verdict is the single-signature verdict, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(fc.tuple(fc.uint8Array({ maxLength: 48 }), fc.nat(63), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), async (seed, specs) => {
        const pk = ed25519.getPublicKey(seed);
        const items = specs.map(([message, at, xor]) => {
          const signature = ed25519.sign(message, seed);
          signature[at]! ^= xor; // xor 0 leaves it genuine
          return { message, signature };
        });
        const verdicts = await verifyEd25519StrictAsyncAll(pk, items);
        expect(verdicts).toEqual(items.map(({ message, signature }) => verifySignature(pk, message, signature)));
      }),
      { numRuns: 100 },
    );
    // A malformed signature (wrong length) among good ones is false on its own; a refused key makes every verdict false.
    const seed = new Uint8Array(32).fill(9);
    const pk = ed25519.getPublicKey(seed);
    const good = { message: utf8('a'), signature: ed25519.sign(utf8('a'), seed) };
    expect(await verifyEd25519StrictAsyncAll(pk, [good, { message: utf8('b'), signature: new Uint8Array(63) }, good])).toEqual([true, false, true]);
    expect(await verifyEd25519StrictAsyncAll(SMALL_ORDER_KEYS[0]!, [{ message: utf8('m'), signature: UNIVERSAL_SIGNATURE }, good])).toEqual([false, false]);
  });

  it('property: on random mutations of genuine signatures, keys and messages, both give the same verdict', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 64 }), fc.nat(127), fc.integer({ min: 0, max: 255 }), fc.boolean(), (seed, msg, at, xor, onKey) => {
        const pk = ed25519.getPublicKey(seed);
        const sig = ed25519.sign(msg, seed);
        expect(both(pk, msg, sig)).toEqual([true, true]);
        const mutated = concatBytes(pk, sig);
        mutated[onKey ? at % 32 : 32 + (at % 64)]! ^= xor;
        const v = both(mutated.subarray(0, 32), msg, mutated.subarray(32));
        expect(v[0]).toBe(v[1]);
      }),
      { numRuns: 300 },
    );
  });
});
