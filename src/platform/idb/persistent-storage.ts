/**
 * Asks the browser to keep Petrel's storage under pressure (`navigator.storage.persist()`:
 * without it, IndexedDB is "best effort" and may be evicted with the identity keys in
 * it) and reports the answer with the current usage and quota.
 */
export interface PersistenceReport {
  /** undefined when the browser has no StorageManager (then nothing can be promised). */
  readonly persisted?: boolean;
  readonly usage?: number;
  readonly quota?: number;
}

export async function requestPersistentStorage(storage: StorageManager | undefined = typeof navigator !== 'undefined' ? navigator.storage : undefined): Promise<PersistenceReport> {
  if (!storage) return {};
  let persisted: boolean | undefined;
  try {
    persisted = (await storage.persisted?.()) || (await storage.persist?.());
  } catch {
    persisted = undefined;
  }
  let estimate: StorageEstimate = {};
  try {
    estimate = (await storage.estimate?.()) ?? {};
  } catch {
    // No estimate: report what we know.
  }
  return {
    ...(persisted !== undefined ? { persisted } : {}),
    ...(estimate.usage !== undefined ? { usage: estimate.usage } : {}),
    ...(estimate.quota !== undefined ? { quota: estimate.quota } : {}),
  };
}
