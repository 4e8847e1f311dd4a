/**
 * X25519 (RFC 7748 §5) Diffie-Hellman. WebCrypto's native X25519 (Node 20, Chromium 133+)
 * is used when the runtime has it; runtimes without it fall back to @noble/curves' ladder
 * (bench/crypto/primitives.ts measures both: docs/BENCHMARKS.md). Both backends are
 * exported so tests run the RFC 7748 and Wycheproof vectors through each of them.
 *
 * This module holds no state. What makes X25519 fast — imported CryptoKey handles of our
 * recent key pairs and natively generated key pairs made ahead of time — lives in an
 * `X25519Engine`, which a `CryptoRuntime` (crypto-runtime.ts) owns; it lives exactly as
 * long as that runtime (the running Messenger's, or one call's when a bare `Random` is
 * passed).
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { bytesEqual, fromBase64Url, fromHex, toBase64Url, toHex } from '../bytes.ts';
import type { Random } from '../random.ts';
import { InvalidKeyError } from './errors.ts';
import { KEY_BYTES } from './limits.ts';
import { SecretBytes } from './redacted.ts';

/** Our side of a DH: the private scalar bytes (redacted when printed) and the matching public key. */
export interface DhPrivate {
  readonly privateKey: SecretBytes;
  readonly publicKey: Uint8Array;
}

/** A DhPrivate from raw private bytes (taken, not copied); the public key is computed when not given. */
export function dhKeyPair(privateKey: Uint8Array, publicKey: Uint8Array = x25519PublicKey(privateKey)): DhPrivate {
  return { privateKey: new SecretBytes(privateKey), publicKey };
}

/** WebCrypto's SubtleCrypto (the core is type-checked without the DOM library). */
type Subtle = typeof globalThis.crypto.subtle;
type Key = Awaited<ReturnType<Subtle['importKey']>>;
/** The platform's WebCrypto: a capability of the runtime, not state. */
const subtle: Subtle | undefined = globalThis.crypto?.subtle;

/** X25519 public key of a 32-byte private key (RFC 7748 §6.1: X25519(a, 9)). */
export function x25519PublicKey(privateKey: Uint8Array): Uint8Array {
  if (privateKey.length !== KEY_BYTES) throw new InvalidKeyError('X25519 private key must be 32 bytes');
  return x25519.getPublicKey(privateKey);
}

/**
 * u-coordinates (top bit ignored, RFC 7748 §5) of the points whose order divides 8, on the
 * curve and its twist: 0, 1, p−1, the two order-8 points, and the non-canonical p and p+1.
 * A clamped scalar is a multiple of 8, so X25519 with exactly these gives the all-zero
 * output; no other u does (libsodium's `has_small_order` list).
 */
const LOW_ORDER_POINTS = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].map(fromHex);

/**
 * Is `u` a public key no DH can use (a low-order point), decided without a DH? Lets a header
 * be refused as malformed before anything depends on session state. Not constant time: u is
 * a public value.
 */
export function isLowOrderPublicKey(u: Uint8Array): boolean {
  if (u.length !== KEY_BYTES) return false;
  outer: for (const p of LOW_ORDER_POINTS) {
    for (let i = 0; i < KEY_BYTES - 1; i++) if (u[i] !== p[i]) continue outer;
    if ((u[KEY_BYTES - 1]! & 0x7f) === p[KEY_BYTES - 1]) return true;
  }
  return false;
}

function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < b.length; i++) acc |= b[i]!;
  return acc === 0;
}

/** RFC 7748 §6.1: "check whether the output is the all-zero value and abort if so". */
function nonZero(out: Uint8Array): Uint8Array {
  if (isAllZero(out)) throw new InvalidKeyError('X25519 output is all zero');
  return out;
}

/** X25519 through @noble/curves. InvalidKeyError for a low-order or otherwise refused public key. */
export function nobleX25519Dh(ours: DhPrivate, theirPublic: Uint8Array): Uint8Array {
  if (theirPublic.length !== KEY_BYTES) throw new InvalidKeyError('X25519 public key must be 32 bytes');
  let out: Uint8Array;
  try {
    out = x25519.getSharedSecret(ours.privateKey.expose(), theirPublic);
  } catch {
    throw new InvalidKeyError('X25519 with a low-order or invalid public key');
  }
  return nonZero(out);
}

function importPrivate(s: Subtle, ours: DhPrivate): Promise<Key> {
  const jwk = { kty: 'OKP', crv: 'X25519', d: toBase64Url(ours.privateKey.expose()), x: toBase64Url(ours.publicKey) };
  return s.importKey('jwk', jwk, { name: 'X25519' }, false, ['deriveBits']);
}

function importPublic(s: Subtle, theirPublic: Uint8Array): Promise<Key> {
  return s.importKey('raw', theirPublic as Uint8Array<ArrayBuffer>, { name: 'X25519' }, false, []);
}

