/**
 * ML-KEM-768 (FIPS 203) as Petrel uses it: @noble/post-quantum does the arithmetic; this
 * file does the input checks FIPS 203 §7.2 and §7.3 ask of the caller, so that no untyped
 * library error reaches the core's callers:
 *   - an encapsulation key must be 1,184 bytes and pass the modulus check (every 12-bit
 *     coefficient of its three polynomials below q = 3329): InvalidKeyError otherwise;
 *   - a ciphertext must be 1,088 bytes: MalformedMessageError otherwise;
 *   - a decapsulation key must be 2,400 bytes and carry H(ek) of its own ek (the hash
 *     check): InvalidKeyError otherwise.
 * Keys are generated from a 64-byte seed d ‖ z (ML-KEM.KeyGen_internal), which is what
 * prekey pools store.
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { InvalidKeyError, MalformedMessageError } from './errors.ts';
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

/** ML-KEM.Encaps_internal(ek, m): InvalidKeyError for an ek that fails the length or modulus check. */
export function mlKemEncapsulate(ek: Uint8Array, m: Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array } {
  if (!isValidMlKemPublicKey(ek)) throw new InvalidKeyError('ML-KEM encapsulation key fails the FIPS 203 length or modulus check');
  if (!(m instanceof Uint8Array) || m.length !== ML_KEM_768_MESSAGE_BYTES) throw new RangeError('ML-KEM encapsulation randomness must be 32 bytes');
  return ml_kem768.encapsulate(ek, m);
}

/**
 * ML-KEM.Decaps (FIPS 203 §7.3) with its input checks. Implicit rejection: a well-formed
 * ciphertext that was altered yields an unrelated secret, not an error. The §7.3 hash check
 * (H(ek) inside dk must be the hash of the ek inside dk) is @noble/post-quantum's own: its
 * decapsulate computes it before anything else and throws, which becomes InvalidKeyError
 * here. (This file used to compute the same SHA3-256 over the 1,184-byte ek a second time
 * first: one hash per session accepted, for the same verdict.)
 */
export function mlKemDecapsulate(secretKey: Uint8Array, cipherText: Uint8Array): Uint8Array {
  if (!(cipherText instanceof Uint8Array) || cipherText.length !== ML_KEM_768_CIPHERTEXT_BYTES) throw new MalformedMessageError('ML-KEM ciphertext must be 1088 bytes');
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== ML_KEM_768_SECRET_KEY_BYTES) throw new InvalidKeyError('ML-KEM decapsulation key must be 2400 bytes');
  try {
    return ml_kem768.decapsulate(cipherText, secretKey.slice());
  } catch {
    throw new InvalidKeyError('ML-KEM decapsulation key fails the hash check');
  }
}
