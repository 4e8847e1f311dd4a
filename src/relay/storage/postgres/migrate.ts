import type { Pool } from 'pg';
import { SchemaTooNewError } from '../sqlite-database.ts';
import { MIGRATIONS } from './migrations.ts';

/**
 * Advisory lock key held while migrating (an arbitrary constant: "petrel" in ASCII).
 * Nodes starting together queue on it; the first applies the pending steps, the others
 * then find nothing left to do.
 */
export const MIGRATION_LOCK_KEY = 0x706574726566n;

export interface MigrationResult {
  /** Steps this call applied (0 when another node had already applied them). */
  readonly applied: number;
  /** The schema version after the call. */
  readonly version: number;
}

/**
 * Applies every pending migration, each in its own transaction, under a session-level
 * advisory lock. Refuses (SchemaTooNewError) a database migrated by a newer relay.
 */
export async function migrate(pool: Pool): Promise<MigrationResult> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS petrel_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM petrel_schema_migrations');
      const current = rows[0]?.v ?? 0;
      if (current > MIGRATIONS.length) throw new SchemaTooNewError(current, MIGRATIONS.length);
      let applied = 0;
      for (let v = current + 1; v <= MIGRATIONS.length; v++) {
        await client.query('BEGIN');
        try {
          await client.query(MIGRATIONS[v - 1]!);
          await client.query('INSERT INTO petrel_schema_migrations (version) VALUES ($1)', [v]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
        applied++;
      }
      return { applied, version: Math.max(current, MIGRATIONS.length) };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
    }
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    // A connection that failed mid-way is not handed back to the pool.
    client.release(broken);
  }
}
