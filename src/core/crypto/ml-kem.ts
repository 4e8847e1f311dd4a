/**
 * ML-KEM-768 (FIPS 203) as Petrel uses it: the single seam between the core and the ML-KEM
 * implementations. This file does the input checks FIPS 203 §7.2 and §7.3 ask of the
 * caller, so that no untyped library error reaches the core's callers:
 *   - an encapsulation key must be 1,184 bytes and pass the modulus check (every 12-bit
 *     coefficient of its three polynomials below q = 3329): InvalidKeyError otherwise;
 *   - a ciphertext must be 1,088 bytes: MalformedMessageError otherwise;
 *   - a decapsulation key must be 2,400 bytes and carry H(ek) of its own ek (the hash
 *     check): InvalidKeyError otherwise.
 *
 * Two implementations, one answer (both pass the same published vectors,
 * tests/crypto/wycheproof.test.ts):
 *   - liboqs in WebAssembly (ml-kem-wasm.ts), about five times faster, for Decaps and for
 *     Encaps with randomness the platform draws (`mlKemEncapsulateRandom`): what a running
 *     device does on every session setup;
 *   - @noble/post-quantum (JavaScript) for what liboqs does not export: KeyGen from the
 *     64-byte seed d ‖ z (ML-KEM.KeyGen_internal, which prekey pools store) and Encaps with a
 *     given m (ML-KEM.Encaps_internal: a seeded runtime, reproducible vectors); and for
 *     everything where WebAssembly cannot be compiled.
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { InvalidKeyError, MalformedMessageError } from './errors.ts';
import { loadMlKemWasm } from './ml-kem-wasm.ts';
import type { Random } from '../random.ts';
import { ML_KEM_768_CIPHERTEXT_BYTES, ML_KEM_768_PUBLIC_KEY_BYTES, ML_KEM_768_SEED_BYTES } from './limits.ts';

/** The ML-KEM modulus q. */
const Q = 3329;
/** ByteEncode12 of k = 3 polynomials of 256 coefficients (the rest of ek is the 32-byte seed ρ). */
const ENCODED_POLYNOMIALS_BYTES = 384 * 3;
/** dk = dk_PKE (1152) ‖ ek (1184) ‖ H(ek) (32) ‖ z (32). */
export const ML_KEM_768_SECRET_KEY_BYTES = 2400;
/** Encapsulation randomness m (FIPS 203 §7.2). */
export const ML_KEM_768_MESSAGE_BYTES = 32;

/** FIPS 203 §7.2 "modulus check": ByteEncode12(ByteDecode12(ek)) = ek, i.e. every coefficient < q. */
export function isValidMlKemPublicKey(ek: Uint8Array): boolean {
  if (!(ek instanceof Uint8Array) || ek.length !== ML_KEM_768_PUBLIC_KEY_BYTES) return false;
  for (let i = 0; i < ENCODED_POLYNOMIALS_BYTES; i += 3) {
    const b0 = ek[i]!;
    const b1 = ek[i + 1]!;
    const b2 = ek[i + 2]!;
    if ((b0 | ((b1 & 0x0f) << 8)) >= Q || ((b1 >> 4) | (b2 << 4)) >= Q) return false;
  }
  return true;
}

export interface MlKemKeys {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** ML-KEM.KeyGen_internal(d, z) from the 64-byte seed d ‖ z. InvalidKeyError for another length. */
export function mlKemKeyGen(seed: Uint8Array): MlKemKeys {
  if (!(seed instanceof Uint8Array) || seed.length !== ML_KEM_768_SEED_BYTES) throw new InvalidKeyError('ML-KEM seed must be 64 bytes');
  return ml_kem768.keygen(seed.slice());
}

function checkEncapsulationKey(ek: Uint8Array): void {
  if (!isValidMlKemPublicKey(ek)) throw new InvalidKeyError('ML-KEM encapsulation key fails the FIPS 203 length or modulus check');
}

/** ML-KEM.Encaps_internal(ek, m) (noble): InvalidKeyError for an ek that fails the length or modulus check. */
export function mlKemEncapsulate(ek: Uint8Array, m: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  checkEncapsulationKey(ek);
  if (!(m instanceof Uint8Array) || m.length !== ML_KEM_768_MESSAGE_BYTES) throw new RangeError('ML-KEM encapsulation randomness must be 32 bytes');
  return ml_kem768.encapsulate(ek, m);
}

/**
 * ML-KEM.Encaps (FIPS 203 §7.2) with m from the platform's secure randomness: liboqs, which
 * draws m itself, or noble with `random` where WebAssembly is not available. The same checks
 * as `mlKemEncapsulate`, before anything is loaded or drawn.
 */
export async function mlKemEncapsulateRandom(ek: Uint8Array, random: Random): Promise<{ cipherText: Uint8Array; sharedSecret: Uint8Array }> {
  checkEncapsulationKey(ek);
  const wasm = await loadMlKemWasm();
  const out = wasm?.encapsulate(ek);
  if (out) return out;
  // liboqs makes the same modulus check, so it refuses nothing the check above passed.
  return ml_kem768.encapsulate(ek, random.bytes(ML_KEM_768_MESSAGE_BYTES));
}

function checkDecapsulationInputs(secretKey: Uint8Array, cipherText: Uint8Array): void {
  if (!(cipherText instanceof Uint8Array) || cipherText.length !== ML_KEM_768_CIPHERTEXT_BYTES) throw new MalformedMessageError('ML-KEM ciphertext must be 1088 bytes');
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== ML_KEM_768_SECRET_KEY_BYTES) throw new InvalidKeyError('ML-KEM decapsulation key must be 2400 bytes');
}

/**
 * ML-KEM.Decaps (FIPS 203 §7.3) with its input checks, in liboqs (noble where WebAssembly is
 * not available). Implicit rejection: a well-formed ciphertext that was altered yields an
 * unrelated secret, not an error. The §7.3 hash check (H(ek) inside dk must be the hash of
 * the ek inside dk) is made by both libraries before anything else; their refusal becomes
 * InvalidKeyError here.
 */
export async function mlKemDecapsulate(secretKey: Uint8Array, cipherText: Uint8Array): Promise<Uint8Array> {
  checkDecapsulationInputs(secretKey, cipherText);
  const wasm = await loadMlKemWasm();
  if (!wasm) return mlKemDecapsulateNoble(secretKey, cipherText);
  const out = wasm.decapsulate(secretKey, cipherText);
  if (!out) throw new InvalidKeyError('ML-KEM decapsulation key fails the hash check');
  return out;
}

/** `mlKemDecapsulate` in noble, synchronously: the fallback, and the second opinion the tests compare liboqs with. */
export function mlKemDecapsulateNoble(secretKey: Uint8Array, cipherText: Uint8Array): Uint8Array {
  checkDecapsulationInputs(secretKey, cipherText);
  try {
    return ml_kem768.decapsulate(cipherText, secretKey.slice());
  } catch {
    throw new InvalidKeyError('ML-KEM decapsulation key fails the hash check');
  }
}
