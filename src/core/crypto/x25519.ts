/**
 * X25519 (RFC 7748 §5) Diffie-Hellman. WebCrypto's native X25519 (Node 20, Chromium 133+)
 * is used when the runtime has it: ~135 µs per DH including key import versus ~780 µs for
 * @noble/curves' BigInt ladder on the same machine. Runtimes without it fall back to noble.
 * Outputs are identical (RFC 7748 vectors in tests/crypto/primitives.test.ts).
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { fromBase64Url, toBase64Url, toHex } from '../bytes.ts';
import { secureRandom, type Random } from '../random.ts';
import { InvalidKeyError } from './errors.ts';
import { KEY_BYTES } from './limits.ts';

/** Our side of a DH: the private scalar bytes and the matching public key. */
export interface DhPrivate {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** WebCrypto's SubtleCrypto (the core is type-checked without the DOM library). */
type Subtle = typeof globalThis.crypto.subtle;
type Key = Awaited<ReturnType<Subtle['importKey']>>;
const subtle: Subtle | undefined = globalThis.crypto?.subtle;
let webCryptoUsable: boolean | undefined = subtle ? undefined : false;

/**
 * Imported private CryptoKeys of our recent key pairs, by public key (LRU, at most
 * PRIVATE_KEY_CACHE_SIZE). A ratchet key is used for two DHs (the sending step and the
 * next receiving step) and the identity key for every sealed-sender open: re-importing
 * costs ~40 µs each time. Only non-extractable handles of keys we hold are kept, in
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

function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < b.length; i++) acc |= b[i]!;
  return acc === 0;
}

function nobleDh(ours: DhPrivate, theirPublic: Uint8Array): Uint8Array {
  try {
    return x25519.getSharedSecret(ours.privateKey, theirPublic);
  } catch {
    throw new InvalidKeyError('X25519 with a low-order or invalid public key');
  }
}

async function webCryptoDh(s: Subtle, ours: DhPrivate, theirPublic: Uint8Array): Promise<Uint8Array> {
  const cached = cachedPrivateKey(ours.publicKey);
  let priv = cached.key;
  if (!priv) {
    const jwk = { kty: 'OKP', crv: 'X25519', d: toBase64Url(ours.privateKey), x: toBase64Url(ours.publicKey) };
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
 * X25519(ours.privateKey, theirPublic). Refuses a peer key that yields the all-zero output
 * (RFC 7748 §6.1 "check whether the output is the all-zero value and abort if so").
 */
export async function x25519Dh(ours: DhPrivate, theirPublic: Uint8Array): Promise<Uint8Array> {
  if (theirPublic.length !== KEY_BYTES) throw new InvalidKeyError('X25519 public key must be 32 bytes');
  if (webCryptoUsable !== false && subtle) {
    try {
      const out = await webCryptoDh(subtle, ours, theirPublic);
      webCryptoUsable = true;
      if (isAllZero(out)) throw new InvalidKeyError('X25519 output is all zero');
      return out;
    } catch (e) {
      if (e instanceof InvalidKeyError) throw e;
      // Either the runtime lacks X25519 or it refused this key (low order): noble decides
      // which (it throws InvalidKeyError for a bad key) and gives the same answer for valid keys.
      const out = nobleDh(ours, theirPublic);
      if (webCryptoUsable === undefined) webCryptoUsable = false;
      if (isAllZero(out)) throw new InvalidKeyError('X25519 output is all zero');
      return out;
    }
  }
  const out = nobleDh(ours, theirPublic);
  if (isAllZero(out)) throw new InvalidKeyError('X25519 output is all zero');
  return out;
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
  const out = { privateKey: fromBase64Url(jwk.d), publicKey: fromBase64Url(jwk.x) };
  if (out.privateKey.length !== KEY_BYTES || out.publicKey.length !== KEY_BYTES) return undefined;
  rememberPrivateKey(toHex(out.publicKey), pair.privateKey);
  return out;
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
 * is generated natively (~90 µs versus ~240 µs for noble's public-key computation), ahead
 * of time when possible; otherwise (tests, vectors: a seeded `Random`) 32 bytes from
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
  const privateKey = random.bytes(KEY_BYTES);
  return { privateKey, publicKey: x25519PublicKey(privateKey) };
}
