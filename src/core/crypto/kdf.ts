/**
 * HKDF-SHA-256 (RFC 5869) and HMAC-SHA-256 (RFC 2104) as Petrel uses them.
 *
 * Implementation choice: for the 1–64-byte inputs of the ratchet, @noble/hashes' synchronous
 * code is several times faster than WebCrypto, whose per-call cost includes a key import
 * (every chain key is a new key, so the import is always paid). Measured by
 * bench/crypto/primitives.ts: the HMAC and HKDF rows of docs/BENCHMARKS.md.
 */
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

/** RFC 5869 §2.3: L ≤ 255 · HashLen. */
export const HKDF_SHA256_MAX_OUTPUT_BYTES = 255 * 32;

/** HKDF-SHA-256(salt, IKM, info) → `length` bytes (RFC 5869 §2.2 extract, §2.3 expand). RangeError for a length RFC 5869 does not allow. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > HKDF_SHA256_MAX_OUTPUT_BYTES) throw new RangeError(`HKDF-SHA-256 output must be 0..${HKDF_SHA256_MAX_OUTPUT_BYTES} bytes`);
  return nobleHkdf(sha256, ikm, salt, info, length);
}

export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmac(sha256, key, data);
}

/**
 * HMAC-SHA-256 of two one-byte messages under the same key, sharing the keyed inner/outer
 * pad state (one key schedule instead of two; same output as two `hmacSha256` calls).
 */
export function hmacSha256Pair(key: Uint8Array, first: number, second: number): [Uint8Array, Uint8Array] {
  const a = hmac.create(sha256, key);
  const out1 = new Uint8Array(32);
  const out2 = new Uint8Array(32);
  // A copy of the keyed state for the first message; the original takes the second.
  const copy = a.clone();
  copy.update(ONE_BYTE[first]!).digestInto(out1);
  a.update(ONE_BYTE[second]!).digestInto(out2);
  copy.destroy();
  a.destroy();
  return [out1, out2];
}

const ONE_BYTE = Array.from({ length: 256 }, (_, i) => Uint8Array.of(i));

/**
 * HKDF-SHA-256 with a salt and info fixed in advance (the per-message key expansion):
 * the salt's keyed HMAC state is computed once and cloned per call, saving one HMAC key
 * schedule per message. Output is identical to `hkdfSha256(ikm, salt, info, length)`.
 */
export function hkdfSha256WithFixedSalt(salt: Uint8Array, info: Uint8Array, length: number): (ikm: Uint8Array) => Uint8Array {
  const extractState = hmac.create(sha256, salt);
  const blocks = Math.ceil(length / 32);
  if (blocks > 255) throw new RangeError('HKDF output too long');
  // Only the salt's keyed state (public: the salt is fixed) outlives a call; each call
  // clones what it needs and wipes it, so no secret-dependent HMAC state stays behind.
  return (ikm) => {
    // RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM)
    const prk = new Uint8Array(32);
    const extract = extractState.clone();
    extract.update(ikm).digestInto(prk);
    extract.destroy();
    // §2.3: T(i) = HMAC-Hash(PRK, T(i-1) ‖ info ‖ i)
    const prkState = hmac.create(sha256, prk);
    const out = new Uint8Array(blocks * 32);
    for (let i = 1; i <= blocks; i++) {
      const t = prkState.clone();
      if (i > 1) t.update(out.subarray((i - 2) * 32, (i - 1) * 32));
      t.update(info).update(ONE_BYTE[i]!).digestInto(out.subarray((i - 1) * 32, i * 32));
      t.destroy();
    }
    prkState.destroy();
    prk.fill(0);
    return out.subarray(0, length);
  };
}
