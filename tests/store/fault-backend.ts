/**
 * A backend wrapper that injects a fault right after the N-th write of a transaction
 * has been issued and has succeeded, to cut an operation at every step:
 * - `throw`: the transaction body throws (a bug or an exception mid-operation);
 * - `drop`: the connection goes away under the transaction (`onDrop` force-closes the
 *   database or aborts the transaction, as a browser does when it kills a connection).
 */
import type { BackendTx, StoreBackend, TableQuery, TxMode, TxTable } from '../../src/core/store/backend.ts';
import type { KeyOf, StoreName, ValueOf } from '../../src/core/store/schema.ts';

export class InjectedFault extends Error {
  override readonly name = 'InjectedFault';
}

export interface FaultPlan {
  readonly afterWrite: number;
  /** `quota`: the write fails the way a full disk does (a `QuotaExceededError` DOMException). */
  readonly kind: 'throw' | 'drop' | 'quota';
}

export class FaultBackend implements StoreBackend {
  /** Writes issued since the counter was reset (across transactions). */
  writes = 0;
  plan: FaultPlan | undefined;
  fired = false;

  constructor(
    private readonly inner: StoreBackend,
    private readonly onDrop: (tx: BackendTx) => void,
  ) {}

  get health() {
    return this.inner.health;
  }

  arm(plan: FaultPlan | undefined): void {
    this.plan = plan;
    this.writes = 0;
    this.fired = false;
  }

  transaction<T>(stores: readonly StoreName[], mode: TxMode, body: (tx: BackendTx) => Promise<T>): Promise<T> {
    return this.inner.transaction(stores, mode, (tx) => body(this.wrapTx(tx)));
  }

  close(): void {
    this.inner.close();
  }

  private async afterWrite(tx: BackendTx): Promise<void> {
    this.writes++;
    if (!this.plan || this.fired || this.writes !== this.plan.afterWrite) return;
    this.fired = true;
    if (this.plan.kind === 'throw') throw new InjectedFault(`fault after write ${this.writes}`);
    if (this.plan.kind === 'quota') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    this.onDrop(tx);
  }

  private wrapTx(tx: BackendTx): BackendTx {
    const table = <S extends StoreName>(name: S): TxTable<S> => {
      const t = tx.table(name);
      return {
        get: (key: KeyOf<S>) => t.get(key),
        query: (q?: TableQuery<S>) => t.query(q),
        count: (q?: TableQuery<S>) => t.count(q),
        put: async (value: ValueOf<S>) => {
          await t.put(value);
          await this.afterWrite(tx);
        },
        add: async (value: ValueOf<S>) => {
          await t.add(value);
          await this.afterWrite(tx);
        },
        delete: async (key: KeyOf<S>) => {
          await t.delete(key);
          await this.afterWrite(tx);
        },
      };
    };
    return { table, abort: () => tx.abort() };
  }
}
