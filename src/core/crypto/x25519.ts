/**
 * X25519 (RFC 7748 §5) Diffie-Hellman. WebCrypto's native X25519 (Node 20, Chromium 133+)
 * is used when the runtime has it; runtimes without it fall back to @noble/curves' ladder
 * (bench/crypto/primitives.ts measures both: docs/BENCHMARKS.md). Both backends are
 * exported so tests run the RFC 7748 vectors and a random-key agreement property through
 * each of them (tests/crypto/x25519.test.ts), whichever one this runtime would pick.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { fromBase64Url, fromHex, toBase64Url, toHex } from '../bytes.ts';
import { secureRandom, type Random } from '../random.ts';
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
const subtle: Subtle | undefined = globalThis.crypto?.subtle;
let webCryptoUsable: boolean | undefined = subtle ? undefined : false;

/**
 * Imported private CryptoKeys of our recent key pairs, by public key (LRU, at most
 * PRIVATE_KEY_CACHE_SIZE). A ratchet key is used for two DHs (the sending step and the
 * next receiving step) and the identity key for every sealed-sender open, and each import
 * is paid again otherwise (compare the X25519 DH rows with and without key import in
 * docs/BENCHMARKS.md). Only non-extractable handles of keys we hold are kept, in
 * memory; the serialised state remains the source of truth.
 */
export const PRIVATE_KEY_CACHE_SIZE = 32;
const privateKeyCache = new Map<string, Key>();

/** Imported peer public keys (a DH ratchet step uses the new remote key twice). */
const PUBLIC_KEY_CACHE_SIZE = 16;
const publicKeyCache = new Map<string, Key>();

function cachedPrivateKey(publicKey: Uint8Array): { id: string; key: Key | undefined } {
  const id = toHex(publicKey);
  const key = privateKeyCache.get(id);
  if (key) {
    privateKeyCache.delete(id);
    privateKeyCache.set(id, key);
  }
  return { id, key };
}

function rememberPrivateKey(id: string, key: Key): void {
  privateKeyCache.set(id, key);
  if (privateKeyCache.size > PRIVATE_KEY_CACHE_SIZE) privateKeyCache.delete(privateKeyCache.keys().next().value!);
}

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

async function webCryptoDh(s: Subtle, ours: DhPrivate, theirPublic: Uint8Array): Promise<Uint8Array> {
  const cached = cachedPrivateKey(ours.publicKey);
  let priv = cached.key;
  if (!priv) {
    const jwk = { kty: 'OKP', crv: 'X25519', d: toBase64Url(ours.privateKey.expose()), x: toBase64Url(ours.publicKey) };
    priv = await s.importKey('jwk', jwk, { name: 'X25519' }, false, ['deriveBits']);
    rememberPrivateKey(cached.id, priv);
  }
  const pubId = toHex(theirPublic);
  let pub = publicKeyCache.get(pubId);
  if (!pub) {
    pub = await s.importKey('raw', theirPublic as Uint8Array<ArrayBuffer>, { name: 'X25519' }, false, []);
    publicKeyCache.set(pubId, pub);
    if (publicKeyCache.size > PUBLIC_KEY_CACHE_SIZE) publicKeyCache.delete(publicKeyCache.keys().next().value!);
  }
  return new Uint8Array(await s.deriveBits({ name: 'X25519', public: pub }, priv, 256));
}

/**
 * X25519 through WebCrypto only (no fallback). InvalidKeyError for an all-zero output; a key
 * WebCrypto itself refuses, or a runtime without X25519, rejects with WebCrypto's own error.
 */
export async function webCryptoX25519Dh(ours: DhPrivate, theirPublic: Uint8Array): Promise<Uint8Array> {
  if (theirPublic.length !== KEY_BYTES) throw new InvalidKeyError('X25519 public key must be 32 bytes');
  if (!subtle) throw new Error('this runtime has no WebCrypto');
  return nonZero(await webCryptoDh(subtle, ours, theirPublic));
}

