import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/relay/config.ts';

describe('PETREL_STORE configuration', () => {
  it('defaults to SQLite', () => {
    expect(loadConfig({}).store).toEqual({ kind: 'sqlite' });
  });

  it('reads the PostgreSQL + Redis settings', () => {
    expect(loadConfig({ PETREL_STORE: 'postgres', DATABASE_URL: 'postgres://u@db:5432/petrel', REDIS_URL: 'redis://r:6379' }).store).toEqual({
      kind: 'postgres',
      databaseUrl: 'postgres://u@db:5432/petrel',
      redisUrl: 'redis://r:6379',
      redisPrefix: 'petrel:',
      poolMax: 10,
      pollIntervalMs: 1000,
    });
  });

  it.each([
    [{ PETREL_STORE: 'mysql' }, /PETREL_STORE must be one of sqlite, postgres/],
    [{ PETREL_STORE: 'postgres', REDIS_URL: 'redis://r' }, /DATABASE_URL is required with PETREL_STORE=postgres/],
    [{ PETREL_STORE: 'postgres', DATABASE_URL: 'postgres://db/p' }, /REDIS_URL is required/],
    [{ PETREL_STORE: 'postgres', DATABASE_URL: 'mysql://db/p', REDIS_URL: 'redis://r' }, /DATABASE_URL must start with postgres: or postgresql:/],
    [{ PETREL_STORE: 'postgres', DATABASE_URL: 'not a url', REDIS_URL: 'redis://r' }, /DATABASE_URL must be a URL/],
    [{ PETREL_STORE: 'postgres', DATABASE_URL: 'postgres://db/p', REDIS_URL: 'http://r' }, /REDIS_URL must start with redis: or rediss:/],
    [{ PETREL_STORE: 'postgres', DATABASE_URL: 'postgres://db/p', REDIS_URL: 'redis://r', PETREL_REDIS_PREFIX: 'a b' }, /PETREL_REDIS_PREFIX/],
    [{ PETREL_STORE: 'postgres', DATABASE_URL: 'postgres://db/p', REDIS_URL: 'redis://r', PETREL_PG_POOL_MAX: '0' }, /PETREL_PG_POOL_MAX/],
    [{ PETREL_STORE: 'postgres', DATABASE_URL: 'postgres://db/p', REDIS_URL: 'redis://r', PETREL_CLUSTER_POLL_MS: '5' }, /PETREL_CLUSTER_POLL_MS/],
  ])('refuses %o with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
