/**
 * Integrity check of stored state (serialised sessions, session sets, prekey pools):
 *
 *   stored = body ‖ SHA-256(label ‖ body)[0..16)
 *
 * where `label` names the format ("Petrel_Session_v3", …) so one kind of state cannot pass
 * as another. Any change to the stored bytes — a flipped bit, a truncation, a row of
 * another kind — is a CorruptStateError on load, never a different state. It is a checksum,
 * not a MAC: the database holds no secret this could be keyed with that an attacker able
 * to rewrite it could not also read (STORAGE.md, "Stored state integrity").
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from '../bytes.ts';
import { CorruptStateError } from './errors.ts';

export const STATE_INTEGRITY_BYTES = 16;

function tag(label: Uint8Array, body: Uint8Array): Uint8Array {
  return sha256.create().update(label).update(body).digest().subarray(0, STATE_INTEGRITY_BYTES);
}

/** Appends the integrity tag to `body`. */
export function withIntegrity(label: string, body: Uint8Array): Uint8Array {
  return concatBytes(body, tag(utf8(label), body));
}

/** The body of `stored` after its tag verified; CorruptStateError otherwise. */
export function checkedBody(label: string, stored: Uint8Array): Uint8Array {
  if (stored.length < STATE_INTEGRITY_BYTES) throw new CorruptStateError(`${label}: shorter than its integrity tag`);
  const body = stored.subarray(0, stored.length - STATE_INTEGRITY_BYTES);
  const expected = tag(utf8(label), body);
  const given = stored.subarray(stored.length - STATE_INTEGRITY_BYTES);
  let diff = 0;
  for (let i = 0; i < STATE_INTEGRITY_BYTES; i++) diff |= expected[i]! ^ given[i]!;
  if (diff !== 0) throw new CorruptStateError(`${label}: integrity check failed`);
  return body;
}
