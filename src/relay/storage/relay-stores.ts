import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ClusterMetrics } from '../cluster/cluster-metrics.ts';
import type { Fanout } from '../cluster/fanout.ts';
import { LocalFanout, type LocalFanoutDeps } from '../cluster/local-fanout.ts';
import { NODE_ID_BYTES } from '../cluster/notification.ts';
import { RedisFanout } from '../cluster/redis-fanout.ts';
import { LinkChannels, type LinkChannelLimits } from '../link/link-channels.ts';
import type { LinkHooks, LinkRendezvous } from '../link/link-rendezvous.ts';
import { RedisLinkChannels } from '../link/redis-link-channels.ts';
import { RedisRateLimitStore } from '../cluster/redis-rate-limit-store.ts';
import type { BlobLimits, BlobStore } from '../blobs/blob-store.ts';
import { FileBlobStore } from '../blobs/file-blob-store.ts';
import { PostgresBlobStore } from '../blobs/postgres-blob-store.ts';
import type { RelayConfig } from '../config.ts';
import { MemoryRateLimitStore } from '../limits/memory-rate-limit-store.ts';
import type { RateLimitStore } from '../limits/rate-limit-store.ts';
import type { MailboxStore } from '../mailbox/mailbox-store.ts';
import { SqliteMailboxStore } from '../mailbox/sqlite-mailbox-store.ts';
import type { RelayMetrics } from '../metrics.ts';
import type { PreKeyStore } from '../prekeys/prekey-store.ts';
import { SqlitePreKeyStore } from '../prekeys/sqlite-prekey-store.ts';
import type { DeviceStore } from '../devices/device-store.ts';
import { SqliteDeviceStore } from '../devices/sqlite-device-store.ts';
import { PostgresDeviceStore } from './postgres/postgres-device-store.ts';
import { databaseFailure, RelayStartError } from '../start-error.ts';
import { migrate } from './postgres/migrate.ts';
import { PostgresMailboxStore } from './postgres/postgres-mailbox-store.ts';
import { createPostgresPool } from './postgres/postgres-pool.ts';
import { PostgresPreKeyStore } from './postgres/postgres-prekey-store.ts';
import { PostgresPushStore } from './postgres/postgres-push-store.ts';
import type { PushStore } from '../push/push-store.ts';
import { SqlitePushStore } from '../push/sqlite-push-store.ts';
import { DATABASE_FILE, openDatabase, SchemaTooNewError } from './sqlite-database.ts';
import { FALLBACK_AUTOCHECKPOINT_PAGES, startWalCheckpointer } from './wal-checkpointer.ts';
import type { VaultLimits, VaultStore } from '../vault/vault-store.ts';
import { SqliteVaultStore } from '../vault/sqlite-vault-store.ts';
import { PostgresVaultStore } from '../vault/postgres-vault-store.ts';

/** A store that cannot serve right now, and which one (the `/ready` answer). */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    readonly which: 'database' | 'redis',
    options?: { cause?: unknown },
  ) {
    super(`${which} unavailable`, options);
  }
}

/** The relay's state, wherever the configuration puts it. */
export interface RelayStores {
  readonly mailboxes: MailboxStore;
  readonly prekeys: PreKeyStore;
  readonly devices: DeviceStore;
  /** Attachment blobs: files under the data dir (SQLite), or PostgreSQL (a cluster). */
  readonly blobs: BlobStore;
  /** Web Push: the VAPID key pair and each device's subscription (SQLite in the data dir, or PostgreSQL). */
  readonly push: PushStore;
  /** The backup vault (issue 17): SQLite in the data dir, or PostgreSQL. */
  readonly vaults: VaultStore;
  readonly rateLimits: RateLimitStore;
  /** Fan-out for this store: local only, or across nodes. Called once, when the registry exists. */
  fanout(local: LocalFanoutDeps): Fanout;
  /** Device-link channels: on this node (SQLite), or across nodes through Redis. Called once. */
  links(limits: LinkChannelLimits, now: () => number, hooks: LinkHooks): LinkRendezvous;
  /** Resolves when every store answers; rejects with StoreUnavailableError. */
  check(): Promise<void>;
  /** Housekeeping of the embedded database (SQLite: checkpoint and truncate the WAL); returns whether it ran. */
  checkpoint(): boolean;
  /** Closes connections and files (after the relay drained). */
  close(): Promise<void>;
  /** What the start-up log line says about the stores. */
  readonly describe: Record<string, unknown>;
}

