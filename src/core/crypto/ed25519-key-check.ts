/**
 * Whether 32 bytes can be an identity key, decided with a few BigInt operations and no
 * curve library: the same verdict as `isStrictEd25519PublicKey` (ed25519-verify.ts; a
 * property test holds the two together), for the UI thread, which reads invite links.
 *
 * Why a second copy of one rule: evaluating `@noble/curves/ed25519.js` computes its
 * field and hash-to-curve constants at import time, which made the first screen's main
 * script one long task (issue 22, total blocking time). Reading an invite needs only
 * this check, so the first screen imports this file and the curve loads in the worker.
 *
 * RFC 8032 §5.1.3 decoding, strict: y (the low 255 bits, little-endian) below p; a
 * square root of x² = (y² − 1) / (d·y² + 1) must exist; x = 0 with the sign bit set is
 * refused. Then the point must not be of small order: the 8 small-order points have
 * exactly the 8 canonical encodings listed below (RFC 8032's torsion subgroup).
 */
import { toHex } from '../bytes.ts';
import { KEY_BYTES } from './limits.ts';

/** p = 2^255 − 19. */
const P = 2n ** 255n - 19n;
/** d = −121665 / 121666 mod p (RFC 8032 §5.1). */
const D = 37095705934669439343138083508754565189542113879843219016388785533085940283555n;

/** The canonical encodings of the 8 points of small order (the same list noble exports as ED25519_TORSION_SUBGROUP). */
const SMALL_ORDER = new Set([
  '0100000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  '0000000000000000000000000000000000000000000000000000000000000080',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85',
  '0000000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa',
]);

const mod = (a: bigint) => ((a % P) + P) % P;

function pow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
  }
  return result;
}

/** A canonical encoding of a point of the curve that is not of small order. */
export function isUsableEd25519Key(key: Uint8Array): boolean {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) return false;
  let y = 0n;
  for (let i = KEY_BYTES - 1; i >= 0; i--) y = (y << 8n) | BigInt(key[i]!);
  const sign = y >> 255n;
  y &= (1n << 255n) - 1n;
  if (y >= P) return false;
  const yy = (y * y) % P;
  const u = mod(yy - 1n);
  const v = mod(D * yy + 1n); // never 0: d is not a square
  // x² = u / v has a root iff u·v^(p−2) is 0 or a square (Euler's criterion).
  const x2 = (u * pow(v, P - 2n)) % P;
  if (x2 !== 0n && pow(x2, (P - 1n) / 2n) !== 1n) return false;
  if (x2 === 0n && sign === 1n) return false;
  return !SMALL_ORDER.has(toHex(key));
}
