/**
 * Typed store failures. Every operation either commits all of its writes or none and
 * rejects with one of these; nothing else escapes the store.
 */
export type StoreErrorKind =
  | 'concurrent_modification'
  | 'invalid_input'
  | 'not_found'
  | 'invalid_transition'
  | 'quota_exceeded'
  | 'blocked'
  | 'closed'
  | 'version_changed'
  | 'storage_failure';

export abstract class StoreError extends Error {
  abstract readonly kind: StoreErrorKind;
}

/** The session changed since the caller read it (another writer advanced the ratchet). Nothing was written. */
export class ConcurrentModificationError extends StoreError {
  readonly kind = 'concurrent_modification';
  constructor(
    readonly contactId: string,
    readonly expectedVersion: number | null,
    readonly actualVersion: number | null,
  ) {
    super(`session ${contactId.slice(0, 8)}… is at version ${actualVersion ?? 'none'}, expected ${expectedVersion ?? 'none'}`);
    this.name = 'ConcurrentModificationError';
  }
}

/** The caller passed something malformed (bad id, wrong type, over a limit). Nothing was written. */
export class InvalidStoreInputError extends StoreError {
  readonly kind = 'invalid_input';
  constructor(readonly field: string, reason: string) {
    super(`invalid ${field}: ${reason}`);
    this.name = 'InvalidStoreInputError';
  }
}

export class RecordNotFoundError extends StoreError {
  readonly kind = 'not_found';
  constructor(readonly store: string, readonly id: string) {
    super(`no ${store} record ${id}`);
    this.name = 'RecordNotFoundError';
  }
}

/** A state change the record's current state does not allow (e.g. retrying a message that did not fail). */
export class InvalidTransitionError extends StoreError {
  readonly kind = 'invalid_transition';
  constructor(readonly id: string, readonly from: string, readonly to: string) {
    super(`cannot move ${id} from ${from} to ${to}`);
    this.name = 'InvalidTransitionError';
  }
}

/** The browser refused to store more (`QuotaExceededError`). */
export class StorageQuotaExceededError extends StoreError {
  readonly kind = 'quota_exceeded';
  constructor(options?: { cause?: unknown }) {
    super('storage quota exceeded', options);
    this.name = 'StorageQuotaExceededError';
  }
}

/** Another tab holds an older version of the database open, so it cannot be opened or upgraded. */
export class StorageBlockedError extends StoreError {
  readonly kind = 'blocked';
  constructor() {
    super('database blocked by another tab');
    this.name = 'StorageBlockedError';
  }
}

/** The connection is closed (by us, or abnormally by the browser); the operation did not run or was rolled back. */
export class StorageClosedError extends StoreError {
  readonly kind = 'closed';
  constructor(options?: { cause?: unknown }) {
    super('storage closed', options);
    this.name = 'StorageClosedError';
  }
}

/** Another tab upgraded the schema; this tab closed its connection and must reload. */
export class StorageVersionChangedError extends StoreError {
  readonly kind = 'version_changed';
  constructor() {
    super('database version changed by another tab');
    this.name = 'StorageVersionChangedError';
  }
}

/** Any other storage failure (the transaction was rolled back). */
export class StorageFailureError extends StoreError {
  readonly kind = 'storage_failure';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageFailureError';
  }
}
