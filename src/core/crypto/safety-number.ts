/**
 * Safety numbers, modelled on Signal's NumericFingerprintGenerator (version 0 format):
 *
 *   hash_0 = SHA-512(uint16be(0) ‖ IK_pub ‖ stableId ‖ IK_pub)
 *   hash_i = SHA-512(hash_{i-1} ‖ IK_pub)            for i = 1 … 5199 (5200 hashes)
 *   digits = for each of the first six 5-byte chunks c of hash: uint40be(c) mod 100000, 5 digits
 *
 * Each party gives 30 digits; the safety number is both, the numerically smaller first,
 * so it reads the same on both sides (60 digits). The QR payload carries the first 32
 * bytes of each party's hash: version (1) ‖ ours (32) ‖ theirs (32); scanning the other
 * side's payload must show their "ours" equal to our "theirs" and vice versa.
 *
 * `stableId` is an application identifier bound with the key (Signal uses the account
 * id); Petrel's default is empty, so the number depends on the two identity keys alone.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesEqual } from '../bytes.ts';
import { MalformedSafetyNumberError } from './errors.ts';
import { KEY_BYTES, SAFETY_NUMBER_FORMAT_VERSION, SAFETY_NUMBER_ITERATIONS, SAFETY_NUMBER_QR_VERSION } from './limits.ts';

export interface SafetyNumberOptions {
  readonly ourStableId?: Uint8Array;
  readonly theirStableId?: Uint8Array;
}

const QR_FINGERPRINT_BYTES = 32;
export const SAFETY_NUMBER_QR_BYTES = 1 + 2 * QR_FINGERPRINT_BYTES;

/** The iterated SHA-512 fingerprint of one party (64 bytes). */
export function identityFingerprint(identityPublic: Uint8Array, stableId: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (identityPublic.length !== KEY_BYTES) throw new MalformedSafetyNumberError('identity key must be 32 bytes');
  const start = new Uint8Array(2 + KEY_BYTES + stableId.length);
  start[0] = SAFETY_NUMBER_FORMAT_VERSION >> 8;
  start[1] = SAFETY_NUMBER_FORMAT_VERSION & 0xff;
  start.set(identityPublic, 2);
  start.set(stableId, 2 + KEY_BYTES);
  let hash = sha512.create().update(start).update(identityPublic).digest();
  for (let i = 1; i < SAFETY_NUMBER_ITERATIONS; i++) hash = sha512.create().update(hash).update(identityPublic).digest();
  return hash;
}

/** 30 digits from the first 30 bytes of a fingerprint. */
export function fingerprintDigits(fingerprint: Uint8Array): string {
  let out = '';
  for (let i = 0; i < 30; i += 5) {
    let v = 0;
    for (let j = 0; j < 5; j++) v = v * 256 + fingerprint[i + j]!;
    out += (v % 100000).toString().padStart(5, '0');
  }
  return out;
}

/** The 60-digit safety number, identical on both sides. */
export function safetyNumber(ourIdentity: Uint8Array, theirIdentity: Uint8Array, opts: SafetyNumberOptions = {}): string {
  const ours = fingerprintDigits(identityFingerprint(ourIdentity, opts.ourStableId));
  const theirs = fingerprintDigits(identityFingerprint(theirIdentity, opts.theirStableId));
  return ours <= theirs ? ours + theirs : theirs + ours;
}

/** Bytes for a QR code: version ‖ our fingerprint (32) ‖ their fingerprint (32). */
export function safetyNumberQrPayload(ourIdentity: Uint8Array, theirIdentity: Uint8Array, opts: SafetyNumberOptions = {}): Uint8Array {
  const out = new Uint8Array(SAFETY_NUMBER_QR_BYTES);
  out[0] = SAFETY_NUMBER_QR_VERSION;
  out.set(identityFingerprint(ourIdentity, opts.ourStableId).subarray(0, QR_FINGERPRINT_BYTES), 1);
  out.set(identityFingerprint(theirIdentity, opts.theirStableId).subarray(0, QR_FINGERPRINT_BYTES), 1 + QR_FINGERPRINT_BYTES);
  return out;
}

/**
 * Compares the payload scanned from the contact's screen with what we expect: 'match'
 * only if it names exactly the two identities we hold. MalformedSafetyNumberError for
 * bytes that are not a payload.
 */
export function compareScannedSafetyNumber(
  ourIdentity: Uint8Array,
  theirIdentity: Uint8Array,
  scanned: Uint8Array,
  opts: SafetyNumberOptions = {},
): 'match' | 'mismatch' {
  if (!(scanned instanceof Uint8Array) || scanned.length !== SAFETY_NUMBER_QR_BYTES || scanned[0] !== SAFETY_NUMBER_QR_VERSION) {
    throw new MalformedSafetyNumberError('not a Petrel safety-number payload');
  }
  // The scanned payload is from their side: its "ours" is them, its "theirs" is us.
  const expected = safetyNumberQrPayload(theirIdentity, ourIdentity, { ourStableId: opts.theirStableId, theirStableId: opts.ourStableId });
  return bytesEqual(expected, scanned) ? 'match' : 'mismatch';
}
