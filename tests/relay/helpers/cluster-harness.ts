import type { RelayDependencies } from '../../../src/relay/server.ts';
import { startTestRelay, tempDataDir, type TestRelay } from './relay-harness.ts';
import { freshDatabase, freshRedisPrefix, type TestDatabase, type TestRedis } from './services.ts';

/** Several relay nodes in this process on one PostgreSQL database and one Redis prefix of their own. */
export interface TestCluster {
  readonly db: TestDatabase;
  readonly redis: TestRedis;
  readonly nodes: TestRelay[];
  /** Env for another node of this cluster (e.g. one whose services go through a proxy). */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Starts another node (`deps`: e.g. small link-channel limits). */
  startNode(extra?: Record<string, string>, deps?: RelayDependencies): Promise<TestRelay>;
  /** Stops every node still running and removes the database and the Redis keys. */
  stop(): Promise<void>;
}

export async function startTestCluster(nodes: number, extra: Record<string, string> = {}, deps: RelayDependencies = {}): Promise<TestCluster> {
  const db = await freshDatabase();
  const redis = await freshRedisPrefix();
  const env = (more: Record<string, string> = {}) => ({
    PETREL_STORE: 'postgres',
    DATABASE_URL: db.url,
    REDIS_URL: redis.url,
    PETREL_REDIS_PREFIX: redis.prefix,
    PETREL_PG_POOL_MAX: '6',
    PETREL_CLUSTER_POLL_MS: '100',
    PETREL_LOG_LEVEL: 'info',
    ...extra,
    ...more,
  });
  const running: TestRelay[] = [];
  const startNode = async (more: Record<string, string> = {}, nodeDeps: RelayDependencies = deps) => {
    const node = await startTestRelay(env(more), tempDataDir(), {}, nodeDeps);
    running.push(node);
    return node;
  };
  // Started together: they race for the migration lock.
  await Promise.all(Array.from({ length: nodes }, () => startNode()));
  return {
    db,
    redis,
    nodes: running,
    env,
    startNode,
    async stop() {
      await Promise.all(running.map((n) => n.stop()));
      await redis.cleanup();
      await db.drop();
    },
  };
}
