import pg from 'pg';

/** Settings for the relay's connection pool. */
export interface PostgresPoolOptions {
  readonly connectionString: string;
  /** Connections this node opens at most (PostgreSQL's max_connections is shared by every node). */
  readonly max: number;
  /** A query (including waiting for a free connection) fails after this. */
  readonly timeoutMs: number;
}

/**
 * A pg Pool for the relay. Errors of idle connections (the server restarted, the network
 * dropped) are reported to `onIdleError` instead of crashing the process: the pool drops
 * the connection and opens a new one on the next query.
 */
export function createPostgresPool(options: PostgresPoolOptions, onIdleError: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    connectionTimeoutMillis: options.timeoutMs,
    query_timeout: options.timeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'petrel-relay',
  });
  pool.on('error', onIdleError);
  return pool;
}
