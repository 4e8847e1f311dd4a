/**
 * In-memory storage engine with IndexedDB's transaction semantics: a transaction's
 * writes are staged and applied only when its body resolves, reads see the
 * transaction's own writes, values are structured-cloned in and out (so a caller
 * mutating a buffer later changes nothing stored), and transactions run one at a time
 * (IndexedDB serialises overlapping read-write transactions the same way).
 */
import type { BackendTx, StoreBackend, TableQuery, TxMode, TxTable } from './backend.ts';
import { StorageClosedError } from './errors.ts';
import { compareKeys, isValidKey, keyInRange } from './key-order.ts';
import { keyAt, STORE_DEFINITIONS, STORE_NAMES, type KeyOf, type StoreKey, type StoreName, type ValueOf } from './schema.ts';
import { toStoreError } from './storage-errors.ts';
import { StorageHealth } from './storage-health.ts';

const DELETED = Symbol('deleted');
type Staged = unknown | typeof DELETED;

const serialiseKey = (k: StoreKey): string => JSON.stringify(k);

function applyStaged(target: Map<string, unknown>, staged: Map<string, Staged>): void {
  for (const [k, v] of staged) {
    if (v === DELETED) target.delete(k);
    else target.set(k, v);
  }
}

class DataError extends Error {
  override readonly name = 'DataError';
}
class ConstraintError extends Error {
  override readonly name = 'ConstraintError';
}
class TransactionAbortedError extends Error {
  override readonly name = 'AbortError';
}

class MemoryTx implements BackendTx {
  readonly staged = new Map<StoreName, Map<string, Staged>>();
  aborted = false;

  constructor(
    private readonly data: Map<StoreName, Map<string, unknown>>,
    private readonly scope: ReadonlySet<StoreName>,
    private readonly mode: TxMode,
  ) {}

  abort(): void {
    this.aborted = true;
    this.staged.clear();
  }

  table<S extends StoreName>(name: S): TxTable<S> {
    return new MemoryTable<S>(this, name, this.data.get(name)!, this.scope.has(name), this.mode);
  }

  stagedFor(name: StoreName): Map<string, Staged> {
    let m = this.staged.get(name);
    if (!m) this.staged.set(name, (m = new Map()));
    return m;
  }
}

class MemoryTable<S extends StoreName> implements TxTable<S> {
  constructor(
    private readonly tx: MemoryTx,
    private readonly name: S,
    private readonly committed: Map<string, unknown>,
    private readonly inScope: boolean,
    private readonly mode: TxMode,
  ) {}

  private check(write: boolean): void {
    if (this.tx.aborted) throw new TransactionAbortedError('transaction aborted');
    if (!this.inScope) throw new Error(`store ${this.name} is not in the transaction's scope`);
    if (write && this.mode !== 'readwrite') throw new Error('write in a read-only transaction');
  }

  private current(k: string): unknown {
    const staged = this.tx.staged.get(this.name);
    if (staged?.has(k)) {
      const v = staged.get(k);
      return v === DELETED ? undefined : v;
    }
    return this.committed.get(k);
  }

  private all(): unknown[] {
    const merged = new Map(this.committed);
    const staged = this.tx.staged.get(this.name);
    if (staged) applyStaged(merged, staged);
    return [...merged.values()];
  }

  async get(key: KeyOf<S>): Promise<ValueOf<S> | undefined> {
    this.check(false);
    if (!isValidKey(key)) throw new DataError('invalid key');
    const v = this.current(serialiseKey(key));
    return v === undefined ? undefined : (structuredClone(v) as ValueOf<S>);
  }

  async put(value: ValueOf<S>): Promise<void> {
    this.check(true);
    const key = keyAt(value, [STORE_DEFINITIONS[this.name].keyPath]);
    if (!isValidKey(key)) throw new DataError('invalid key');
    this.tx.stagedFor(this.name).set(serialiseKey(key), structuredClone(value));
  }

  async add(value: ValueOf<S>): Promise<void> {
    this.check(true);
    const key = keyAt(value, [STORE_DEFINITIONS[this.name].keyPath]);
    if (!isValidKey(key)) throw new DataError('invalid key');
    const k = serialiseKey(key);
    if (this.current(k) !== undefined) throw new ConstraintError('a record with this key exists');
    this.tx.stagedFor(this.name).set(k, structuredClone(value));
  }

  async delete(key: KeyOf<S>): Promise<void> {
    this.check(true);
    if (!isValidKey(key)) throw new DataError('invalid key');
    this.tx.stagedFor(this.name).set(serialiseKey(key), DELETED);
  }

  private select(query: TableQuery<S>): unknown[] {
    const def = STORE_DEFINITIONS[this.name];
    const path: readonly string[] = query.index ? (def.indexes as Record<string, readonly string[]>)[query.index]! : [def.keyPath];
    const rows: Array<{ key: StoreKey; primary: StoreKey; value: unknown }> = [];
    for (const value of this.all()) {
      const key = keyAt(value as object, path);
      // IndexedDB leaves a record out of an index when its index key is not a valid key.
      if (!isValidKey(key)) continue;
      if (keyInRange(key, query)) rows.push({ key, primary: keyAt(value as object, [def.keyPath]) as StoreKey, value });
    }
    // Records with equal index keys come in primary-key order, as in IndexedDB.
    rows.sort((a, b) => compareKeys(a.key, b.key) || compareKeys(a.primary, b.primary));
    if (query.direction === 'prev') rows.reverse();
    const limited = query.limit === undefined ? rows : rows.slice(0, query.limit);
    return limited.map((r) => r.value);
  }

  async query(query: TableQuery<S> = {}): Promise<ValueOf<S>[]> {
    this.check(false);
    return this.select(query).map((v) => structuredClone(v) as ValueOf<S>);
  }

  async count(query: TableQuery<S> = {}): Promise<number> {
    this.check(false);
    return this.select(query).length;
  }
}

export class MemoryBackend implements StoreBackend {
  readonly health = new StorageHealth();
  private readonly data = new Map<StoreName, Map<string, unknown>>(STORE_NAMES.map((n) => [n, new Map()]));
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  transaction<T>(stores: readonly StoreName[], mode: TxMode, body: (tx: BackendTx) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.closed) throw new StorageClosedError();
      const tx = new MemoryTx(this.data, new Set(stores), mode);
      let result: T;
      try {
        result = await body(tx);
        if (tx.aborted) throw new TransactionAbortedError('transaction aborted');
      } catch (e) {
        tx.abort();
        throw toStoreError(e, this.health);
      }
      if (this.closed) throw new StorageClosedError();
      for (const [name, staged] of tx.staged) {
        applyStaged(this.data.get(name)!, staged);
      }
      if (mode === 'readwrite') this.health.recordSuccess();
      return result;
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Closes the store: later transactions reject with `StorageClosedError`. */
  close(): void {
    this.closed = true;
    this.health.set('closed');
  }
}
