/**
 * The part of Web Storage (`localStorage`) the keypress journal and the drafts use. A
 * `localStorage.setItem` returns only once the value is in the browser's storage area
 * for this origin, so a reload or a closed tab right after it still finds the value —
 * unlike IndexedDB, whose commit completes later. Tests pass `MemorySyncStorage`.
 */
export interface SyncStorage {
  readonly length: number;
  key(index: number): string | null;
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Keys of `storage` starting with `prefix` (a snapshot: safe to remove while iterating it). */
export function keysWithPrefix(storage: SyncStorage, prefix: string): string[] {
  const keys: string[] = [];
  for (let i = 0; i < storage.length; i++) {
    const k = storage.key(i);
    if (k !== null && k.startsWith(prefix)) keys.push(k);
  }
  return keys;
}

/** Web Storage in memory (tests, and browsers where `localStorage` is unavailable). */
export class MemorySyncStorage implements SyncStorage {
  private readonly map = new Map<string, string>();

  get length(): number {
    return this.map.size;
  }

  key(index: number): string | null {
    return [...this.map.keys()][index] ?? null;
  }

  getItem(key: string): string | null {
    return this.map.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    this.map.set(key, value);
  }

  removeItem(key: string): void {
    this.map.delete(key);
  }
}

/** `window.localStorage`, or memory when it is missing or refused (private modes, disabled storage). */
export function browserSyncStorage(win: { readonly localStorage?: SyncStorage }): SyncStorage {
  try {
    const storage = win.localStorage;
    if (storage) return storage;
  } catch {
    // Access throws when storage is disabled for the site.
  }
  return new MemorySyncStorage();
}
