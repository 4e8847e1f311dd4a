/**
 * One error class per way a backup can fail to open (docs/PROTOCOL.md §16), each with a
 * stable `kind` for metrics and the UI. Messages never carry key material or plaintext.
 * In the order the reader checks:
 *
 *   BackupMalformedError       not a Petrel backup (magic), a header field out of range, an unknown KDF
 *   BackupVersionError         a backup format version this build does not read
 *   BackupWrongKeyError        the key check does not match: another recovery key or passphrase (or an altered header)
 *   BackupTruncatedError       the bytes end before the record sealed as the last one
 *   BackupTamperedError        a record does not authenticate under its place in the stream
 *   BackupExtendedError        bytes after the last record that are not its zero padding
 *   BackupContentError         a record authenticates but is not a valid link record, or the import refuses it
 *   BackupNotFoundError        the relay keeps no backup under this recovery key
 *   RecoveryKeyError           a recovery key that does not parse or whose check group does not match (a typo)
 */
export type BackupErrorKind = 'malformed' | 'unknown_version' | 'wrong_key' | 'truncated' | 'tampered' | 'extended' | 'invalid_content' | 'bad_recovery_key' | 'not_found';

export abstract class BackupError extends Error {
  abstract readonly kind: BackupErrorKind;
}

export class BackupMalformedError extends BackupError {
  readonly kind = 'malformed';
  override readonly name = 'BackupMalformedError';
}

export class BackupVersionError extends BackupError {
  readonly kind = 'unknown_version';
  override readonly name = 'BackupVersionError';
  constructor(readonly version: number) {
    super(`backup format version ${version} is not one this version of Petrel reads`);
  }
}

export class BackupWrongKeyError extends BackupError {
  readonly kind = 'wrong_key';
  override readonly name = 'BackupWrongKeyError';
}

export class BackupTruncatedError extends BackupError {
  readonly kind = 'truncated';
  override readonly name = 'BackupTruncatedError';
}

export class BackupTamperedError extends BackupError {
  readonly kind = 'tampered';
  override readonly name = 'BackupTamperedError';
  constructor(readonly position: number) {
    super(`backup record ${position} does not authenticate: altered`);
  }
}

export class BackupExtendedError extends BackupError {
  readonly kind = 'extended';
  override readonly name = 'BackupExtendedError';
}

export class BackupContentError extends BackupError {
  readonly kind = 'invalid_content';
  override readonly name = 'BackupContentError';
}

export class RecoveryKeyError extends BackupError {
  readonly kind = 'bad_recovery_key';
  override readonly name = 'RecoveryKeyError';
}

export class BackupNotFoundError extends BackupError {
  readonly kind = 'not_found';
  override readonly name = 'BackupNotFoundError';
}
