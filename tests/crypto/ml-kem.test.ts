/**
 * ML-KEM-768 input checks (FIPS 203 §7.2, §7.3) at Petrel's boundary: a bundle whose PQ
 * key fails the modulus check is a MalformedBundleError when verified (before any session
 * is started with it), and no untyped library error leaves the wrapper.
 */
import { describe, expect, it } from 'vitest';
import { CryptoError, InvalidKeyError, MalformedBundleError, MalformedMessageError, MlKemKeyPair, signPqPreKey, verifyFetchedBundle } from '../../src/core/crypto/index.ts';
import { isValidMlKemPublicKey, mlKemDecapsulate, mlKemDecapsulateNoble, mlKemEncapsulate, mlKemEncapsulateRandom, mlKemKeyGen } from '../../src/core/crypto/ml-kem.ts';
import { loadMlKemWasm, mlKemImplementation } from '../../src/core/crypto/ml-kem-wasm.ts';
import { CryptoRuntime } from '../../src/core/crypto/crypto-runtime.ts';
import { secureRandom, seededRandom, type Random } from '../../src/core/random.ts';
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

  it('encapsulation to a bad key, decapsulation of a wrong-length ciphertext or with a damaged key: typed errors only, in liboqs and in noble', async () => {
    const keys = mlKemKeyGen(new Uint8Array(64).fill(3));
    const m = new Uint8Array(32).fill(1);
    expect(() => mlKemEncapsulate(withCoefficient(keys.publicKey, 5, 4000), m)).toThrow(InvalidKeyError);
    expect(() => mlKemEncapsulate(keys.publicKey.subarray(1), m)).toThrow(InvalidKeyError);
    await expect(mlKemEncapsulateRandom(withCoefficient(keys.publicKey, 5, 4000), secureRandom)).rejects.toThrow(InvalidKeyError);
    await expect(mlKemEncapsulateRandom(keys.publicKey.subarray(1), secureRandom)).rejects.toThrow(InvalidKeyError);
    const { cipherText, sharedSecret } = mlKemEncapsulate(keys.publicKey, m);
    expect(await mlKemDecapsulate(keys.secretKey, cipherText)).toEqual(sharedSecret);
    expect(mlKemDecapsulateNoble(keys.secretKey, cipherText)).toEqual(sharedSecret);
    for (const ct of [cipherText.subarray(1), new Uint8Array(1089), new Uint8Array(0)]) {
      await expect(mlKemDecapsulate(keys.secretKey, ct)).rejects.toThrow(MalformedMessageError);
      expect(() => mlKemDecapsulateNoble(keys.secretKey, ct)).toThrow(MalformedMessageError);
    }
    const damaged = keys.secretKey.slice();
    damaged[1152 + 10]! ^= 1; // inside the embedded ek: H(ek) no longer matches
    const damagedHash = keys.secretKey.slice();
    damagedHash[1152 + 1184 + 5]! ^= 1; // the stored H(ek) itself
    for (const dk of [damaged, damagedHash, keys.secretKey.subarray(1)]) {
      await expect(mlKemDecapsulate(dk, cipherText)).rejects.toThrow(InvalidKeyError);
      expect(() => mlKemDecapsulateNoble(dk, cipherText)).toThrow(InvalidKeyError);
    }

    const pair = MlKemKeyPair.fromSeed(new Uint8Array(64).fill(3));
    for (const ct of [cipherText.subarray(0, 1087), new Uint8Array(2000)]) {
      const err = await pair.decapsulate(ct).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CryptoError);
      expect(err).toBeInstanceOf(MalformedMessageError);
    }
  });
});

describe('ML-KEM-768 in liboqs (WebAssembly) against noble', () => {
  it('loads in Node, once for the process', async () => {
    const wasm = await loadMlKemWasm();
    expect(wasm).toBeDefined();
    expect(await loadMlKemWasm()).toBe(wasm);
    expect(mlKemImplementation()).toBe('liboqs');
  });

  it('liboqs encapsulation (its own m) decapsulates to the same secret in noble and in liboqs, and never repeats', async () => {
    const random = seededRandom(5);
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const keys = mlKemKeyGen(random.bytes(64));
      const { cipherText, sharedSecret } = await mlKemEncapsulateRandom(keys.publicKey, secureRandom);
      expect(cipherText.length).toBe(1088);
      expect(mlKemDecapsulateNoble(keys.secretKey, cipherText)).toEqual(sharedSecret);
      expect(await mlKemDecapsulate(keys.secretKey, cipherText)).toEqual(sharedSecret);
      seen.add(Buffer.from(sharedSecret).toString('hex'));
      // Implicit rejection: an altered ciphertext gives the same unrelated secret in both.
      const altered = cipherText.slice();
      altered[i * 50]! ^= 0x80;
      const rejected = await mlKemDecapsulate(keys.secretKey, altered);
      expect(rejected).not.toEqual(sharedSecret);
      expect(rejected).toEqual(mlKemDecapsulateNoble(keys.secretKey, altered));
    }
    expect(seen.size).toBe(20);
  });

  it('does not change its inputs', async () => {
    const keys = mlKemKeyGen(new Uint8Array(64).fill(9));
    const ek = keys.publicKey.slice();
    const { cipherText } = await mlKemEncapsulateRandom(ek, secureRandom);
    const dk = keys.secretKey.slice();
    const ct = cipherText.slice();
    await mlKemDecapsulate(dk, ct);
    expect(ek).toEqual(keys.publicKey);
    expect(dk).toEqual(keys.secretKey);
    expect(ct).toEqual(cipherText);
  });

  it('a runtime with native key generation encapsulates in liboqs (m not from its random); a seeded one reproducibly from its random', async () => {
    const keys = mlKemKeyGen(new Uint8Array(64).fill(4));
    const drawn: number[] = [];
    const counting = (seed: number): Random => {
      const r = seededRandom(seed);
      return { bytes: (n) => (drawn.push(n), r.bytes(n)), float: () => r.float() };
    };
    const native = new CryptoRuntime(counting(1), { nativeKeyGeneration: true });
    const out = await native.mlKemEncapsulate(keys.publicKey);
    expect(drawn).toEqual([]);
    expect(await mlKemDecapsulate(keys.secretKey, out.cipherText)).toEqual(out.sharedSecret);

    const a = await new CryptoRuntime(seededRandom(2)).mlKemEncapsulate(keys.publicKey);
    const b = await new CryptoRuntime(seededRandom(2)).mlKemEncapsulate(keys.publicKey);
    expect(a).toEqual(b);
    expect(a).toEqual(mlKemEncapsulate(keys.publicKey, seededRandom(2).bytes(32)));
    await expect(native.mlKemEncapsulate(withCoefficient(keys.publicKey, 0, 3329))).rejects.toThrow(InvalidKeyError);
  });
});