const QUERY_TIMEOUT_MS = 10_000;
const REDIS_COMMAND_TIMEOUT_MS = 2000;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Opens the configured stores, turning each failure into a RelayStartError an operator can act on. */
export async function openRelayStores(config: RelayConfig, log: Logger, metrics: RelayMetrics): Promise<RelayStores> {
  const now = () => Date.now();
  const limits = {
    maxEnvelopes: config.mailboxMaxEnvelopes,
    maxBytes: config.mailboxMaxBytes,
    retentionMs: config.retentionMs,
    unclaimedRetentionMs: Math.min(config.unclaimedRetentionMs, config.retentionMs),
    maxTotalBytes: config.maxStorageBytes,
  };
  const blobLimits: BlobLimits = {
    accountQuotaBytes: config.blobs.accountQuotaBytes,
    maxTotalBytes: config.blobs.maxTotalBytes,
    retentionMs: config.blobs.retentionMs,
    ...(config.blobs.idleMs !== undefined ? { idleMs: config.blobs.idleMs } : {}),
  };
  const vaultLimits: VaultLimits = {
    replaceIntervalMs: config.vault.replaceIntervalMs,
    retentionMs: config.vault.retentionMs,
    maxTotalBytes: config.vault.maxTotalBytes,
  };
  const memoryLimits = () => new MemoryRateLimitStore({ now, sweepIntervalMs: config.sweepIntervalMs });

  if (config.store.kind === 'sqlite') {
    let db;
    try {
      db = openDatabase(config.dataDir, config.dbSynchronous);
    } catch (err) {
      if (err instanceof SchemaTooNewError) throw new RelayStartError('database_schema', err.message, { cause: err });
      throw databaseFailure(err, config.dataDir);
    }
    const opened = db;
    // Checkpoints run on a worker thread; the relay's connection checkpoints only as a fallback.
    opened.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    const checkpointer = startWalCheckpointer(join(config.dataDir, DATABASE_FILE), config.dbSynchronous, (err) => {
      metrics.handlerFailures.inc({ where: 'wal_checkpoint' });
      log.warn({ err }, 'background WAL checkpoint failed; the relay checkpoints on its own past the fallback size');
    });
    const mailboxes = new SqliteMailboxStore(db, limits);
    let blobs: BlobStore;
    try {
      blobs = new FileBlobStore(db, config.dataDir, blobLimits);
    } catch (err) {
      await checkpointer.close();
      db.close();
      throw databaseFailure(err, config.dataDir);
    }
    return {
      mailboxes,
      prekeys: new SqlitePreKeyStore(db),
      devices: new SqliteDeviceStore(db),
      blobs,
      push: new SqlitePushStore(db),
      vaults: new SqliteVaultStore(db, vaultLimits),
      rateLimits: memoryLimits(),
      fanout: (local) => new LocalFanout(local),
      links: (linkLimits, clock, hooks) => new LinkChannels(linkLimits, clock, hooks),
      check: () => mailboxes.check().catch((err: unknown) => Promise.reject(new StoreUnavailableError('database', { cause: err }))),
      checkpoint: () => {
        // On the worker: two checkpointers at once would leave one of them busy, not done.
        checkpointer.truncate();
        return true;
      },
      close: async () => {
        await checkpointer.close();
        opened.close();
      },
      describe: { store: 'sqlite', dataDir: config.dataDir, synchronous: config.dbSynchronous },
    };
  }

  const store = config.store;
  const pool = createPostgresPool({ connectionString: store.databaseUrl, max: store.poolMax, timeoutMs: QUERY_TIMEOUT_MS }, (err) =>
    log.warn({ err: err.message }, 'postgres connection lost; reconnecting on the next query'),
  );
  let schema;
  try {
    schema = await migrate(pool);
  } catch (err) {
    await pool.end().catch(() => {});
    if (err instanceof SchemaTooNewError) throw new RelayStartError('database_schema', err.message, { cause: err });
    throw new RelayStartError('database', `cannot migrate the PostgreSQL database at DATABASE_URL: ${message(err)}`, { cause: err });
  }
  log.info({ applied: schema.applied, version: schema.version }, 'postgres schema ready');

  const redis = new Redis(store.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 1000),
  });
  redis.on('error', (err: Error) => log.debug({ err: err.message }, 'redis error'));
  const cluster = new ClusterMetrics(metrics.registry, () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }));
  const rateLimits = new RedisRateLimitStore(redis, store.redisPrefix, memoryLimits(), () => cluster.rateLimitFallbacks.inc());
  const nodeId = randomBytes(NODE_ID_BYTES).toString('hex');
  let fanout: Fanout | undefined;
  const mailboxes = new PostgresMailboxStore(pool, limits);

  return {
    mailboxes,
    prekeys: new PostgresPreKeyStore(pool),
    devices: new PostgresDeviceStore(pool),
    blobs: new PostgresBlobStore(pool, blobLimits),
    push: new PostgresPushStore(pool),
    vaults: new PostgresVaultStore(pool, vaultLimits),
    rateLimits,
    fanout: (local) =>
      (fanout = new RedisFanout({ redis, prefix: store.redisPrefix, nodeId, pollIntervalMs: store.pollIntervalMs, local: new LocalFanout(local), metrics: cluster, log })),
    links: (linkLimits, clock, hooks) => new RedisLinkChannels({ ...hooks, redis, prefix: store.redisPrefix, nodeId, limits: linkLimits, now: clock, metrics: cluster, log }),
    async check() {
      await mailboxes.check().catch((err: unknown) => Promise.reject(new StoreUnavailableError('database', { cause: err })));
      await fanout?.check().catch((err: unknown) => Promise.reject(new StoreUnavailableError('redis', { cause: err })));
    },
    // PostgreSQL manages its own WAL.
    checkpoint: () => false,
    async close() {
      await redis.quit().catch(() => redis.disconnect());
      await pool.end();
    },
    describe: { store: 'postgres', node: nodeId, schemaVersion: schema.version, redisPrefix: store.redisPrefix },
  };
}
