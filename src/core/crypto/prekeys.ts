/**
 * Prekeys (Signal PQXDH §3.2 "Publishing keys"): the signed prekey SPK (X25519), the
 * post-quantum prekeys PQPK (ML-KEM-768, signed: a last-resort PQSPK and one-time PQOPKs)
 * and the unsigned one-time prekeys OPK (X25519); the bundle shapes of the shared
 * contract; and bundle verification before PQXDH (§3.3 "Alice verifies the prekey
 * signatures and aborts the protocol if verification fails").
 */
import { bytesEqual, concatBytes } from '../bytes.ts';
import type { Random } from '../random.ts';
import { BadSignatureError, InvalidKeyError, MalformedBundleError, WrongIdentityError } from './errors.ts';
import type { Identity } from './identity.ts';
import { verifySignature } from './identity.ts';
import {
  KEY_BYTES,
  ML_KEM_768_PUBLIC_KEY_BYTES,
  ML_KEM_768_SEED_BYTES,
  PQPK_SIGNATURE_LABEL_BYTES,
  SIGNATURE_BYTES,
  SPK_SIGNATURE_LABEL_BYTES,
} from './limits.ts';
import { montgomeryU, strictEd25519Point, verifyEd25519StrictAsyncAll } from './ed25519-verify.ts';
import { isValidMlKemPublicKey, mlKemDecapsulate, mlKemKeyGen } from './ml-kem.ts';
import { Redacted, SecretBytes } from './redacted.ts';
import { x25519PublicKey, type DhPrivate } from './x25519.ts';

/** An X25519 key pair whose private half never prints. */
export class X25519KeyPair extends Redacted {
  protected readonly redactedLabel = 'X25519KeyPair';
  readonly #privateKey: Uint8Array;
  readonly #dh: DhPrivate;
  readonly publicKey: Uint8Array;

  private constructor(privateKey: Uint8Array, publicKey: Uint8Array) {
    super();
    this.#privateKey = privateKey;
    this.publicKey = publicKey;
    this.#dh = { privateKey: new SecretBytes(privateKey), publicKey };
  }

  static fromPrivate(privateKey: Uint8Array, publicKey?: Uint8Array): X25519KeyPair {
    if (privateKey.length !== KEY_BYTES) throw new InvalidKeyError('X25519 private key must be 32 bytes');
    return new X25519KeyPair(privateKey.slice(), publicKey ? publicKey.slice() : x25519PublicKey(privateKey));
  }

  /** 32 bytes from `random` are the private key (RFC 7748 §5: clamping happens inside X25519). */
  static generate(random: Random): X25519KeyPair {
    const priv = random.bytes(KEY_BYTES);
    return new X25519KeyPair(priv, x25519PublicKey(priv));
  }

  /** The pair for X25519; its private half prints redacted. */
  dhPrivate(): DhPrivate {
    return this.#dh;
  }

  exportPrivate(): Uint8Array {
    return this.#privateKey.slice();
  }
}

/** An ML-KEM-768 key pair kept as its 64-byte generation seed (d ‖ z, FIPS 203 §7.1). */
export class MlKemKeyPair extends Redacted {
  protected readonly redactedLabel = 'MlKemKeyPair';
  readonly #seed: Uint8Array;
  #secretKey: Uint8Array | undefined;
  readonly publicKey: Uint8Array;

  private constructor(seed: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array | undefined) {
    super();
    this.#seed = seed;
    this.publicKey = publicKey;
    this.#secretKey = secretKey;
  }

  static fromSeed(seed: Uint8Array, publicKey?: Uint8Array): MlKemKeyPair {
    if (seed.length !== ML_KEM_768_SEED_BYTES) throw new InvalidKeyError('ML-KEM seed must be 64 bytes');
    if (publicKey) return new MlKemKeyPair(seed.slice(), publicKey.slice(), undefined);
    const kp = mlKemKeyGen(seed);
    return new MlKemKeyPair(seed.slice(), kp.publicKey, kp.secretKey);
  }

  static generate(random: Random): MlKemKeyPair {
    return MlKemKeyPair.fromSeed(random.bytes(ML_KEM_768_SEED_BYTES));
  }

