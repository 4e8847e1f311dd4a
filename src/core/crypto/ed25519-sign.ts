/**
 * Ed25519 signing with the platform's native implementation (WebCrypto: OpenSSL in Node,
 * BoringSSL in Chromium), which is about 30× faster than the JavaScript one, where it has
 * Ed25519; noble where it does not. Ed25519 signatures are deterministic (RFC 8032), so
 * both give the same bytes (tests/crypto/ed25519-sign.test.ts).
 *
 * A signing key is imported once and kept (LRU, SIGNING_KEY_CACHE_SIZE): a group sender
 * chain signs every message with the same key, and an import costs several signatures. As
 * in the X25519 engine, a cached handle is used only when the seed it was imported from is
 * the one given now. Lifetime: its owner's (a CryptoRuntime).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesEqual, concatBytes, toHex } from '../bytes.ts';
import { KEY_BYTES } from './limits.ts';

/** Imported signing keys kept per signer. */
export const SIGNING_KEY_CACHE_SIZE = 8;

/** PKCS #8 wrapping of a 32-byte Ed25519 seed (RFC 8410): this prefix, then the seed. */
const PKCS8_PREFIX = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

/** WebCrypto's SubtleCrypto (the core is type-checked without the DOM library): a capability of the platform, not state. */
const subtle: typeof globalThis.crypto.subtle | undefined = globalThis.crypto?.subtle;
type Key = Awaited<ReturnType<NonNullable<typeof subtle>['importKey']>>;

const bytes = (b: Uint8Array): Uint8Array<ArrayBuffer> => b as Uint8Array<ArrayBuffer>;

export class Ed25519Signer {
  readonly #keys = new Map<string, { readonly key: Key; readonly seed: Uint8Array }>();
  #native: boolean | undefined;

  constructor(backend: 'auto' | 'noble' = 'auto') {
    this.#native = !subtle || backend === 'noble' ? false : undefined;
  }

  /** Signs `message` with the key whose seed is `seed` and public key `publicKey` (the cache's name for it). */
  async sign(seed: Uint8Array, publicKey: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
    if (seed.length !== KEY_BYTES) throw new RangeError('an Ed25519 seed is 32 bytes');
    if (this.#native !== false && subtle) {
      try {
        const key = await this.#key(subtle, seed, publicKey);
        const sig = new Uint8Array(await subtle.sign({ name: 'Ed25519' }, key, bytes(message)));
        this.#native = true;
        return sig;
      } catch {
        // No Ed25519 in this WebCrypto: the JavaScript signer, from now on.
        this.#native = false;
      }
    }
    return ed25519.sign(message, seed);
  }

  async #key(s: NonNullable<typeof subtle>, seed: Uint8Array, publicKey: Uint8Array): Promise<Key> {
    const id = toHex(publicKey);
    const hit = this.#keys.get(id);
    if (hit && bytesEqual(hit.seed, seed)) {
      this.#keys.delete(id);
      this.#keys.set(id, hit);
      return hit.key;
    }
    const key = await s.importKey('pkcs8', bytes(concatBytes(PKCS8_PREFIX, seed)), { name: 'Ed25519' }, false, ['sign']);
    this.#keys.delete(id);
    this.#keys.set(id, { key, seed: seed.slice() });
    if (this.#keys.size > SIGNING_KEY_CACHE_SIZE) this.#keys.delete(this.#keys.keys().next().value!);
    return key;
  }
}