async function deriveBits(s: Subtle, priv: Key, pub: Key): Promise<Uint8Array> {
  return new Uint8Array(await s.deriveBits({ name: 'X25519', public: pub }, priv, 256));
}

/**
 * X25519 through WebCrypto only (no fallback, no cache). InvalidKeyError for an all-zero
 * output; a key WebCrypto itself refuses, or a runtime without X25519, rejects with
 * WebCrypto's own error.
 */
export async function webCryptoX25519Dh(ours: DhPrivate, theirPublic: Uint8Array): Promise<Uint8Array> {
  if (theirPublic.length !== KEY_BYTES) throw new InvalidKeyError('X25519 public key must be 32 bytes');
  if (!subtle) throw new Error('this runtime has no WebCrypto');
  return nonZero(await deriveBits(subtle, await importPrivate(subtle, ours), await importPublic(subtle, theirPublic)));
}

/**
 * One X25519 DH without any engine (WebCrypto when the runtime has it, else noble; nothing
 * cached). Refuses a peer key that yields the all-zero output with InvalidKeyError.
 */
export function x25519Dh(ours: DhPrivate, theirPublic: Uint8Array): Promise<Uint8Array> {
  return new X25519Engine().dh(ours, theirPublic);
}

/** A new X25519 key pair whose private key is 32 bytes drawn from `random` (clamped inside X25519), so seeded runs are reproducible. */
export function generateDhKeyPair(random: Random): DhPrivate {
  return dhKeyPair(random.bytes(KEY_BYTES));
}

/** Imported private CryptoKeys kept per engine: our recent key pairs (see X25519Engine). */
export const PRIVATE_KEY_CACHE_SIZE = 32;
/** Imported peer public keys kept per engine (a DH ratchet step uses the new remote key twice). */
const PUBLIC_KEY_CACHE_SIZE = 16;
/** Natively generated key pairs an engine keeps ready (with `nativeKeyGeneration`). */
export const PREGENERATED_KEY_PAIRS = 4;

export interface X25519EngineOptions {
  /**
   * Generate key pairs with WebCrypto (and ahead of time) instead of from `random`. Native
   * generation draws from the platform's CSPRNG, not from `random`: only set it where
   * `random` is the platform's secure randomness too (the browser composition root).
   */
  readonly nativeKeyGeneration?: boolean;
  /** 'auto' (default): WebCrypto when it works, else noble. */
  readonly backend?: 'auto' | 'webcrypto' | 'noble';
}

/**
 * X25519 with the speed-ups that need memory: imported private CryptoKeys of our recent
 * key pairs (LRU, PRIVATE_KEY_CACHE_SIZE; a ratchet key is used for two DHs, the identity
 * key for every sealed-sender open, and an import costs about as much as the DH: compare
 * the X25519 rows with and without import in docs/BENCHMARKS.md), imported peer keys, and
 * pregenerated native key pairs. A cached handle is only used when the private bytes it was
 * imported from are the ones given now, so a damaged stored key is never answered from the
 * cache. The caches hold the import itself (a promise), so DHs started together with the
 * same key — PQXDH's three with EK_A or SPK_B, a ratchet step's two with the new remote
 * key — share one import instead of each racing to make its own; a failed import is
 * forgotten. Key pairs are generated ahead only as far as the engine has seen demand (see
 * `generateKeyPair`). Lifetime: its owner's (a CryptoRuntime); nothing outlives it.
 */
export class X25519Engine {
  readonly #privateKeys = new Map<string, { readonly key: Promise<Key>; readonly privateKey: Uint8Array }>();
  readonly #publicKeys = new Map<string, Promise<Key>>();
  readonly #pregenerated: DhPrivate[] = [];
  /** Key pairs handed out so far (counted up to PREGENERATED_KEY_PAIRS + 1): how many to keep ready. */
  #taken = 0;
  #refilling = false;
  #webCryptoUsable: boolean | undefined;
  #nativeKeyGen: boolean;

  constructor(
    private readonly random?: Random,
    options: X25519EngineOptions = {},
  ) {
    const backend = options.backend ?? 'auto';
    this.#webCryptoUsable = !subtle || backend === 'noble' ? false : backend === 'webcrypto' ? true : undefined;
    this.#nativeKeyGen = !!options.nativeKeyGeneration && this.#webCryptoUsable !== false;
  }

  /** Which implementation this engine uses (for the benchmark notes). */
  backend(): 'webcrypto' | 'noble' | 'undecided' {
    return this.#webCryptoUsable === undefined ? 'undecided' : this.#webCryptoUsable ? 'webcrypto' : 'noble';
  }

