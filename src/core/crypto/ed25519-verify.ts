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
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesEqual, concatBytes, fromHex } from '../bytes.ts';
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

/** The point of a key Petrel accepts as an identity (signing) key — a canonical encoding of a point that is not of small order — or undefined. */
export function strictEd25519Point(publicKey: Uint8Array): EdPoint | undefined {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_BYTES) return undefined;
  const a = decodeStrict(publicKey);
  return a !== undefined && !a.isSmallOrder() ? a : undefined;
}

/** A public key Petrel accepts as an identity (signing) key: a canonical encoding of a point that is not of small order. */
export function isStrictEd25519PublicKey(publicKey: Uint8Array): boolean {
  return strictEd25519Point(publicKey) !== undefined;
}

/**
 * The X25519 (Montgomery) u-coordinate of an Edwards point: u = (1 + y) / (1 − y), the
 * birational map RFC 7748 §4.1 gives (what noble's `toMontgomery` computes, without
 * decoding the point a second time). y = 1 (the identity) never reaches here: it is of small order.
 */
export function montgomeryU(point: EdPoint): Uint8Array {
  const Fp = Point.Fp;
  const { y } = point.toAffine();
  return Fp.toBytes(Fp.div(Fp.create(1n + y), Fp.create(1n - y)));
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

/** Canonical encodings of the 8 points of order dividing 8 (noble's ED25519_TORSION_SUBGROUP). */
const SMALL_ORDER_ENCODINGS = ED25519_TORSION_SUBGROUP.map(fromHex);

/** y (the low 255 bits) below p = 2^255 − 19, and no sign bit on x = 0 (y = ±1): RFC 8032 §5.1.3. */
function isCanonicalEncoding(e: Uint8Array): boolean {
  const top = e[31]! & 0x7f;
  let middleAllOnes = true;
  for (let i = 1; i < 31; i++) if (e[i] !== 0xff) middleAllOnes = false;
  if (top === 0x7f && middleAllOnes && e[0]! >= 0xed) return false;
  if (!(e[31]! & 0x80)) return true;
  let yIsOne = e[0] === 1 && top === 0;
  for (let i = 1; i < 31 && yIsOne; i++) if (e[i] !== 0) yIsOne = false;
  return !(yIsOne || (e[0] === 0xec && middleAllOnes && top === 0x7f));
}

/** WebCrypto's SubtleCrypto (the core is type-checked without the DOM library): a capability of the platform, not state. */
const subtle: typeof globalThis.crypto.subtle | undefined = globalThis.crypto?.subtle;

function webCryptoBytes(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b as Uint8Array<ArrayBuffer>;
}

/**
 * The same strict rule, with the equation checked by the platform's native Ed25519
 * (WebCrypto: OpenSSL in Node, BoringSSL in Chromium — cofactorless, S < L, like the
 * relay's) after the same canonical-encoding and small-order checks: several times faster
 * than the JavaScript equation. Where WebCrypto has no Ed25519 (older browsers), the
 * JavaScript one decides. Same verdict either way (tests/crypto/ed25519-strict.test.ts,
 * tests/crypto/wycheproof.test.ts).
 */
export async function verifyEd25519StrictAsync(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const [ok] = await verifyEd25519StrictAsyncAll(publicKey, [{ message, signature }]);
  return ok!;
}

/**
 * `verifyEd25519StrictAsync` for several signatures by one key (a bundle's SPK and PQ
 * prekey signatures): the key is imported into WebCrypto once and the verifications run
 * together. One verdict per item, in order, each the same as `verifyEd25519StrictAsync`'s.
 */
export async function verifyEd25519StrictAsyncAll(publicKey: Uint8Array, items: readonly { readonly message: Uint8Array; readonly signature: Uint8Array }[]): Promise<boolean[]> {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_BYTES) return items.map(() => false);
  // Byte checks only (no field arithmetic): a canonical A that is not one of the 8 small-order
  // encodings, a canonical R. Whether they are points at all the native verifier decides.
  if (!isCanonicalEncoding(publicKey) || SMALL_ORDER_ENCODINGS.some((e) => bytesEqual(e, publicKey))) return items.map(() => false);
  const wellFormed = items.map(
    ({ signature }) =>
      signature instanceof Uint8Array && signature.length === SIGNATURE_BYTES && numberLE(signature.subarray(KEY_BYTES)) < L && isCanonicalEncoding(signature.subarray(0, KEY_BYTES)),
  );
  if (!wellFormed.some(Boolean)) return wellFormed;
  if (subtle) {
    let key: Awaited<ReturnType<NonNullable<typeof subtle>['importKey']>> | undefined;
    try {
      key = await subtle.importKey('raw', webCryptoBytes(publicKey), { name: 'Ed25519' }, false, ['verify']);
    } catch {
      key = undefined; // no Ed25519 in this WebCrypto: the JavaScript equation below
    }
    if (key) {
      const native = key;
      return Promise.all(
        items.map(async ({ message, signature }, i) => {
          if (!wellFormed[i]) return false;
          try {
            return await subtle!.verify({ name: 'Ed25519' }, native, webCryptoBytes(signature), webCryptoBytes(message));
          } catch {
            return false;
          }
        }),
      );
    }
  }
  return items.map(({ message, signature }, i) => wellFormed[i]! && verifyEd25519Strict(publicKey, message, signature));
}
