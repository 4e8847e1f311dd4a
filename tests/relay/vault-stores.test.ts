/** The backup vault's stores (issue 17) against one contract: SQLite (two opens of one data dir) and PostgreSQL (two pools: two nodes). */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { createPostgresPool } from '../../src/relay/storage/postgres/postgres-pool.ts';
import { migrate } from '../../src/relay/storage/postgres/migrate.ts';
import { openDatabase } from '../../src/relay/storage/sqlite-database.ts';
import { PostgresVaultStore } from '../../src/relay/vault/postgres-vault-store.ts';
import { SqliteVaultStore } from '../../src/relay/vault/sqlite-vault-store.ts';
import { describeVaultStoreContract } from './contracts/vault-store.contract.ts';
import { tempDataDir } from './helpers/relay-harness.ts';
import { freshDatabase, type TestDatabase } from './helpers/services.ts';

describeVaultStoreContract('SQLite', async (limits) => {
  const dir = tempDataDir();
  const a = openDatabase(dir, 'FULL');
  const b = openDatabase(dir, 'FULL');
  return {
    stores: [new SqliteVaultStore(a, limits), new SqliteVaultStore(b, limits)],
    dispose: async () => {
      a.close();
      b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
  await migrate(db.pool);
});
afterAll(async () => {
  await db?.drop();
});

describeVaultStoreContract('PostgreSQL', async (limits) => {
  await db.pool.query('TRUNCATE vaults');
  const pools = [0, 1].map(() => createPostgresPool({ connectionString: db.url, max: 4, timeoutMs: 10_000 }, () => {}));
  return { stores: [new PostgresVaultStore(pools[0]!, limits), new PostgresVaultStore(pools[1]!, limits)], dispose: async () => void (await Promise.all(pools.map((p) => p.end()))) };
});
