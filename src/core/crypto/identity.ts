/**
 * Identity key IK: an Ed25519 key pair from a 32-byte seed (RFC 8032 §5.1.5), and its
 * X25519 form for PQXDH's DH1/DH2 by the birational map (libsodium's
 * crypto_sign_ed25519_{pk,sk}_to_curve25519; @noble/curves `ed25519.utils.toMontgomery` /
 * `toMontgomerySecret`).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesEqual, concatBytes } from '../bytes.ts';
import type { Random } from '../random.ts';
import { InvalidKeyError, MalformedStateError } from './errors.ts';
import { KEY_BYTES, RELAY_AUTH_LABEL_BYTES, SIGNATURE_BYTES } from './limits.ts';
import { isStrictEd25519PublicKey, montgomeryU, strictEd25519Point, verifyEd25519Strict } from './ed25519-verify.ts';
import { Redacted, SecretBytes } from './redacted.ts';
import type { DhPrivate } from './x25519.ts';

export class Identity extends Redacted {
  protected readonly redactedLabel = 'Identity';
  readonly #seed: Uint8Array;
  readonly #dh: DhPrivate;
  /** Ed25519 public key, 32 raw bytes: what everyone else knows us by. */
  readonly publicKey: Uint8Array;
  /** X25519 form of `publicKey`. */
  readonly x25519PublicKey: Uint8Array;

  /** Use `identityFromSeed`. */
  constructor(seed: Uint8Array) {
    super();
    if (seed.length !== KEY_BYTES) throw new InvalidKeyError('identity seed must be 32 bytes');
    this.#seed = seed.slice();
    this.publicKey = ed25519.getPublicKey(this.#seed);
    this.x25519PublicKey = ed25519.utils.toMontgomery(this.publicKey);
    // Clamped scalar: SHA-512(seed)[0..32) with bits 0-2 and 255 cleared and bit 254 set (RFC 7748 §5).
    this.#dh = { privateKey: new SecretBytes(ed25519.utils.toMontgomerySecret(this.#seed)), publicKey: this.x25519PublicKey };
  }

  /** Ed25519 signature over `message` (deterministic, RFC 8032 §5.1.6). */
  sign(message: Uint8Array): Uint8Array {
    return ed25519.sign(message, this.#seed);
  }

  /** The identity's X25519 key pair for DH (PQXDH DH1 for the initiator, DH2 for the responder); its private half prints redacted. */
  dhPrivate(): DhPrivate {
    return this.#dh;
  }

  /** The 32-byte seed, to persist. Handle as a secret. */
  exportSeed(): Uint8Array {
    return this.#seed.slice();
  }
}

export function identityFromSeed(seed: Uint8Array): Identity {
  return new Identity(seed);
}

export function generateIdentity(random: Random): Identity {
  return new Identity(random.bytes(KEY_BYTES));
}

/** Where the identity seed is persisted (the IndexedDB adapter implements it in src/platform). */
export interface IdentitySeedStore {
  load(): Promise<Uint8Array | undefined>;
  save(seed: Uint8Array): Promise<void>;
}

/** Loads the persisted identity, or creates and saves one on first start. */
export async function loadOrCreateIdentity(store: IdentitySeedStore, random: Random): Promise<{ identity: Identity; created: boolean }> {
  const seed = await store.load();
  if (seed !== undefined) {
    if (seed.length !== KEY_BYTES) throw new MalformedStateError('stored identity seed is not 32 bytes');
    return { identity: identityFromSeed(seed), created: false };
  }
  const identity = generateIdentity(random);
  await store.save(identity.exportSeed());
  return { identity, created: true };
}

/**
 * Ed25519 verification by Petrel's strict rule (RFC 8032 §5.1.7, canonical encodings,
 * cofactorless, small-order keys refused: ./ed25519-verify.ts); false for malformed keys or
 * signatures.
 */
export function verifySignature(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== KEY_BYTES || signature.length !== SIGNATURE_BYTES) return false;
  return verifyEd25519Strict(publicKey, message, signature);
}

/** Can `identityPublic` be someone's identity key (a canonical, not small-order Ed25519 point)? */
export function isValidIdentityKey(identityPublic: Uint8Array): boolean {
  return isStrictEd25519PublicKey(identityPublic);
}

/**
 * X25519 form of someone's Ed25519 identity public key. Throws InvalidKeyError for a key
 * that cannot be an identity: not a canonical point, or one of small order.
 */
export function identityX25519Public(identityPublic: Uint8Array): Uint8Array {
  if (identityPublic.length !== KEY_BYTES) throw new InvalidKeyError('identity key must be 32 bytes');
  const point = strictEd25519Point(identityPublic);
  if (!point) throw new InvalidKeyError('identity key is not a canonical Ed25519 point of large order');
  return montgomeryU(point); // the point decoded once: the strict check's decoding serves the map too
}

/**
 * Is `presented` (an Ed25519 identity public key: a bundle's `ik`, `unseal`'s
 * `senderIdentityPublic`, `acceptSession`'s `senderIdentity`, an invite's key) the identity
 * we already trust for this contact (`known`, undefined for a first contact)? 'changed' must
 * never be accepted silently: the caller marks the contact as key-changed and blocks sending
 * until the user acknowledges it. InvalidKeyError when either key is not 32 bytes, so a
 * malformed key is never taken for a new contact.
 */
export function compareContactIdentity(known: Uint8Array | undefined, presented: Uint8Array): 'new' | 'same' | 'changed' {
  if (!(presented instanceof Uint8Array) || presented.length !== KEY_BYTES) throw new InvalidKeyError('presented identity key must be 32 bytes');
  if (known === undefined) return 'new';
  if (!(known instanceof Uint8Array) || known.length !== KEY_BYTES) throw new InvalidKeyError('known identity key must be 32 bytes');
  return bytesEqual(known, presented) ? 'same' : 'changed';
}

/** Mailbox address (shared contract) = SHA-256("Petrel_Mailbox" ‖ IK_pub); defined once, in the wire module. */
export { mailboxAddress } from '../wire/index.ts';

/** The answer to a relay's auth challenge: Ed25519(IK, "Petrel_Auth" ‖ nonce). */
export function signRelayChallenge(identity: Identity, nonce: Uint8Array): Uint8Array {
  return identity.sign(concatBytes(RELAY_AUTH_LABEL_BYTES, nonce));
}

export function verifyRelayChallenge(identityPublic: Uint8Array, nonce: Uint8Array, signature: Uint8Array): boolean {
  return verifySignature(identityPublic, concatBytes(RELAY_AUTH_LABEL_BYTES, nonce), signature);
}
