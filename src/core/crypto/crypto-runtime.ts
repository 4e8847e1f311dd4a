/**
 * Everything the crypto core needs besides its inputs, passed in explicitly: randomness,
 * the X25519 engine (its key-handle caches and pregenerated key pairs), the Ed25519 signer
 * (native, with its imported signing keys: ed25519-sign.ts) and the AES-GCM
 * WebCrypto threshold. No crypto module keeps state of its own.
 *
 * Lifetime: whoever creates a runtime owns it. The running Messenger creates one in its
 * composition root (or takes the platform's: src/platform/browser-crypto.ts) and drops it
 * on stop, so nothing cached survives a restart of the core. A function given a bare
 * `Random` instead builds a runtime for that one call: nothing is cached across calls, keys
 * come from `random` (reproducible with a seeded one), thresholds are Node's defaults.
 */
import type { Random } from '../random.ts';
import { AEAD_WEBCRYPTO_THRESHOLD_BYTES, aesGcmDecrypt, aesGcmEncrypt, aesGcmKeyed, checkAeadThreshold, type AesGcmKeyed } from './aead.ts';
import { Ed25519Signer } from './ed25519-sign.ts';
import { ML_KEM_768_MESSAGE_BYTES, mlKemEncapsulate, mlKemEncapsulateRandom } from './ml-kem.ts';
import { X25519Engine, type DhPrivate, type X25519EngineOptions } from './x25519.ts';

export interface CryptoRuntimeOptions extends X25519EngineOptions {
  /** AES-GCM messages longer than this many bytes use WebCrypto (0: all); default AEAD_WEBCRYPTO_THRESHOLD_BYTES (Node's crossover). */
  readonly aeadWebCryptoThresholdBytes?: number;
}

export class CryptoRuntime {
  readonly x25519: X25519Engine;
  readonly ed25519: Ed25519Signer;
  readonly aeadWebCryptoThresholdBytes: number;
  /** `nativeKeyGeneration`: ML-KEM encapsulation draws m inside liboqs, not from `random`. */
  readonly #nativeKem: boolean;

  constructor(
    readonly random: Random,
    options: CryptoRuntimeOptions = {},
  ) {
    this.x25519 = new X25519Engine(random, options);
    this.ed25519 = new Ed25519Signer(options.backend === 'noble' ? 'noble' : 'auto');
    this.aeadWebCryptoThresholdBytes = checkAeadThreshold(options.aeadWebCryptoThresholdBytes ?? AEAD_WEBCRYPTO_THRESHOLD_BYTES);
    this.#nativeKem = !!options.nativeKeyGeneration;
  }

  /**
   * ML-KEM.Encaps to `ek` (InvalidKeyError for a key that fails the FIPS 203 checks). With
   * native key generation m comes from the platform inside liboqs (a device's runtime); without,
   * m is 32 bytes of `random` and the result is reproducible (seeded runtimes, the vectors).
   */
  async mlKemEncapsulate(ek: Uint8Array): Promise<{ cipherText: Uint8Array; sharedSecret: Uint8Array }> {
    if (this.#nativeKem) return mlKemEncapsulateRandom(ek, this.random);
    return mlKemEncapsulate(ek, this.random.bytes(ML_KEM_768_MESSAGE_BYTES));
  }

  dh(ours: DhPrivate, theirPublic: Uint8Array): Promise<Uint8Array> {
    return this.x25519.dh(ours, theirPublic);
  }

  generateDhKeyPair(): Promise<DhPrivate> {
    return this.x25519.generateKeyPair();
  }

  aesGcmEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    return aesGcmEncrypt(key, nonce, plaintext, aad, this.aeadWebCryptoThresholdBytes);
  }

  aesGcmDecrypt(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    return aesGcmDecrypt(key, nonce, ciphertext, aad, this.aeadWebCryptoThresholdBytes);
  }

  /** AES-GCM under one key for many messages (attachment records): imported once. */
  aesGcmKeyed(key: Uint8Array): AesGcmKeyed {
    return aesGcmKeyed(key, this.aeadWebCryptoThresholdBytes);
  }
}

/** What the session functions take: a runtime, or a bare `Random` (a runtime for that call only; see the file comment). */
export type CryptoDeps = Random | CryptoRuntime;

export function cryptoRuntime(deps: CryptoDeps): CryptoRuntime {
  return deps instanceof CryptoRuntime ? deps : new CryptoRuntime(deps);
}
