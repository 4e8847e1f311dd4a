/**
 * ENCRYPT / DECRYPT (Double Ratchet §5.2 recommended cipher, with AES-GCM instead of
 * AES-CBC + HMAC): HKDF-SHA-256(salt = 32 zero bytes, IKM = message key,
 * info = "Petrel_MessageKeys") → 44 bytes = AES-256 key ‖ 12-byte nonce; AES-256-GCM
 * over the plaintext with associated data AD ‖ header. Each message key encrypts one
 * message only, so the derived nonce is never reused under its key.
 */
import type { CryptoRuntime } from './crypto-runtime.ts';
import { hkdfSha256WithFixedSalt } from './kdf.ts';
import { AES_GCM_NONCE_BYTES, KEY_BYTES, MESSAGE_KEYS_INFO_BYTES } from './limits.ts';
import type { SecretBytes } from './redacted.ts';

const messageKeysHkdf = hkdfSha256WithFixedSalt(new Uint8Array(KEY_BYTES), MESSAGE_KEYS_INFO_BYTES, KEY_BYTES + AES_GCM_NONCE_BYTES);

function expandMessageKey(messageKey: SecretBytes): { key: Uint8Array; nonce: Uint8Array } {
  const out = messageKeysHkdf(messageKey.expose());
  return { key: out.subarray(0, KEY_BYTES), nonce: out.subarray(KEY_BYTES) };
}

function associatedData(ad: Uint8Array, header: Uint8Array): Uint8Array {
  const out = new Uint8Array(ad.length + header.length);
  out.set(ad);
  out.set(header, ad.length);
  return out;
}

export function encryptWithMessageKey(messageKey: SecretBytes, plaintext: Uint8Array, ad: Uint8Array, header: Uint8Array, rt: CryptoRuntime): Promise<Uint8Array> {
  const { key, nonce } = expandMessageKey(messageKey);
  return rt.aesGcmEncrypt(key, nonce, plaintext, associatedData(ad, header));
}

/** Throws AuthenticationFailedError when anything covered by the tag was altered. */
export function decryptWithMessageKey(messageKey: SecretBytes, ciphertext: Uint8Array, ad: Uint8Array, header: Uint8Array, rt: CryptoRuntime): Promise<Uint8Array> {
  const { key, nonce } = expandMessageKey(messageKey);
  return rt.aesGcmDecrypt(key, nonce, ciphertext, associatedData(ad, header));
}
