/**
 * One error class per failure kind. Every crypto failure is a `CryptoError` with a
 * stable `kind` string (metrics count `crypto.failure` by kind). Messages never carry
 * key material or plaintext.
 *
 * What decryption can report, from the outside in; every check but the last runs before
 * any key is derived (docs/PROTOCOL.md §5.4, §5.5 says what each reveals about tampering):
 *   MalformedMessageError      the bytes are not a message
 *   MalformedHeaderError       the header is not one, whatever our state (length, low-order ratchet key)
 *   DuplicateMessageError      the header names a message key we already used
 *   InvalidHeaderError         the header is well formed but impossible in this session
 *   SkipLimitExceededError     the header needs more than MAX_SKIP message keys derived
 *   AuthenticationFailedError  all of the above passed; the AES-GCM tag did not verify
 */
export type CryptoErrorKind =
  | 'malformed_message'
  | 'malformed_header'
  | 'invalid_header'
  | 'authentication_failed'
  | 'duplicate_message'
  | 'skip_limit_exceeded'
  | 'bad_signature'
  | 'unknown_prekey'
  | 'wrong_identity'
  | 'session_mismatch'
  | 'malformed_state'
  | 'corrupt_state'
  | 'malformed_bundle'
  | 'invalid_key'
  | 'plaintext_too_large'
  | 'sealed_sender_failed'
  | 'malformed_safety_number'
  | 'no_sender_key'
  | 'conflicting_sender_key';

export abstract class CryptoError extends Error {
  abstract readonly kind: CryptoErrorKind;
}

/** Bytes that are not a Petrel message (bad type byte, wrong length). */
export class MalformedMessageError extends CryptoError {
  readonly kind = 'malformed_message';
  override readonly name = 'MalformedMessageError';
}

/**
 * The header is structurally not a header, independent of any session: wrong length, or a
 * ratchet key that is a low-order X25519 point (RFC 7748 §6.1: its DH output is all zero).
 */
export class MalformedHeaderError extends CryptoError {
  readonly kind = 'malformed_header';
  override readonly name = 'MalformedHeaderError';
}

/**
 * A well-formed header that no honest peer can have sent in this session: a new ratchet key
 * before we sent on our current one, PN below what we already received of the previous
 * chain, a message number at or past the announced end of a finished chain, a message on a
 * chain the peer never sent on.
 */
export class InvalidHeaderError extends CryptoError {
  readonly kind = 'invalid_header';
  override readonly name = 'InvalidHeaderError';
}

/**
 * AES-GCM refused the message after every header check passed. The tag covers AD ‖ header ‖
 * ciphertext, so this is what an altered ciphertext or tag gives, and also a header altered
 * into another plausible one (a counter within the skip window, another valid ratchet key):
 * the derived key is then simply a different one. It is equally what a message from another
 * session gives (the messenger tries a contact's sessions in turn) and a replay older than
 * the remembered chains, so it does not by itself prove tampering (PROTOCOL.md §5.5).
 */
export class AuthenticationFailedError extends CryptoError {
  readonly kind = 'authentication_failed';
  override readonly name = 'AuthenticationFailedError';
}

/**
 * The header names a (ratchet key, N) whose message key was already used (or evicted from
 * the skipped keys): a replay, within the current chain or the last MAX_FINISHED_RECEIVING_CHAINS
 * finished ones. Decided from the header before any decryption, so a header altered to name
 * a used key raises this too.
 */
export class DuplicateMessageError extends CryptoError {
  readonly kind = 'duplicate_message';
  override readonly name = 'DuplicateMessageError';
}

/** The header asks to skip more than MAX_SKIP message keys in one chain (its N, or via PN the previous chain). */
export class SkipLimitExceededError extends CryptoError {
  readonly kind = 'skip_limit_exceeded';
  override readonly name = 'SkipLimitExceededError';
}

/** An Ed25519 signature (prekey or auth) does not verify. */
export class BadSignatureError extends CryptoError {
  readonly kind = 'bad_signature';
  override readonly name = 'BadSignatureError';
}

/** A message names a prekey id we do not have (used, expired, or never ours). */
export class UnknownPreKeyError extends CryptoError {
  readonly kind = 'unknown_prekey';
  override readonly name = 'UnknownPreKeyError';
  constructor(
    readonly preKeyKind: 'spk' | 'opk' | 'pq',
    readonly preKeyId: number,
  ) {
    super(`unknown ${preKeyKind} prekey id ${preKeyId}`);
  }
}

/** The identity presented is not the one expected (bundle, session or sealed sender mismatch). */
export class WrongIdentityError extends CryptoError {
  readonly kind = 'wrong_identity';
  override readonly name = 'WrongIdentityError';
}

/** A prekey message starts a different session than the one given (the peer restarted): accept it as new. */
export class SessionMismatchError extends CryptoError {
  readonly kind = 'session_mismatch';
  override readonly name = 'SessionMismatchError';
}

/** Serialised state (session, prekey pool, identity seed) is not valid. */
export class MalformedStateError extends CryptoError {
  readonly kind = 'malformed_state';
  override readonly name = 'MalformedStateError';
}

/**
 * Stored state (session, session set, prekey pool) whose integrity check fails: the bytes
 * changed after they were written (disk or browser storage damage, or someone editing the
 * database). Such a state is never used (STORAGE.md, "Stored state integrity").
 */
export class CorruptStateError extends CryptoError {
  readonly kind = 'corrupt_state';
  override readonly name = 'CorruptStateError';
}

/** A prekey bundle has the wrong shape or sizes. */
export class MalformedBundleError extends CryptoError {
  readonly kind = 'malformed_bundle';
  override readonly name = 'MalformedBundleError';
}

/** A public key is malformed or of low order (DH output would be all zero). */
export class InvalidKeyError extends CryptoError {
  readonly kind = 'invalid_key';
  override readonly name = 'InvalidKeyError';
}

export class PlaintextTooLargeError extends CryptoError {
  readonly kind = 'plaintext_too_large';
  override readonly name = 'PlaintextTooLargeError';
}

/** A sealed-sender box does not open (not for us, altered, or malformed). */
export class SealedSenderError extends CryptoError {
  readonly kind = 'sealed_sender_failed';
  override readonly name = 'SealedSenderError';
}

/** A scanned safety-number payload is not one. */
export class MalformedSafetyNumberError extends CryptoError {
  readonly kind = 'malformed_safety_number';
  override readonly name = 'MalformedSafetyNumberError';
}

/** A group message names a sender chain (chain id) we hold no sender key for: the distribution has not arrived, or the chain is older than the ones kept. */
export class NoSenderKeyError extends CryptoError {
  readonly kind = 'no_sender_key';
  override readonly name = 'NoSenderKeyError';
}

/** A sender-key distribution reuses a chain id we hold under a different signing key: never replaces the held chain. */
export class ConflictingSenderKeyError extends CryptoError {
  readonly kind = 'conflicting_sender_key';
  override readonly name = 'ConflictingSenderKeyError';
}
