/**
 * ML-KEM-768 input checks (FIPS 203 §7.2, §7.3) at Petrel's boundary: a bundle whose PQ
 * key fails the modulus check is a MalformedBundleError when verified (before any session
 * is started with it), and no untyped library error leaves the wrapper.
 */
import { describe, expect, it } from 'vitest';
import { CryptoError, InvalidKeyError, MalformedBundleError, MalformedMessageError, MlKemKeyPair, signPqPreKey, verifyFetchedBundle } from '../../src/core/crypto/index.ts';
import { isValidMlKemPublicKey, mlKemDecapsulate, mlKemEncapsulate, mlKemKeyGen } from '../../src/core/crypto/ml-kem.ts';
import { seededRandom } from '../../src/core/random.ts';
import { fetchedBundle, party } from './helpers.ts';

/** Sets coefficient `index` (12 bits) of the encoded polynomials to `value`. */
function withCoefficient(ek: Uint8Array, index: number, value: number): Uint8Array {
  const out = ek.slice();
  const at = Math.floor(index / 2) * 3;
  if (index % 2 === 0) {
    out[at] = value & 0xff;
    out[at + 1] = (out[at + 1]! & 0xf0) | (value >> 8);
  } else {
    out[at + 1] = (out[at + 1]! & 0x0f) | ((value & 0x0f) << 4);
    out[at + 2] = value >> 4;
  }
  return out;
}

describe('ML-KEM-768 at the boundary', () => {
  it('a bundle whose PQ key has a coefficient ≥ q is MalformedBundleError at verification, even with a valid signature', async () => {
    const bob = party(seededRandom(71));
    const good = fetchedBundle(bob);
    await expect(verifyFetchedBundle(good)).resolves.toBeDefined();
    for (const [index, value] of [
      [0, 3329],
      [1, 4095],
      [767, 3330],
    ] as const) {
      const pub = withCoefficient(good.pq.pub, index, value);
      expect(isValidMlKemPublicKey(pub)).toBe(false);
      const bad = { ...good, pq: { ...good.pq, pub, sig: signPqPreKey(bob.identity, pub) } };
      await expect(verifyFetchedBundle(bad)).rejects.toThrow(MalformedBundleError);
    }
    // The largest coefficient q − 1 is fine.
    expect(isValidMlKemPublicKey(withCoefficient(good.pq.pub, 0, 3328))).toBe(true);
  });

  it('encapsulation to a bad key, decapsulation of a wrong-length ciphertext or with a damaged key: typed errors only', () => {
    const keys = mlKemKeyGen(new Uint8Array(64).fill(3));
    const m = new Uint8Array(32).fill(1);
    expect(() => mlKemEncapsulate(withCoefficient(keys.publicKey, 5, 4000), m)).toThrow(InvalidKeyError);
    expect(() => mlKemEncapsulate(keys.publicKey.subarray(1), m)).toThrow(InvalidKeyError);
    const { cipherText, sharedSecret } = mlKemEncapsulate(keys.publicKey, m);
    expect(mlKemDecapsulate(keys.secretKey, cipherText)).toEqual(sharedSecret);
    for (const ct of [cipherText.subarray(1), new Uint8Array(1089), new Uint8Array(0)]) {
      expect(() => mlKemDecapsulate(keys.secretKey, ct)).toThrow(MalformedMessageError);
    }
    const damaged = keys.secretKey.slice();
    damaged[1152 + 10]! ^= 1; // inside the embedded ek: H(ek) no longer matches
    expect(() => mlKemDecapsulate(damaged, cipherText)).toThrow(InvalidKeyError);
    const damagedHash = keys.secretKey.slice();
    damagedHash[1152 + 1184 + 5]! ^= 1; // the stored H(ek) itself
    expect(() => mlKemDecapsulate(damagedHash, cipherText)).toThrow(InvalidKeyError);
    expect(() => mlKemDecapsulate(keys.secretKey.subarray(1), cipherText)).toThrow(InvalidKeyError);

    const pair = MlKemKeyPair.fromSeed(new Uint8Array(64).fill(3));
    for (const ct of [cipherText.subarray(0, 1087), new Uint8Array(2000)]) {
      const err = (() => {
        try {
          pair.decapsulate(ct);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(CryptoError);
      expect(err).toBeInstanceOf(MalformedMessageError);
    }
  });
});
