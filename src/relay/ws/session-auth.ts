import { randomBytes } from 'node:crypto';
import { NONCE_BYTES, authPayload, deviceAuthPayload, deviceCertificatePayload, mailboxAddress, type AuthFrame, type DeviceAuthFrame } from '../../core/wire/index.ts';
import { isStrictEd25519PublicKey, verifyEd25519 } from '../crypto/ed25519-verify.ts';
import type { Connection } from './connection.ts';

/** Issues the connection's one challenge (a fresh random 32-byte nonce). */
export function issueChallenge(conn: Connection): Uint8Array {
  const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
  conn.nonce = nonce;
  return nonce;
}

export type AuthResult =
  | { readonly ok: true; readonly mailbox: Uint8Array }
  | { readonly ok: false; readonly why: 'already_authenticated' | 'no_challenge' | 'weak_identity_key' | 'bad_signature' };

/**
 * Checks `auth{ik, sig}` against the connection's challenge: sig must be
 * Ed25519(IK, "Petrel_Auth" ‖ nonce). The nonce is consumed by the first attempt, right
 * or wrong, so an answer can be neither replayed on another connection (other nonce)
 * nor retried on this one. The mailbox bound is the one the key hashes to. An identity key
 * that is not a canonical Ed25519 point of large order (a small-order key "verifies"
 * signatures it never made) is refused as `weak_identity_key` before any signature check.
 */
export function verifyAuth(conn: Connection, frame: AuthFrame): AuthResult {
  if (conn.authenticated) return { ok: false, why: 'already_authenticated' };
  const nonce = conn.nonce;
  conn.nonce = undefined;
  if (!nonce) return { ok: false, why: 'no_challenge' };
  if (!isStrictEd25519PublicKey(frame.ik)) return { ok: false, why: 'weak_identity_key' };
  if (!verifyEd25519(frame.ik, authPayload(nonce), frame.sig)) return { ok: false, why: 'bad_signature' };
  return { ok: true, mailbox: mailboxAddress(frame.ik) };
}

export type DeviceAuthResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly why: 'already_authenticated' | 'no_challenge' | 'weak_identity_key' | 'bad_certificate' | 'bad_signature' };

/**
 * Checks `auth.device{cert, sig}` against the connection's challenge (consumed as by
 * verifyAuth): the account key and the device key must be strict Ed25519 keys, the
 * certificate Ed25519(IK, "Petrel_DeviceCert" ‖ IK ‖ id ‖ device key), and sig
 * Ed25519(device key, "Petrel_DeviceAuth" ‖ nonce). Whether the account's device list
 * still names the device is the handler's question (it needs the store).
 */
export function verifyDeviceAuth(conn: Connection, frame: DeviceAuthFrame): DeviceAuthResult {
  if (conn.authenticated) return { ok: false, why: 'already_authenticated' };
  const nonce = conn.nonce;
  conn.nonce = undefined;
  if (!nonce) return { ok: false, why: 'no_challenge' };
  const { account, id, key, sig } = frame.cert;
  if (!isStrictEd25519PublicKey(account) || !isStrictEd25519PublicKey(key)) return { ok: false, why: 'weak_identity_key' };
  if (!verifyEd25519(account, deviceCertificatePayload(account, id, key), sig)) return { ok: false, why: 'bad_certificate' };
  if (!verifyEd25519(key, deviceAuthPayload(nonce), frame.sig)) return { ok: false, why: 'bad_signature' };
  return { ok: true };
}
