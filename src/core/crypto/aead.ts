/**
 * AES-256-GCM (NIST SP 800-38D) with a 12-byte nonce and a 16-byte tag appended to the
 * ciphertext. Small messages go through @noble/ciphers (no async hop, no key import);
 * large ones through WebCrypto, whose native AES-NI code wins once the data dominates
 * (bench/crypto/primitives.ts: the AES-256-GCM rows of docs/BENCHMARKS.md).
 *
 * Where the crossover lies depends on the runtime, so the platform may move it: in
 * Chromium, WebCrypto's import + decrypt of a small message costs less CPU than noble's
 * JavaScript AES and GHASH, so the browser uses WebCrypto for every size
 * (`setAeadWebCryptoThreshold(0)`, see src/platform/browser-crypto.ts).
 */
import { gcm } from '@noble/ciphers/aes.js';
import { AuthenticationFailedError } from './errors.ts';

/** Above this many bytes, Node uses WebCrypto's native AES-GCM rather than noble's (the crossover measured when this was chosen). */
export const AEAD_WEBCRYPTO_THRESHOLD_BYTES = 2048;

let webCryptoThreshold = AEAD_WEBCRYPTO_THRESHOLD_BYTES;

/** Messages longer than `bytes` use WebCrypto (0: all of them); the default suits Node. */
export function setAeadWebCryptoThreshold(bytes: number): void {
  if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError('AEAD threshold must be a non-negative integer');
  webCryptoThreshold = bytes;
}

/** WebCrypto's SubtleCrypto (the core is type-checked without the DOM library). */
type Subtle = typeof globalThis.crypto.subtle;
const subtle: Subtle | undefined = globalThis.crypto?.subtle;

function buf(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b as Uint8Array<ArrayBuffer>;
}

export async function aesGcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  if (subtle && plaintext.length > webCryptoThreshold) {
    const k = await subtle.importKey('raw', buf(key), 'AES-GCM', false, ['encrypt']);
    return new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad) }, k, buf(plaintext)));
  }
  return gcm(key, nonce, aad).encrypt(plaintext);
}

/** Throws AuthenticationFailedError when the tag does not verify. */
export async function aesGcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  if (ciphertext.length < 16) throw new AuthenticationFailedError('ciphertext shorter than the GCM tag');
  if (subtle && ciphertext.length - 16 > webCryptoThreshold) {
    const k = await subtle.importKey('raw', buf(key), 'AES-GCM', false, ['decrypt']);
    try {
      return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad) }, k, buf(ciphertext)));
    } catch {
      throw new AuthenticationFailedError('AES-GCM authentication failed');
    }
  }
  try {
    return gcm(key, nonce, aad).decrypt(ciphertext);
  } catch {
    throw new AuthenticationFailedError('AES-GCM authentication failed');
  }
}
