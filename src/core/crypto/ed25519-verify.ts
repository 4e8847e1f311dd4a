/**
 * Strict Ed25519 verification: Petrel's one rule, the same in the core and the relay
 * (src/relay/crypto/ed25519-verify.ts gives the same verdict through OpenSSL; the
 * Wycheproof suite and tests/crypto/ed25519-strict.test.ts hold both to it).
 *
 * RFC 8032 §5.1.7 with every choice made the strict way:
 *   - the public key A and the signature's R must be canonical encodings (y < p, and no
 *     "negative zero" x: RFC 8032 §5.1.3 step 4), S must be below the group order L;
 *   - A must not be one of the 8 small-order points: such a key "verifies" signatures it
 *     never made (R = identity, S = 0 passes for every message under some of them), so it
 *     is refused as an identity and prekey-signing key;
 *   - the equation is the cofactorless [S]B = R + [k]A (what OpenSSL and libsodium check),
 *     not the cofactored one of ZIP-215 and noble's default.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../bytes.ts';
import { KEY_BYTES, SIGNATURE_BYTES } from './limits.ts';

const Point = ed25519.Point;
type EdPoint = InstanceType<typeof Point>;
/** The prime order of the base point's subgroup, L = 2^252 + 27742317777372353535851937790883648493. */
const L = Point.Fn.ORDER;

function numberLE(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/** RFC 8032 §5.1.3 decoding with the canonical checks, or undefined. */
function decodeStrict(encoded: Uint8Array): EdPoint | undefined {
  try {
    return Point.fromBytes(encoded, false);
  } catch {
    return undefined;
  }
}

/** A public key Petrel accepts as an identity (signing) key: a canonical encoding of a point that is not of small order. */
export function isStrictEd25519PublicKey(publicKey: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_BYTES) return false;
  const a = decodeStrict(publicKey);
  return a !== undefined && !a.isSmallOrder();
}

/** Strict RFC 8032 verification (see the file comment). False for anything malformed; never throws. */
export function verifyEd25519Strict(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_BYTES) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return false;
  const rBytes = signature.subarray(0, KEY_BYTES);
  const s = numberLE(signature.subarray(KEY_BYTES));
  if (s >= L) return false;
  const a = decodeStrict(publicKey);
  if (!a || a.isSmallOrder()) return false;
  const r = decodeStrict(rBytes);
  if (!r) return false;
  const k = numberLE(sha512(concatBytes(rBytes, publicKey, message))) % L;
  return Point.BASE.multiplyUnsafe(s).equals(r.add(a.multiplyUnsafe(k)));
}