  /**
   * ML-KEM.Decaps (FIPS 203 §7.3): implicit rejection, so an altered ciphertext yields an
   * unrelated secret; MalformedMessageError for one of the wrong length.
   */
  decapsulate(cipherText: Uint8Array): Promise<Uint8Array> {
    if (!this.#secretKey) this.#secretKey = mlKemKeyGen(this.#seed).secretKey;
    return mlKemDecapsulate(this.#secretKey, cipherText);
  }

  exportSeed(): Uint8Array {
    return this.#seed.slice();
  }
}

export interface SignedPreKey {
  readonly id: number;
  readonly keyPair: X25519KeyPair;
  /** Ed25519(IK, "Petrel_SPK" ‖ pub). */
  readonly signature: Uint8Array;
}

export interface OneTimePreKey {
  readonly id: number;
  readonly keyPair: X25519KeyPair;
}

export interface PqPreKey {
  readonly id: number;
  readonly keyPair: MlKemKeyPair;
  /** Ed25519(IK, "Petrel_PQPK" ‖ pub). */
  readonly signature: Uint8Array;
  /** The signed last-resort PQSPK (reused until rotated), or a one-time PQOPK. */
  readonly lastResort: boolean;
}

// ---- Bundles (shared contract) --------------------------------------------------------

export interface SignedPublicPreKey {
  readonly id: number;
  readonly pub: Uint8Array;
  readonly sig: Uint8Array;
}
export interface PublicOneTimePreKey {
  readonly id: number;
  readonly pub: Uint8Array;
}

/** What a client uploads (`prekeys.publish`) and what the relay hands out (`prekeys.bundle`): the wire module's shapes. */
export type { PublishedBundle, FetchedBundle } from '../wire/index.ts';

import type { FetchedBundle, PublishedBundle } from '../wire/index.ts';

declare const verifiedBrand: unique symbol;
/**
 * A fetched bundle whose signatures verified: the only input `initiateSession` accepts.
 * `ikX25519` is the X25519 form of `ik` (PQXDH's DH2), computed from the point the strict
 * key check already decoded, so PQXDH does not decode `ik` a second time.
 */
export type VerifiedBundle = FetchedBundle & { readonly ikX25519: Uint8Array; readonly [verifiedBrand]: true };

export function signSignedPreKey(identity: Identity, pub: Uint8Array): Uint8Array {
  return identity.sign(concatBytes(SPK_SIGNATURE_LABEL_BYTES, pub));
}

export function signPqPreKey(identity: Identity, pub: Uint8Array): Uint8Array {
  return identity.sign(concatBytes(PQPK_SIGNATURE_LABEL_BYTES, pub));
}

export function verifySignedPreKeySignature(ik: Uint8Array, pub: Uint8Array, sig: Uint8Array): boolean {
  return verifySignature(ik, concatBytes(SPK_SIGNATURE_LABEL_BYTES, pub), sig);
}

export function verifyPqPreKeySignature(ik: Uint8Array, pub: Uint8Array, sig: Uint8Array): boolean {
  return verifySignature(ik, concatBytes(PQPK_SIGNATURE_LABEL_BYTES, pub), sig);
}

export function generateSignedPreKey(identity: Identity, id: number, random: Random): SignedPreKey {
  const keyPair = X25519KeyPair.generate(random);
  return { id, keyPair, signature: signSignedPreKey(identity, keyPair.publicKey) };
}

export function generateOneTimePreKey(id: number, random: Random): OneTimePreKey {
  return { id, keyPair: X25519KeyPair.generate(random) };
}

export function generatePqPreKey(identity: Identity, id: number, random: Random, lastResort: boolean): PqPreKey {
  const keyPair = MlKemKeyPair.generate(random);
  return { id, keyPair, signature: signPqPreKey(identity, keyPair.publicKey), lastResort };
}

const isUint32 = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
const isBytes = (b: unknown, len: number): b is Uint8Array => b instanceof Uint8Array && b.length === len;

/**
 * Checks shape, sizes and both signatures (SPK and the PQ key) of a fetched bundle, the
 * signatures by the strict rule through the platform's native Ed25519 where it has one
 * (`verifyEd25519StrictAsyncAll`: most of a session setup's time went to verifying these two
 * in JavaScript; the key is imported once for both). With `expectedIdentity`, also refuses a bundle for another identity
 * (WrongIdentityError).
 */
export async function verifyFetchedBundle(bundle: FetchedBundle, expectedIdentity?: Uint8Array): Promise<VerifiedBundle> {
  const b = bundle as unknown as Record<string, unknown> & FetchedBundle;
  if (typeof b !== 'object' || b === null) throw new MalformedBundleError('bundle is not an object');
  if (!isBytes(b.ik, KEY_BYTES)) throw new MalformedBundleError('ik must be 32 bytes');
  const ikPoint = strictEd25519Point(b.ik);
  if (!ikPoint) throw new MalformedBundleError('ik is not a usable identity key (non-canonical or small order)');
  const spk = b.spk as Partial<SignedPublicPreKey> | undefined;
  if (!spk || !isUint32(spk.id) || !isBytes(spk.pub, KEY_BYTES) || !isBytes(spk.sig, SIGNATURE_BYTES)) throw new MalformedBundleError('bad spk');
  const pq = b.pq as Partial<FetchedBundle['pq']> | undefined;
  if (!pq || !isUint32(pq.id) || !isBytes(pq.pub, ML_KEM_768_PUBLIC_KEY_BYTES) || !isBytes(pq.sig, SIGNATURE_BYTES) || typeof pq.lastResort !== 'boolean') {
    throw new MalformedBundleError('bad pq prekey');
  }
  if (!isValidMlKemPublicKey(pq.pub)) throw new MalformedBundleError('pq prekey fails the ML-KEM modulus check (FIPS 203 §7.2)');
  const opk = b.opk as Partial<PublicOneTimePreKey> | undefined;
  if (opk !== undefined && (!isUint32(opk.id) || !isBytes(opk.pub, KEY_BYTES))) throw new MalformedBundleError('bad opk');
  if (expectedIdentity && !bytesEqual(expectedIdentity, b.ik)) throw new WrongIdentityError('bundle is for another identity');
  const [spkOk, pqOk] = await verifyEd25519StrictAsyncAll(b.ik, [
    { message: concatBytes(SPK_SIGNATURE_LABEL_BYTES, spk.pub), signature: spk.sig },
    { message: concatBytes(PQPK_SIGNATURE_LABEL_BYTES, pq.pub), signature: pq.sig },
  ]);
  if (!spkOk) throw new BadSignatureError('signed prekey signature does not verify');
  if (!pqOk) throw new BadSignatureError('PQ prekey signature does not verify');
  return { ...bundle, ikX25519: montgomeryU(ikPoint) } as VerifiedBundle;
}

/** Checks every signature of a published bundle (what a relay or test may check before storing it). */
export function verifyPublishedBundle(bundle: PublishedBundle): boolean {
  if (!verifySignedPreKeySignature(bundle.ik, bundle.spk.pub, bundle.spk.sig)) return false;
  if (!verifyPqPreKeySignature(bundle.ik, bundle.pqspk.pub, bundle.pqspk.sig)) return false;
  return bundle.pqopks.every((k) => verifyPqPreKeySignature(bundle.ik, k.pub, k.sig));
}
