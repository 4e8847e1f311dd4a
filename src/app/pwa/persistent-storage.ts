/**
 * Persistent storage keeps the browser from evicting Petrel's IndexedDB (identity
 * keys, sessions, queued messages) under storage pressure. Chromium decides without a
 * prompt (installed apps and engaged sites get it); Firefox asks the user, so request
 * it at a moment the user understands, e.g. right after the identity is created.
 */

/** persisted: eviction-proof. best-effort: may be evicted. unsupported: no StorageManager. */
export type StoragePersistence = 'persisted' | 'best-effort' | 'unsupported';

/** The part of `navigator.storage` used here (injected in tests). */
export interface PersistableStorage {
  persisted?: () => Promise<boolean>;
  persist?: () => Promise<boolean>;
}

const browserStorage = (): PersistableStorage | null => (typeof navigator === 'undefined' ? null : (navigator.storage ?? null));

/** The current state, without asking the user anything (for diagnostics). */
export async function getStoragePersistence(storage: PersistableStorage | null = browserStorage()): Promise<StoragePersistence> {
  if (!storage?.persisted) return 'unsupported';
  try {
    return (await storage.persisted()) ? 'persisted' : 'best-effort';
  } catch {
    return 'best-effort';
  }
}

/** Asks for persistence unless already granted; a refusal or an error is 'best-effort'. */
export async function requestPersistentStorage(storage: PersistableStorage | null = browserStorage()): Promise<StoragePersistence> {
  const current = await getStoragePersistence(storage);
  if (current !== 'best-effort' || !storage?.persist) return current;
  try {
    return (await storage.persist()) ? 'persisted' : 'best-effort';
  } catch {
    return 'best-effort';
  }
}
