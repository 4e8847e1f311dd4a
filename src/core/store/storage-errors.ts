/**
 * Maps whatever a storage engine threw to a `StoreError`, and tells the health state
 * about the failures the UI must show. Engines raise `DOMException`s by name
 * (IndexedDB 3.0 §4 "exceptions"); errors that already are `StoreError`s pass through.
 */
import { StorageClosedError, StorageFailureError, StorageQuotaExceededError, StoreError } from './errors.ts';
import type { StorageHealth } from './storage-health.ts';

function errorName(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'name' in e && typeof (e as { name: unknown }).name === 'string' ? (e as { name: string }).name : undefined;
}

export function toStoreError(e: unknown, health: StorageHealth): StoreError {
  if (e instanceof StoreError) {
    if (e.kind === 'quota_exceeded') health.set('quota_exceeded');
    return e;
  }
  switch (errorName(e)) {
    case 'QuotaExceededError':
      health.set('quota_exceeded');
      return new StorageQuotaExceededError({ cause: e });
    case 'InvalidStateError':
    case 'AbortError':
    case 'TransactionInactiveError':
      // A transaction on a closing/closed connection, or one rolled back under us
      // (what a connection dropped by the browser does to its open transactions).
      return new StorageClosedError({ cause: e });
    default:
      return new StorageFailureError(e instanceof Error ? e.message : 'storage failure', { cause: e });
  }
}
