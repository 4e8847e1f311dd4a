/**
 * What a storage engine must offer the store: transactions over the schema's stores.
 * The atomic operations (`petrel-store.ts`) are written once against this interface;
 * the in-memory backend (core) and the IndexedDB backend (`src/platform/idb`) run them.
 *
 * Rule of every transaction body: it awaits ONLY the table calls of its own `tx`
 * (IndexedDB commits a transaction as soon as it has no pending request at the end of
 * a task, so an unrelated `await` — crypto, network, timers — would commit it early).
 * All crypto is done by the caller before the operation is called.
 *
 * If the body throws or rejects, the backend rolls back every write of the transaction
 * and rethrows (mapped to a `StoreError`).
 */
import type { IndexName, KeyOf, StoreKey, StoreName, ValueOf } from './schema.ts';
import type { StorageHealthView } from './storage-health.ts';

export type TxMode = 'readonly' | 'readwrite';

export interface KeyRangeQuery {
  readonly lower?: StoreKey;
  readonly upper?: StoreKey;
  readonly lowerOpen?: boolean;
  readonly upperOpen?: boolean;
}

export interface TableQuery<S extends StoreName> extends KeyRangeQuery {
  /** Query an index instead of the primary key. */
  readonly index?: IndexName<S>;
  /** `prev`: highest keys first. */
  readonly direction?: 'next' | 'prev';
  readonly limit?: number;
}

export interface TxTable<S extends StoreName> {
  get(key: KeyOf<S>): Promise<ValueOf<S> | undefined>;
  put(value: ValueOf<S>): Promise<void>;
  /**
   * Inserts a record whose key must be new. If the key exists the request fails with a
   * `ConstraintError` and, as in IndexedDB, the transaction must not commit (the body
   * should let the rejection propagate). Saves reading a key just to learn it is absent.
   */
  add(value: ValueOf<S>): Promise<void>;
  delete(key: KeyOf<S>): Promise<void>;
  query(query?: TableQuery<S>): Promise<ValueOf<S>[]>;
  count(query?: TableQuery<S>): Promise<number>;
}

export interface BackendTx {
  table<S extends StoreName>(name: S): TxTable<S>;
  /** Rolls the transaction back (what a connection dropped by the browser does); later calls reject. */
  abort(): void;
}

/**
 * How durable a readwrite commit must be before it reports success. By default every
 * commit is flushed to disk first (`strict` in IndexedDB): most precede an effect outside
 * the device. `effectFree` marks a commit that precedes none — losing it to a power cut
 * only repeats work the receiver deduplicates (a `sent` mark: the envelope goes again
 * with the same id) — so a backend may report it once the OS has it (docs/STORAGE.md).
 */
export interface TxOptions {
  readonly effectFree?: boolean;
}

export interface StoreBackend {
  readonly health: StorageHealthView;
  transaction<T>(stores: readonly StoreName[], mode: TxMode, body: (tx: BackendTx) => Promise<T>, options?: TxOptions): Promise<T>;
  close(): void;
}