/**
 * X25519(ours.privateKey, theirPublic) through WebCrypto when the runtime has it, else
 * noble. Refuses a peer key that yields the all-zero output with InvalidKeyError.
 */
export async function x25519Dh(ours: DhPrivate, theirPublic: Uint8Array): Promise<Uint8Array> {
  if (theirPublic.length !== KEY_BYTES) throw new InvalidKeyError('X25519 public key must be 32 bytes');
  if (webCryptoUsable !== false && subtle) {
    try {
      const out = await webCryptoDh(subtle, ours, theirPublic);
      webCryptoUsable = true;
      return nonZero(out);
    } catch (e) {
      if (e instanceof InvalidKeyError) throw e;
      // Either the runtime lacks X25519 or it refused this key (low order): noble decides
      // which (it throws InvalidKeyError for a bad key) and gives the same answer for valid keys.
      const out = nobleX25519Dh(ours, theirPublic);
      if (webCryptoUsable === undefined) webCryptoUsable = false;
      return out;
    }
  }
  return nobleX25519Dh(ours, theirPublic);
}

/** Which implementation `x25519Dh` uses in this runtime (for the benchmark notes). */
export function x25519Backend(): 'webcrypto' | 'noble' | 'undecided' {
  return webCryptoUsable === undefined ? 'undecided' : webCryptoUsable ? 'webcrypto' : 'noble';
}

/**
 * Natively generated key pairs waiting to be used (at most PREGENERATED_KEY_PAIRS). Taking
 * one starts a background refill, so a DH ratchet step does not wait for key generation.
 * Only used with the system's secure randomness; these keys exist in memory only.
 */
export const PREGENERATED_KEY_PAIRS = 4;
const pregenerated: DhPrivate[] = [];
let refilling = false;
/** Set once native generation has failed: this runtime lacks it, stop trying. */
let nativeKeyGenUnavailable = false;

async function nativeKeyPair(s: Subtle): Promise<DhPrivate | undefined> {
  const pair = (await s.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as { privateKey: Key; publicKey: Key };
  const jwk = await s.exportKey('jwk', pair.privateKey);
  if (typeof jwk.d !== 'string' || typeof jwk.x !== 'string') return undefined;
  const privateKey = fromBase64Url(jwk.d);
  const publicKey = fromBase64Url(jwk.x);
  if (privateKey.length !== KEY_BYTES || publicKey.length !== KEY_BYTES) return undefined;
  rememberPrivateKey(toHex(publicKey), pair.privateKey);
  return dhKeyPair(privateKey, publicKey);
}

function refill(s: Subtle): void {
  if (refilling) return;
  refilling = true;
  void (async () => {
    try {
      while (pregenerated.length < PREGENERATED_KEY_PAIRS) {
        const kp = await nativeKeyPair(s);
        if (!kp) return;
        pregenerated.push(kp);
      }
    } catch {
      nativeKeyGenUnavailable = true; // callers use the portable path from now on
    } finally {
      refilling = false;
    }
  })();
}

/**
 * A new X25519 key pair. With the system's secure randomness and WebCrypto X25519, the key
 * is generated natively (faster than noble's public-key computation: docs/BENCHMARKS.md),
 * ahead of time when possible; otherwise (tests, vectors: a seeded `Random`) 32 bytes from
 * `random` are the private key (clamped inside X25519), so results stay reproducible.
 */
export async function generateDhKeyPair(random: Random): Promise<DhPrivate> {
  if (random === secureRandom && subtle && webCryptoUsable !== false && !nativeKeyGenUnavailable) {
    const ready = pregenerated.shift();
    refill(subtle);
    if (ready) return ready;
    try {
      const fresh = await nativeKeyPair(subtle);
      if (fresh) return fresh;
    } catch {
      nativeKeyGenUnavailable = true; // no native X25519 key generation: portable path below
    }
  }
  return dhKeyPair(random.bytes(KEY_BYTES));
}
