/**
 * One error class per failure kind. Every crypto failure is a `CryptoError` with a
 * stable `kind` string (metrics count `crypto.failure` by kind). Messages never carry
 * key material or plaintext.
 */
export type CryptoErrorKind =
  | 'malformed_message'
  | 'invalid_header'
  | 'authentication_failed'
  | 'duplicate_message'
  | 'skip_limit_exceeded'
  | 'bad_signature'
  | 'unknown_prekey'
  | 'wrong_identity'
  | 'session_mismatch'
  | 'malformed_state'
  | 'malformed_bundle'
  | 'invalid_key'
  | 'plaintext_too_large'
  | 'sealed_sender_failed'
  | 'malformed_safety_number';

export abstract class CryptoError extends Error {
  abstract readonly kind: CryptoErrorKind;
}

/** Bytes that are not a Petrel message (bad type byte, wrong length). */
export class MalformedMessageError extends CryptoError {
  readonly kind = 'malformed_message';
  override readonly name = 'MalformedMessageError';
}

/** A header no honest peer can have produced (bad ratchet key, impossible counters). */
export class InvalidHeaderError extends CryptoError {
  readonly kind = 'invalid_header';
  override readonly name = 'InvalidHeaderError';
}

/** AES-GCM refused the message: ciphertext, tag, header or associated data altered (or wrong keys). */
export class AuthenticationFailedError extends CryptoError {
  readonly kind = 'authentication_failed';
  override readonly name = 'AuthenticationFailedError';
}

/** The message key for this (ratchet key, N) was already used (or evicted): a replay. */
export class DuplicateMessageError extends CryptoError {
  readonly kind = 'duplicate_message';
  override readonly name = 'DuplicateMessageError';
}

/** The header asks to skip more than MAX_SKIP message keys in one chain. */
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
