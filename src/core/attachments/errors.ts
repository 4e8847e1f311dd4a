/**
 * One error class per way an attachment can fail to encrypt or decrypt, each with a stable
 * `kind` (metrics count `attachment.failure` by kind). Messages never carry key material or
 * plaintext. What the decryptor reports, in the order it checks (docs/PROTOCOL.md §14.4):
 *
 *   AttachmentTooLargeError      the declared size is over MAX_ATTACHMENT_PLAINTEXT_BYTES (checked before any work)
 *   AttachmentMalformedError     not a Petrel attachment (magic), or a descriptor field of the wrong length
 *   AttachmentWrongKeyError      the header's key check does not match this key (another file, or another key)
 *   AttachmentOutOfOrderError    a record authenticates, but under another record's counter (records reordered or swapped)
 *   AttachmentTruncatedError     the stream ends early, or a record authenticates only with the wrong "last" flag
 *   AttachmentTamperedError      a record authenticates under no counter: its bytes were altered
 *   AttachmentExtendedError      bytes beyond the blob length, or padding that is not all zero
 *   AttachmentDigestMismatchError the blob digest (SHA-256 over its 1 MiB segments) is not the one in the descriptor
 *   AttachmentSizeMismatchError  (encryption) the source gave more or fewer bytes than declared
 */
export type AttachmentErrorKind =
  | 'too_large'
  | 'malformed'
  | 'wrong_key'
  | 'out_of_order'
  | 'truncated'
  | 'tampered'
  | 'extended'
  | 'digest_mismatch'
  | 'size_mismatch';

export abstract class AttachmentError extends Error {
  abstract readonly kind: AttachmentErrorKind;
}

export class AttachmentTooLargeError extends AttachmentError {
  readonly kind = 'too_large';
  override readonly name = 'AttachmentTooLargeError';
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`attachment of ${size} bytes is over the limit of ${limit} bytes (${Math.floor(limit / (1024 * 1024))} MiB)`);
  }
}

export class AttachmentMalformedError extends AttachmentError {
  readonly kind = 'malformed';
  override readonly name = 'AttachmentMalformedError';
}

export class AttachmentWrongKeyError extends AttachmentError {
  readonly kind = 'wrong_key';
  override readonly name = 'AttachmentWrongKeyError';
}

/** Record `position` of the blob is record `belongsAt` of the file. */
export class AttachmentOutOfOrderError extends AttachmentError {
  readonly kind = 'out_of_order';
  override readonly name = 'AttachmentOutOfOrderError';
  constructor(
    readonly position: number,
    readonly belongsAt: number,
  ) {
    super(`attachment record ${position} is record ${belongsAt}: records reordered or swapped`);
  }
}

export class AttachmentTruncatedError extends AttachmentError {
  readonly kind = 'truncated';
  override readonly name = 'AttachmentTruncatedError';
}

export class AttachmentTamperedError extends AttachmentError {
  readonly kind = 'tampered';
  override readonly name = 'AttachmentTamperedError';
  constructor(readonly position: number) {
    super(`attachment record ${position} does not authenticate: altered`);
  }
}

export class AttachmentExtendedError extends AttachmentError {
  readonly kind = 'extended';
  override readonly name = 'AttachmentExtendedError';
}

export class AttachmentDigestMismatchError extends AttachmentError {
  readonly kind = 'digest_mismatch';
  override readonly name = 'AttachmentDigestMismatchError';
}

export class AttachmentSizeMismatchError extends AttachmentError {
  readonly kind = 'size_mismatch';
  override readonly name = 'AttachmentSizeMismatchError';
}
