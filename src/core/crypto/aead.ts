/**
 * AES-256-GCM (NIST SP 800-38D) with a 12-byte nonce and a 16-byte tag appended to the
 * ciphertext. Small messages go through @noble/ciphers (no async hop, no key import);
 * large ones through WebCrypto, whose native AES-NI code wins once the data dominates
 * (bench/crypto/primitives.ts: the AES-256-GCM rows of docs/BENCHMARKS.md).
 *
 * Where the crossover lies depends on the runtime, so it is a parameter, not module state:
 * a `CryptoRuntime` (crypto-runtime.ts) carries it. In Chromium, WebCrypto's import +
 * decrypt of a small message costs less CPU than noble's JavaScript AES and GHASH, so the
 * browser's runtime uses WebCrypto for every size (threshold 0, src/platform/browser-crypto.ts).
 *
 * Any key size AES allows (16, 24, 32 bytes) and any nonce of at least one byte are taken
 * (Petrel itself only uses 32-byte keys and 12-byte nonces). noble takes nonces of 8 bytes
 * or more and Node's WebCrypto 12 to 128, so WebCrypto is only asked within its range and
 * shorter nonces go through aes-gcm-short-nonce.ts; an empty nonce is refused (RangeError):
 * GCM with it would leak the authentication key.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { shortNonceGcmDecrypt, shortNonceGcmEncrypt } from './aes-gcm-short-nonce.ts';
import { AuthenticationFailedError } from './errors.ts';

/** Above this many bytes, Node uses WebCrypto's native AES-GCM rather than noble's (the crossover measured when this was chosen). */
export const AEAD_WEBCRYPTO_THRESHOLD_BYTES = 2048;

/** Checks an AEAD threshold (messages longer than it use WebCrypto; 0: all of them). */
export function checkAeadThreshold(bytes: number): number {
  if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError('AEAD threshold must be a non-negative integer');
  return bytes;
}

/** @noble/ciphers' gcm refuses nonces shorter than this (SP 800-38D lets it narrow the range). */
const NOBLE_MIN_NONCE_BYTES = 8;

/** The nonce lengths WebCrypto takes everywhere we run (Node refuses others). */
const WEBCRYPTO_NONCE_BYTES = { min: 12, max: 128 };

function checkNonce(nonce: Uint8Array): void {
  if (nonce.length === 0) throw new RangeError('AES-GCM nonce must not be empty');
}

function useWebCrypto(dataBytes: number, nonce: Uint8Array, threshold: number): boolean {
  return !!subtle && dataBytes > threshold && nonce.length >= WEBCRYPTO_NONCE_BYTES.min && nonce.length <= WEBCRYPTO_NONCE_BYTES.max;
}

/** WebCrypto's SubtleCrypto (the core is type-checked without the DOM library). */
type Subtle = typeof globalThis.crypto.subtle;
type CryptoKey = Awaited<ReturnType<Subtle['importKey']>>;
const subtle: Subtle | undefined = globalThis.crypto?.subtle;

function buf(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b as Uint8Array<ArrayBuffer>;
}

/** AES-GCM encryption; plaintexts longer than `webCryptoThreshold` bytes go through WebCrypto. */
export async function aesGcmEncrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  webCryptoThreshold = AEAD_WEBCRYPTO_THRESHOLD_BYTES,
): Promise<Uint8Array> {
  checkNonce(nonce);
  if (subtle && useWebCrypto(plaintext.length, nonce, webCryptoThreshold)) {
    const k = await subtle.importKey('raw', buf(key), 'AES-GCM', false, ['encrypt']);
    return new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad) }, k, buf(plaintext)));
  }
  if (nonce.length < NOBLE_MIN_NONCE_BYTES) return shortNonceGcmEncrypt(key, nonce, plaintext, aad);
  return gcm(key, nonce, aad).encrypt(plaintext);
}

/** Throws AuthenticationFailedError when the tag does not verify. */
export async function aesGcmDecrypt(
  key: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
  webCryptoThreshold = AEAD_WEBCRYPTO_THRESHOLD_BYTES,
): Promise<Uint8Array> {
  checkNonce(nonce);
  if (ciphertext.length < 16) throw new AuthenticationFailedError('ciphertext shorter than the GCM tag');
  if (subtle && useWebCrypto(ciphertext.length - 16, nonce, webCryptoThreshold)) {
    const k = await subtle.importKey('raw', buf(key), 'AES-GCM', false, ['decrypt']);
    try {
      return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad) }, k, buf(ciphertext)));
    } catch {
      throw new AuthenticationFailedError('AES-GCM authentication failed');
    }
  }
  if (nonce.length < NOBLE_MIN_NONCE_BYTES) return shortNonceGcmDecrypt(key, nonce, ciphertext, aad);
  try {
    return gcm(key, nonce, aad).decrypt(ciphertext);
  } catch {
    throw new AuthenticationFailedError('AES-GCM authentication failed');
  }
}

/** AES-256-GCM under one key for many messages (an attachment's records): the key is imported into WebCrypto once. */
export interface AesGcmKeyed {
  encrypt(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
  /** Throws AuthenticationFailedError when the tag does not verify. */
  decrypt(nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Promise<Uint8Array>;
}

/**
 * Like aesGcmEncrypt/aesGcmDecrypt with a fixed key, for callers that seal many messages
 * under it: WebCrypto's importKey is paid once instead of per message (it halves the cost
 * of a 64 KiB record in Node). Same threshold and nonce rules as the one-shot functions.
 */
export function aesGcmKeyed(callerKey: Uint8Array, webCryptoThreshold = AEAD_WEBCRYPTO_THRESHOLD_BYTES): AesGcmKeyed {
  const key = callerKey.slice();
  let imported: Promise<CryptoKey> | undefined;
  const cryptoKey = () => (imported ??= subtle!.importKey('raw', buf(key), 'AES-GCM', false, ['encrypt', 'decrypt']));
  return {
    async encrypt(nonce, plaintext, aad) {
      checkNonce(nonce);
      if (!subtle || !useWebCrypto(plaintext.length, nonce, webCryptoThreshold)) return aesGcmEncrypt(key, nonce, plaintext, aad, webCryptoThreshold);
      return new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad) }, await cryptoKey(), buf(plaintext)));
    },
    async decrypt(nonce, ciphertext, aad) {
      checkNonce(nonce);
      if (!subtle || ciphertext.length < 16 || !useWebCrypto(ciphertext.length - 16, nonce, webCryptoThreshold)) return aesGcmDecrypt(key, nonce, ciphertext, aad, webCryptoThreshold);
      const k = await cryptoKey();
      try {
        return new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv: buf(nonce), additionalData: buf(aad) }, k, buf(ciphertext)));
      } catch {
        throw new AuthenticationFailedError('AES-GCM authentication failed');
      }
    },
  };
}
