/**
 * The IndexedDB storage engine (via `idb`). Runs the core's transaction bodies in real
 * IndexedDB transactions: a body that throws or rejects aborts its transaction, so a
 * failed operation leaves nothing half-written; a transaction that fails to commit
 * (quota, connection closed by the browser) rejects with a typed `StoreError`.
 *
 * Connection events become the observable storage state:
 * - `versionchange` (another tab wants a newer schema): we close at once so it can
 *   upgrade, and report `version_changed` (this tab must reload);
 * - `close` (the browser dropped the connection: storage cleared, disk error): `closed`;
 * - a blocked open (an older tab holds the database open): `blocked` until it opens.
 */
import { unwrap, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { BackendTx, StoreBackend, TableQuery, TxMode, TxOptions, TxTable } from '../../core/store/backend.ts';
import { StorageClosedError, StorageVersionChangedError } from '../../core/store/errors.ts';
import type { KeyOf, StoreName, ValueOf } from '../../core/store/schema.ts';
import { toStoreError } from '../../core/store/storage-errors.ts';
import type { StorageHealth } from '../../core/store/storage-health.ts';
import type { PetrelDB } from './schema.ts';

type Tx = IDBPTransaction<PetrelDB, StoreNames<PetrelDB>[], TxMode>;

/** The part of an object store or index the table needs (both share these methods). */
interface Source {
  getAll(range?: IDBKeyRange | null, count?: number): Promise<unknown[]>;
  count(range?: IDBKeyRange | null): Promise<number>;
  openCursor(range?: IDBKeyRange | null, direction?: IDBCursorDirection): Promise<{ value: unknown; continue(): Promise<unknown> } | null>;
}

function toRange(keyRange: typeof IDBKeyRange, q: TableQuery<StoreName>): IDBKeyRange | undefined {
  const lower = q.lower as IDBValidKey | undefined;
  const upper = q.upper as IDBValidKey | undefined;
  if (lower !== undefined && upper !== undefined) return keyRange.bound(lower, upper, q.lowerOpen ?? false, q.upperOpen ?? false);
  if (lower !== undefined) return keyRange.lowerBound(lower, q.lowerOpen ?? false);
  if (upper !== undefined) return keyRange.upperBound(upper, q.upperOpen ?? false);
  return undefined;
}

/**
 * A request as a promise, with plain handler properties: the hot single-record calls
 * (a catch-up batch issues hundreds) skip idb's listener and proxy bookkeeping, which
 * cost more main-thread time per request than the request itself. A failed request is
 * not prevented, so it aborts its transaction as with idb.
 */
function settled<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

class IdbTable<S extends StoreName> implements TxTable<S> {
  private raw: IDBObjectStore | undefined;

  constructor(
    private readonly tx: Tx,
    private readonly name: S,
    private readonly keyRange: typeof IDBKeyRange,
  ) {}

  private store() {
    return this.tx.objectStore(this.name);
  }

  private rawStore(): IDBObjectStore {
    return (this.raw ??= unwrap(this.tx).objectStore(this.name));
  }

  get(key: KeyOf<S>): Promise<ValueOf<S> | undefined> {
    try {
      return settled(this.rawStore().get(key as IDBValidKey)) as Promise<ValueOf<S> | undefined>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  put(value: ValueOf<S>): Promise<void> {
    try {
      if (this.tx.mode === 'readonly') throw new Error('write in a read-only transaction');
      return settled(this.rawStore().put(value)).then(() => undefined);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  add(value: ValueOf<S>): Promise<void> {
    try {
      if (this.tx.mode === 'readonly') throw new Error('write in a read-only transaction');
      return settled(this.rawStore().add(value)).then(() => undefined);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  delete(key: KeyOf<S>): Promise<void> {
    try {
      if (this.tx.mode === 'readonly') throw new Error('write in a read-only transaction');
      return settled(this.rawStore().delete(key as IDBValidKey));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private source(q: TableQuery<S>): Source {
    const store = this.store();
    return (q.index ? store.index(q.index as never) : store) as unknown as Source;
  }

  async query(q: TableQuery<S> = {}): Promise<ValueOf<S>[]> {
    const source = this.source(q);
    const range = toRange(this.keyRange, q as TableQuery<StoreName>);
    if (q.direction !== 'prev') return (await source.getAll(range, q.limit)) as ValueOf<S>[];
    // getAll has no direction: walk a reverse cursor.
    const out: ValueOf<S>[] = [];
    const limit = q.limit ?? Infinity;
    let cursor = await source.openCursor(range, 'prev');
    while (cursor && out.length < limit) {
      out.push(cursor.value as ValueOf<S>);
      cursor = (await cursor.continue()) as typeof cursor;
    }
    return out;
  }

  count(q: TableQuery<S> = {}): Promise<number> {
    return this.source(q).count(toRange(this.keyRange, q as TableQuery<StoreName>));
  }
}

class IdbTx implements BackendTx {
  constructor(
    private readonly tx: Tx,
    private readonly keyRange: typeof IDBKeyRange,
  ) {}

  table<S extends StoreName>(name: S): TxTable<S> {
    return new IdbTable(this.tx, name, this.keyRange);
  }

  abort(): void {
    this.tx.abort();
  }
}

export interface IdbBackendOptions {
  readonly health: StorageHealth;
  /** Defaults to the global `IDBKeyRange`. */
  readonly keyRange?: typeof IDBKeyRange;
  /**
   * Durability of readwrite transactions; `strict` unless told otherwise. `relaxed`
   * (Chromium's `default` since 121) reports a commit once the OS has the data, so a
   * power loss or OS crash can take back a commit whose effect already left the device
   * (an ack that let the relay delete the envelope, an envelope handed to a transport,
   * a receipt). `strict` reports it only after a flush to disk.
   */
  readonly durability?: Durability;
}

export type Durability = 'default' | 'relaxed' | 'strict';

/**
 * Petrel's commits precede effects outside the device (the outbox hands the envelope to
 * a transport, the receive pipeline acks the relay, a read commit queues a receipt), so
 * readwrite transactions are durable before they report success. The exception is a
 * commit marked effect-free (TxOptions: a `sent` mark), which is `relaxed`.
 */
export const DEFAULT_DURABILITY: Durability = 'strict';

export class IdbBackend implements StoreBackend {
  readonly health: StorageHealth;
  private readonly keyRange: typeof IDBKeyRange;
  private closed = false;

  constructor(
    private readonly db: IDBPDatabase<PetrelDB>,
    private readonly options: IdbBackendOptions,
  ) {
    this.health = options.health;
    this.keyRange = options.keyRange ?? IDBKeyRange;
    db.addEventListener('versionchange', () => {
      this.closed = true;
      db.close();
      this.health.set('version_changed');
    });
    db.addEventListener('close', () => {
      this.closed = true;
      if (this.health.get() !== 'version_changed') this.health.set('closed');
    });
  }

  /**
   * `strict` for every commit an effect outside the device follows (the default); an
   * effect-free one (TxOptions) is `relaxed`, unless the whole store was opened relaxed
   * or `default` (benchmarks of the ceiling), which it then follows.
   */
  private durability(mode: TxMode, options: TxOptions): Durability {
    if (mode !== 'readwrite') return 'default';
    const configured = this.options.durability ?? DEFAULT_DURABILITY;
    return options.effectFree && configured === 'strict' ? 'relaxed' : configured;
  }

  /** The raw connection (tests force-close it to simulate the browser dropping it). */
  connection(): IDBDatabase {
    return this.db as unknown as IDBDatabase;
  }

  private closedError(): Error {
    return this.health.get() === 'version_changed' ? new StorageVersionChangedError() : new StorageClosedError();
  }

  async transaction<T>(stores: readonly StoreName[], mode: TxMode, body: (tx: BackendTx) => Promise<T>, options: TxOptions = {}): Promise<T> {
    if (this.closed) throw this.closedError();
    let tx: Tx;
    try {
      tx = this.db.transaction([...stores], mode, { durability: this.durability(mode, options) });
    } catch (e) {
      throw this.closed ? this.closedError() : toStoreError(e, this.health);
    }
    try {
      const result = await body(new IdbTx(tx, this.keyRange));
      await tx.done;
      if (mode === 'readwrite') this.health.recordSuccess();
      return result;
    } catch (e) {
      try {
        tx.abort();
      } catch {
        // Already finished or aborted (e.g. by the failed request itself).
      }
      await tx.done.catch(() => undefined);
      if (this.closed && !(e instanceof Error && e.name === 'QuotaExceededError')) throw this.closedError();
      throw toStoreError(e, this.health);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
    this.health.set('closed');
  }
}