  async dh(ours: DhPrivate, theirPublic: Uint8Array): Promise<Uint8Array> {
    if (theirPublic.length !== KEY_BYTES) throw new InvalidKeyError('X25519 public key must be 32 bytes');
    if (this.#webCryptoUsable !== false && subtle) {
      try {
        const out = await this.#webCryptoDh(subtle, ours, theirPublic);
        this.#webCryptoUsable = true;
        return nonZero(out);
      } catch (e) {
        if (e instanceof InvalidKeyError) throw e;
        // Either the runtime lacks X25519 or it refused this key (low order): noble decides
        // which (it throws InvalidKeyError for a bad key) and gives the same answer for valid keys.
        const out = nobleX25519Dh(ours, theirPublic);
        if (this.#webCryptoUsable === undefined) this.#webCryptoUsable = false;
        return out;
      }
    }
    return nobleX25519Dh(ours, theirPublic);
  }

  /**
   * A new key pair: native (ready-made when possible) with `nativeKeyGeneration`, else from
   * `random`. Ready-made pairs are kept for demand already seen: after n pairs were handed
   * out, min(n − 1, PREGENERATED_KEY_PAIRS) are made ahead. A fresh engine makes none ahead
   * for its first pair, so an engine that only ever needs one or two (one session setup)
   * does not generate four it never uses; a ratchet's steady state (one pair per step)
   * finds one ready, as before.
   */
  async generateKeyPair(): Promise<DhPrivate> {
    if (this.#nativeKeyGen && subtle) {
      if (this.#taken <= PREGENERATED_KEY_PAIRS) this.#taken++;
      const ready = this.#pregenerated.shift();
      this.#refill(subtle);
      if (ready) return ready;
      try {
        const fresh = await this.#nativeKeyPair(subtle);
        if (fresh) return fresh;
      } catch {
        this.#nativeKeyGen = false; // no native X25519 key generation: portable path below
      }
    }
    if (!this.random) throw new Error('X25519Engine without randomness cannot generate keys');
    return generateDhKeyPair(this.random);
  }

  async #webCryptoDh(s: Subtle, ours: DhPrivate, theirPublic: Uint8Array): Promise<Uint8Array> {
    const [priv, pub] = await Promise.all([this.#privateKey(s, ours), this.#publicKey(s, theirPublic)]);
    return deriveBits(s, priv, pub);
  }

  #privateKey(s: Subtle, ours: DhPrivate): Promise<Key> {
    const id = toHex(ours.publicKey);
    const secret = ours.privateKey.expose();
    const hit = this.#privateKeys.get(id);
    if (hit && bytesEqual(hit.privateKey, secret)) {
      this.#privateKeys.delete(id);
      this.#privateKeys.set(id, hit);
      return hit.key;
    }
    const key = importPrivate(s, ours);
    this.#rememberPrivate(id, key, secret);
    return key;
  }

  #publicKey(s: Subtle, theirPublic: Uint8Array): Promise<Key> {
    const id = toHex(theirPublic);
    const hit = this.#publicKeys.get(id);
    if (hit) return hit;
    const key = importPublic(s, theirPublic);
    this.#publicKeys.set(id, key);
    if (this.#publicKeys.size > PUBLIC_KEY_CACHE_SIZE) this.#publicKeys.delete(this.#publicKeys.keys().next().value!);
    key.catch(() => {
      if (this.#publicKeys.get(id) === key) this.#publicKeys.delete(id);
    });
    return key;
  }

  #rememberPrivate(id: string, key: Promise<Key>, privateKey: Uint8Array): void {
    const entry = { key, privateKey: privateKey.slice() };
    this.#privateKeys.delete(id);
    this.#privateKeys.set(id, entry);
    if (this.#privateKeys.size > PRIVATE_KEY_CACHE_SIZE) this.#privateKeys.delete(this.#privateKeys.keys().next().value!);
    key.catch(() => {
      if (this.#privateKeys.get(id) === entry) this.#privateKeys.delete(id);
    });
  }

  async #nativeKeyPair(s: Subtle): Promise<DhPrivate | undefined> {
    const pair = (await s.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as { privateKey: Key; publicKey: Key };
    const jwk = await s.exportKey('jwk', pair.privateKey);
    if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string') return undefined;
    const privateKey = fromBase64Url(jwk.d);
    const publicKey = fromBase64Url(jwk.x);
    if (privateKey.length !== KEY_BYTES || publicKey.length !== KEY_BYTES) return undefined;
    this.#rememberPrivate(toHex(publicKey), Promise.resolve(pair.privateKey), privateKey);
    return dhKeyPair(privateKey, publicKey);
  }

  #refill(s: Subtle): void {
    if (this.#refilling) return;
    this.#refilling = true;
    void (async () => {
      try {
        while (this.#pregenerated.length < Math.min(this.#taken - 1, PREGENERATED_KEY_PAIRS)) {
          const kp = await this.#nativeKeyPair(s);
          if (!kp) return;
          this.#pregenerated.push(kp);
        }
      } catch {
        this.#nativeKeyGen = false; // callers use the portable path from now on
      } finally {
        this.#refilling = false;
      }
    })();
  }
}
