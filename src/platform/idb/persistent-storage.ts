/**
 * Reports whether the browser keeps Petrel's storage under pressure
 * (`navigator.storage.persisted()`: without persistence, IndexedDB is "best effort" and may
 * be evicted with the identity keys in it) with the current usage and quota. It never asks
 * for persistence: the app asks once, at a moment the browser is likely to grant it
 * (src/app/hooks/useStoragePersistence.ts), not at every start.
 */
export interface PersistenceReport {
  /** undefined when the browser has no StorageManager (then nothing can be promised). */
  readonly persisted?: boolean;
  readonly usage?: number;
  readonly quota?: number;
}

export async function readStorageReport(storage: StorageManager | undefined = typeof navigator !== 'undefined' ? navigator.storage : undefined): Promise<PersistenceReport> {
  if (!storage) return {};
  let persisted: boolean | undefined;
  try {
    persisted = await storage.persisted?.();
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
