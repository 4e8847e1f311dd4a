/**
 * One sender chain of a group (Signal's sender key): a chain id, a chain key ratcheted
 * once per message (KDF_CK of the Double Ratchet: HMAC-SHA-256 with 0x01 for the message
 * key and 0x02 for the next chain key), and an Ed25519 signing key whose public half every
 * member holds. The sender keeps the signing seed; receivers keep the public key and the
 * message keys they skipped (out-of-order arrival), bounded.
 *
 * Immutable: every step returns a new state, so a failure anywhere leaves the caller's
 * stored state as it was.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import type { Random } from '../random.ts';
import { kdfChainKey } from '../crypto/chain-key.ts';
import { InvalidKeyError } from '../crypto/errors.ts';
import { KEY_BYTES } from '../crypto/limits.ts';
import { SecretBytes } from '../crypto/redacted.ts';
import { MAX_STORED_SENDER_MESSAGE_KEYS } from './limits.ts';

export interface SenderKeyState {
  /** Random 32-bit id of this chain (a sender's chains in one group differ by it). */
  readonly chainId: number;
  /** The iteration the chain key is at: the next message key derived is this one's. */
  readonly iteration: number;
  readonly chainKey: SecretBytes;
  /** Ed25519 public key that signs this chain's messages. */
  readonly signingPublic: Uint8Array;
  /** The signing key's 32-byte seed: only on the sender's own state. */
  readonly signingSeed?: SecretBytes;
  /** Message keys skipped over, by iteration, oldest first (at most MAX_STORED_SENDER_MESSAGE_KEYS). */
  readonly skipped: ReadonlyMap<number, SecretBytes>;
  /** When the sender made this chain (ms); receivers keep 0. Drives the 7-day rotation. */
  readonly createdAt: number;
}

/** A new chain for ourselves: random chain id, chain key and signing key. */
export function createSenderKeyState(random: Random, now: number): SenderKeyState {
  const idBytes = random.bytes(4);
  const chainId = ((idBytes[0]! << 24) | (idBytes[1]! << 16) | (idBytes[2]! << 8) | idBytes[3]!) >>> 0;
  const signingSeed = random.bytes(KEY_BYTES);
  return {
    chainId,
    iteration: 0,
    chainKey: new SecretBytes(random.bytes(KEY_BYTES)),
    signingPublic: ed25519.getPublicKey(signingSeed),
    signingSeed: new SecretBytes(signingSeed),
    skipped: new Map(),
    createdAt: now,
  };
}

/** A receiver's state for a chain someone distributed to us. */
export function receivedSenderKeyState(chainId: number, iteration: number, chainKey: Uint8Array, signingPublic: Uint8Array): SenderKeyState {
  if (chainKey.length !== KEY_BYTES || signingPublic.length !== KEY_BYTES) throw new InvalidKeyError('sender key and signing key must be 32 bytes');
  return { chainId, iteration, chainKey: new SecretBytes(chainKey.slice()), signingPublic: signingPublic.slice(), skipped: new Map(), createdAt: 0 };
}

/** The message key of the current iteration, and the state one step on. */
export function nextMessageKey(state: SenderKeyState): { messageKey: SecretBytes; iteration: number; state: SenderKeyState } {
  const { messageKey, chainKey } = kdfChainKey(state.chainKey);
  return { messageKey, iteration: state.iteration, state: { ...state, chainKey, iteration: state.iteration + 1 } };
}

/**
 * Steps the chain up to `iteration` (exclusive), keeping the message keys passed over,
 * and returns the key of `iteration` itself. The caller checks the jump limit first.
 */
export function messageKeyAt(state: SenderKeyState, iteration: number): { messageKey: SecretBytes; state: SenderKeyState } {
  let s = state;
  const skipped = new Map(state.skipped);
  while (s.iteration < iteration) {
    const step = nextMessageKey(s);
    skipped.set(step.iteration, step.messageKey);
    s = step.state;
  }
  const step = nextMessageKey(s);
  while (skipped.size > MAX_STORED_SENDER_MESSAGE_KEYS) skipped.delete(skipped.keys().next().value!);
  return { messageKey: step.messageKey, state: { ...step.state, skipped } };
}

/** Takes the skipped key of `iteration` out of the state, or undefined when it was never skipped (used, or dropped). */
export function takeSkippedKey(state: SenderKeyState, iteration: number): { messageKey: SecretBytes; state: SenderKeyState } | undefined {
  const key = state.skipped.get(iteration);
  if (!key) return undefined;
  const skipped = new Map(state.skipped);
  skipped.delete(iteration);
  return { messageKey: key, state: { ...state, skipped } };
}
