import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/**
 * Strict Ed25519, the relay's half of Petrel's one rule (the client's is
 * src/core/crypto/ed25519-verify.ts; tests/crypto/ed25519-strict.test.ts and the Wycheproof
 * suite hold both to the same verdict on every vector):
 *   - RFC 8032 §5.1.7, cofactorless: OpenSSL checks [S]B = R + [k]A by comparing the
 *     encoding of [S]B − [k]A with R's bytes, and refuses S ≥ L;
 *   - the byte checks below, made before OpenSSL sees the key: A and R must be canonical
 *     encodings (y < p; no x = 0 with the sign bit set, RFC 8032 §5.1.3 step 4), and A must
 *     not be one of the 8 small-order points (such a key "verifies" a signature it never
 *     made: R = identity, S = 0). A key failing these is refused at login and publish.
 */

/** DER SubjectPublicKeyInfo header for a raw 32-byte Ed25519 key (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING }. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;

/** The group order L, little-endian. */
const ORDER_L = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');

/** Canonical encodings of the 8 points of order dividing 8 (the torsion subgroup). */
const SMALL_ORDER_POINTS = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0000000000000000000000000000000000000000000000000000000000000080',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
].map((h) => Buffer.from(h, 'hex'));

/** Little-endian a < b over equal lengths. */
function lessThanLE(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = a.length - 1; i >= 0; i--) {
    if (a[i]! !== b[i]!) return a[i]! < b[i]!;
  }
  return false;
}

/** y (the low 255 bits) is below p = 2^255 − 19, and x = 0 (y = ±1) does not carry the sign bit. */
function isCanonicalPointEncoding(e: Uint8Array): boolean {
  const sign = e[31]! & 0x80;
  const top = e[31]! & 0x7f;
  let middleAllOnes = true;
  for (let i = 1; i < 31; i++) if (e[i] !== 0xff) middleAllOnes = false;
  if (top === 0x7f && middleAllOnes && e[0]! >= 0xed) return false; // y ≥ p
  if (!sign) return true;
  let yIsOne = e[0] === 1 && top === 0;
  for (let i = 1; i < 31 && yIsOne; i++) if (e[i] !== 0) yIsOne = false;
  const yIsMinusOne = e[0] === 0xec && middleAllOnes && top === 0x7f;
  return !(yIsOne || yIsMinusOne);
}

/** Can `raw` be an identity (signing) key: 32 bytes, canonical, not of small order. (Whether it is on the curve OpenSSL decides.) */
export function isStrictEd25519PublicKey(raw: Uint8Array): boolean {
  if (raw.length !== PUBLIC_KEY_BYTES || !isCanonicalPointEncoding(raw)) return false;
  return !SMALL_ORDER_POINTS.some((p) => p.equals(raw));
}

function importPublicKey(raw: Uint8Array): KeyObject | undefined {
  try {
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/**
 * Strict Ed25519 verification (see the file comment) through OpenSSL (node:crypto),
 * several times faster than a JS implementation. False for a malformed or weak key or
 * signature, never throws.
 */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES || !isStrictEd25519PublicKey(publicKey)) return false;
  if (!isCanonicalPointEncoding(signature.subarray(0, 32)) || !lessThanLE(signature.subarray(32), ORDER_L)) return false;
  const key = importPublicKey(publicKey);
  if (!key) return false;
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}
