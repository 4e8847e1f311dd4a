import type { Pool, PoolClient } from 'pg';

/**
 * Runs `run` in one transaction on a pooled connection: COMMIT when it returns, ROLLBACK
 * when it throws or when it returned through `rollback(value)` (a refusal that must leave
 * nothing behind, e.g. a stale version after a placeholder row was written). A connection
 * whose ROLLBACK fails is dropped from the pool, not reused.
 */
export async function inTransaction<T>(pool: Pool, run: (client: PoolClient, rollback: <V>(value: V) => V) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  let undo = false;
  try {
    await client.query('BEGIN');
    const out = await run(client, (value) => {
      undo = true;
      return value;
    });
    await client.query(undo ? 'ROLLBACK' : 'COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
