/**
 * The group seal (docs/PROTOCOL.md §17.5): what hides a group message's sender, its device
 * and its group from the relay while the body stays ONE upload for every member device.
 *
 *   key ‖ tag = HKDF-SHA-256(ikm = group id, salt = 32 zero bytes, info = "Petrel_GroupSeal", 48)
 *   body      = group.sealed{tag (16), box}
 *   box       = nonce (12, random) ‖ AES-256-GCM(key, nonce, group.env, aad = "Petrel_GroupSeal" ‖ tag)
 *
 * The group id is known only to members (it travels only inside pairwise sessions), so only
 * they can open the box; the tag lets a member find the group without trying each one. Like
 * the 1:1 sealed sender (§6) the box only hides: the sender is authenticated by the
 * sender-key signature inside, checked against the chain of the device the box names.
 */
import { concatBytes, utf8 } from '../bytes.ts';
import type { CryptoRuntime } from '../crypto/index.ts';
import { hkdfSha256 } from '../crypto/kdf.ts';
import type { Random } from '../random.ts';

export const GROUP_SEAL_TAG_BYTES = 16;
const NONCE_BYTES = 12;
const INFO = utf8('Petrel_GroupSeal');
const ZERO_SALT = new Uint8Array(32);

export interface GroupSealKeys {
  readonly key: Uint8Array;
  readonly tag: Uint8Array;
}

export function groupSealKeys(groupId: Uint8Array): GroupSealKeys {
  const okm = hkdfSha256(groupId, ZERO_SALT, INFO, 32 + GROUP_SEAL_TAG_BYTES);
  return { key: okm.slice(0, 32), tag: okm.slice(32) };
}

/** Seals an encoded group.env: the box (nonce ‖ ciphertext) for `group.sealed`. */
export async function sealGroupBox(keys: GroupSealKeys, inner: Uint8Array, crypto: CryptoRuntime, random: Random): Promise<Uint8Array> {
  const nonce = random.bytes(NONCE_BYTES);
  const ct = await crypto.aesGcmEncrypt(keys.key, nonce, inner, concatBytes(INFO, keys.tag));
  return concatBytes(nonce, ct);
}

/** Opens a box sealed by `sealGroupBox`; throws (the caller drops it) when it does not open. */
export async function openGroupBox(keys: GroupSealKeys, box: Uint8Array, crypto: CryptoRuntime): Promise<Uint8Array> {
  if (box.length < NONCE_BYTES + 16) throw new Error('group box too short');
  return crypto.aesGcmDecrypt(keys.key, box.subarray(0, NONCE_BYTES), box.subarray(NONCE_BYTES), concatBytes(INFO, keys.tag));
}
