/** The IndexedDB side of storage: open (create/migrate) the database, the engine, persistence. */
export { DEFAULT_DURABILITY, IdbBackend, type Durability, type IdbBackendOptions } from './idb-backend.ts';
export { MIGRATIONS, migrateToV1, MissingMigrationError, runMigrations, type Migration, type UpgradeTx } from './migrations.ts';
export { openIdbStore, type IdbStore, type OpenIdbStoreOptions } from './open-idb-store.ts';
export { readStorageReport, type PersistenceReport } from './persistent-storage.ts';
export { DEFAULT_DATABASE_NAME, type PetrelDB } from './schema.ts';
