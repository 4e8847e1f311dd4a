/**
 * Opens (creating or migrating) the Petrel database and returns the store over it.
 * The factory is injectable so tests run each case in a fresh `fake-indexeddb`.
 */
import { wrap, type IDBPDatabase } from 'idb';
import { StorageBlockedError } from '../../core/store/errors.ts';
import { BackendPetrelStore, type PetrelStoreOptions } from '../../core/store/petrel-store.ts';
import { SCHEMA_VERSION } from '../../core/store/schema.ts';
import { toStoreError } from '../../core/store/storage-errors.ts';
import { StorageHealth } from '../../core/store/storage-health.ts';
import type { PetrelStore } from '../../core/store/store-api.ts';
import { IdbBackend, type Durability } from './idb-backend.ts';
import { MIGRATIONS, runMigrations, type Migration, type UpgradeTx } from './migrations.ts';
import { DEFAULT_DATABASE_NAME, type PetrelDB } from './schema.ts';

export interface OpenIdbStoreOptions extends PetrelStoreOptions {
  readonly name?: string;
  /** Defaults to the global `indexedDB`. */
  readonly factory?: IDBFactory;
  readonly keyRange?: typeof IDBKeyRange;
  /** Receives `blocked` while another tab holds an older version open (the open keeps waiting). */
  readonly health?: StorageHealth;
  /** Schema version and steps; tests pass their own to prove a later migration. */
  readonly version?: number;
  readonly migrations?: readonly (Migration | undefined)[];
  /** Readwrite durability; `strict` by default (see `DEFAULT_DURABILITY`). */
  readonly durability?: Durability;
}

export interface IdbStore {
  readonly store: PetrelStore;
  readonly backend: IdbBackend;
}

/** Opens the database; rejects with a `StoreError` (never leaves a half-migrated schema). */
export async function openIdbStore(options: OpenIdbStoreOptions): Promise<IdbStore> {
  const factory = options.factory ?? indexedDB;
  const health = options.health ?? new StorageHealth();
  const version = options.version ?? SCHEMA_VERSION;
  const migrations = options.migrations ?? MIGRATIONS;
  let db: IDBPDatabase<PetrelDB>;
  try {
    const request = factory.open(options.name ?? DEFAULT_DATABASE_NAME, version);
    request.addEventListener('upgradeneeded', (event) => {
      const upgradeDb = wrap(request.result) as IDBPDatabase<PetrelDB>;
      const tx = wrap(request.transaction!) as unknown as UpgradeTx;
      // An aborted upgrade surfaces through the open request; its `done` must not reject unobserved.
      tx.done.catch(() => undefined);
      runMigrations(upgradeDb, tx, event.oldVersion, event.newVersion ?? version, migrations).catch(() => {
        try {
          tx.abort();
        } catch {
          // Already aborted.
        }
      });
    });
    request.addEventListener('blocked', () => health.set('blocked'));
    db = (await wrap(request)) as IDBPDatabase<PetrelDB>;
  } catch (e) {
    throw health.get() === 'blocked' ? new StorageBlockedError() : toStoreError(e, health);
  }
  health.recordSuccess();
  const backend = new IdbBackend(db, { health, ...(options.keyRange ? { keyRange: options.keyRange } : {}), ...(options.durability ? { durability: options.durability } : {}) });
  return { store: new BackendPetrelStore(backend, options), backend };
}
