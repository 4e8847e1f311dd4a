/**
 * Sealed sender: the end-to-end box the relay carries as `envelope.body`. The sender's
 * identity is only inside it.
 *
 *   EK          = fresh X25519 key pair (32 bytes from `random`)
 *   dh          = X25519(EK_priv, X25519 form of IK_B)
 *   key ‖ nonce = HKDF-SHA-256(IKM = dh, salt = EK_pub ‖ IK_B_pub, info = "Petrel_SealedSender") → 32 + 12 bytes
 *   box         = 0x01 ‖ EK_pub (32) ‖ AES-256-GCM(key, nonce, aad = 0x01 ‖ EK_pub ‖ IK_B_pub, IK_A_pub ‖ inner)
 *
 * Version 2 (a device of a multi-device account, docs/PROTOCOL.md §13.5) is the same box
 * with 0x02 and the sending device's 16-byte id after IK_A_pub inside the ciphertext:
 *   box = 0x02 ‖ EK_pub ‖ AES-256-GCM(key, nonce, aad = 0x02 ‖ EK_pub ‖ IK_B_pub, IK_A_pub ‖ device id ‖ inner)
 * so the recipient picks the (sender, device) session; the relay sees one more version byte.
 *
 * The box only hides and carries: anyone can seal a box claiming any IK_A. Sender
 * authenticity comes from `inner` (a Petrel message): a prekey message names IK_A and its
 * key agreement (DH1) needs IK_A's private key, and ratchet messages authenticate
 * AD = IK_A ‖ IK_B. The caller must decrypt `inner` with the session of the unsealed
 * identity (or pass it as `expectedSender` to `acceptSession`).
 */
import { concatBytes } from '../bytes.ts';
import { CryptoRuntime, cryptoRuntime, type CryptoDeps } from './crypto-runtime.ts';
import type { Random } from '../random.ts';
import { SealedSenderError } from './errors.ts';
import { identityX25519Public, type Identity } from './identity.ts';
import { hkdfSha256 } from './kdf.ts';
import { AES_GCM_NONCE_BYTES, AES_GCM_TAG_BYTES, KEY_BYTES, SEALED_SENDER_INFO_BYTES } from './limits.ts';

export const SEALED_SENDER_VERSION = 0x01;
/** The box of a device of a multi-device account: the sender's device id travels inside. */
export const SEALED_SENDER_DEVICE_VERSION = 0x02;
const SENDER_DEVICE_BYTES = 16;

/** Opening a box draws no randomness; a runtime made for one `unseal` gets this. */
const noRandom: Random = {
  bytes() {
    throw new Error('unseal draws no randomness');
  },
  float() {
    throw new Error('unseal draws no randomness');
  },
};
/** Bytes a sealed box adds to `inner`: version, EK_pub, IK_A_pub, GCM tag. */
export const SEALED_SENDER_OVERHEAD_BYTES = 1 + KEY_BYTES + KEY_BYTES + AES_GCM_TAG_BYTES;

function boxKeys(dh: Uint8Array, ephemeralPublic: Uint8Array, recipientIdentity: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const out = hkdfSha256(dh, concatBytes(ephemeralPublic, recipientIdentity), SEALED_SENDER_INFO_BYTES, KEY_BYTES + AES_GCM_NONCE_BYTES);
  return { key: out.subarray(0, KEY_BYTES), nonce: out.subarray(KEY_BYTES) };
}

/** Seals `inner`; with `senderDevice` (16 bytes) a version-2 box naming the sending device. */
export async function seal(senderIdentity: Identity, recipientIdentityPublic: Uint8Array, inner: Uint8Array, deps: CryptoDeps, senderDevice?: Uint8Array): Promise<Uint8Array> {
  if (senderDevice && senderDevice.length !== SENDER_DEVICE_BYTES) throw new SealedSenderError('sender device id must be 16 bytes');
  const rt = cryptoRuntime(deps);
  const ephemeral = await rt.generateDhKeyPair();
  const dh = await rt.dh(ephemeral, identityX25519Public(recipientIdentityPublic));
  const { key, nonce } = boxKeys(dh, ephemeral.publicKey, recipientIdentityPublic);
  const prefix = concatBytes(Uint8Array.of(senderDevice ? SEALED_SENDER_DEVICE_VERSION : SEALED_SENDER_VERSION), ephemeral.publicKey);
  const plain = senderDevice ? concatBytes(senderIdentity.publicKey, senderDevice, inner) : concatBytes(senderIdentity.publicKey, inner);
  const ct = await rt.aesGcmEncrypt(key, nonce, plain, concatBytes(prefix, recipientIdentityPublic));
  return concatBytes(prefix, ct);
}

/** Opens a box addressed to `ourIdentity`; SealedSenderError when it is not one, not ours, or altered. */
export async function unseal(ourIdentity: Identity, box: Uint8Array, rt: CryptoRuntime = new CryptoRuntime(noRandom)): Promise<{ senderIdentityPublic: Uint8Array; senderDevice?: Uint8Array; inner: Uint8Array }> {
  if (!(box instanceof Uint8Array) || box.length < SEALED_SENDER_OVERHEAD_BYTES) throw new SealedSenderError('box too short');
  const version = box[0];
  if (version !== SEALED_SENDER_VERSION && version !== SEALED_SENDER_DEVICE_VERSION) throw new SealedSenderError('unknown sealed-sender version');
  const prefix = box.subarray(0, 1 + KEY_BYTES);
  const ephemeralPublic = box.subarray(1, 1 + KEY_BYTES);
  let dh: Uint8Array;
  try {
    dh = await rt.dh(ourIdentity.dhPrivate(), ephemeralPublic);
  } catch {
    throw new SealedSenderError('bad ephemeral key');
  }
  const { key, nonce } = boxKeys(dh, ephemeralPublic, ourIdentity.publicKey);
  let plain: Uint8Array;
  try {
    plain = await rt.aesGcmDecrypt(key, nonce, box.subarray(1 + KEY_BYTES), concatBytes(prefix, ourIdentity.publicKey));
  } catch {
    throw new SealedSenderError('box does not authenticate');
  }
  if (version === SEALED_SENDER_VERSION) return { senderIdentityPublic: plain.slice(0, KEY_BYTES), inner: plain.slice(KEY_BYTES) };
  if (plain.length < KEY_BYTES + SENDER_DEVICE_BYTES) throw new SealedSenderError('box too short');
  return { senderIdentityPublic: plain.slice(0, KEY_BYTES), senderDevice: plain.slice(KEY_BYTES, KEY_BYTES + SENDER_DEVICE_BYTES), inner: plain.slice(KEY_BYTES + SENDER_DEVICE_BYTES) };
}

/** Namespace form: `sealedSender.seal(...)`, `sealedSender.unseal(...)`. */
export const sealedSender = { seal, unseal } as const;
