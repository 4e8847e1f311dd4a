import { isIP } from 'node:net';
import { resolve } from 'node:path';

/** Relay configuration, read once from the environment and validated at start. Every variable is in .env.example. */
export interface RelayConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** PETREL_TRACE_FILE: timing marks of each deposit's steps appended here (stage-trace-file.ts; the e2e benchmark's breakdown). Unset: none. */
  readonly traceFile?: string;
  readonly appDir: string;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** SQLite `synchronous` in WAL mode: FULL fsyncs every commit (survives power loss), NORMAL only survives process crashes. */
  readonly dbSynchronous: 'FULL' | 'NORMAL';
  /** Envelopes older than this are deleted unacknowledged. */
  readonly retentionMs: number;
  readonly sweepIntervalMs: number;
  readonly mailboxMaxEnvelopes: number;
  readonly mailboxMaxBytes: number;
  /** One-time prekeys kept per identity and kind; uploads beyond it are refused. */
  readonly prekeyPoolMax: number;
  /** Owners are told `prekeys.low` when either pool is below this. */
  readonly prekeyLowThreshold: number;
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  /** Token bucket per connection, all frames. */
  readonly connFramesPerSec: number;
  readonly connFrameBurst: number;
  /** Token bucket per client IP for deposits. */
  readonly ipDepositsPerSec: number;
  readonly ipDepositBurst: number;
  /** Token bucket per client IP for prekey bundle fetches (each may consume one-time keys). */
  readonly ipFetchesPerSec: number;
  readonly ipFetchBurst: number;
  /** Token bucket per connection for deposits (count), and per IP / per connection for deposited bytes. */
  readonly connDepositsPerSec: number;
  readonly connDepositBurst: number;
  readonly ipDepositBytesPerSec: number;
  readonly ipDepositByteBurst: number;
  readonly connDepositBytesPerSec: number;
  readonly connDepositByteBurst: number;
  /** Token bucket per client IP for `signal` (separate from deposits). */
  readonly ipSignalsPerSec: number;
  readonly ipSignalBurst: number;
  /** Token bucket per TARGET identity for bundle fetches, whoever asks (per minute). */
  readonly targetFetchesPerMin: number;
  readonly targetFetchBurst: number;
  /** One-time prekeys handed out per target identity (per hour); past it fetches get the last-resort keys. */
  readonly oneTimeKeysPerHour: number;
  readonly oneTimeKeyBurst: number;
  /** Sum of all stored envelope bodies; deposits past it are refused with `storage_full`. 0 = no cap. */
  readonly maxStorageBytes: number;
  /** Retention for envelopes in a mailbox no device has ever authenticated on. */
  readonly unclaimedRetentionMs: number;
  /** How often the SQLite WAL is checkpointed and truncated, so deleted envelopes leave the disk. */
  readonly walCheckpointIntervalMs: number;
  /** A WebSocket that has not authenticated within this is closed. */
  readonly authTimeoutMs: number;
  /** A connection whose output stays above the high-water mark this long without draining is closed. */
  readonly slowConsumerTimeoutMs: number;
  /** HTTP: time allowed to receive a request's headers, and the whole request. */
  readonly httpHeadersTimeoutMs: number;
  readonly httpRequestTimeoutMs: number;
  /** Open TCP connections that are not (yet) WebSockets, in total and per client IP. */
  readonly maxHttpConnections: number;
  readonly maxHttpConnectionsPerIp: number;
  readonly heartbeatIntervalMs: number;
  /** A connection whose unsent output exceeds this is closed as a slow consumer. */
  readonly maxBufferedBytes: number;
  readonly shutdownTimeoutMs: number;
  /** Origins allowed to open a WebSocket; empty = only the relay's own host. */
  readonly allowedOrigins: readonly string[];
  /** Take the client IP from the last X-Forwarded-For entry, the one the proxy added (only behind a trusted reverse proxy). */
  readonly trustProxy: boolean;
  /** Where state lives: embedded SQLite (one node), or PostgreSQL + Redis shared by any number of nodes. */
  readonly store: StoreConfig;
  /** Attachment blobs (issue 19; docs/OPERATIONS.md "Attachment blobs"). */
  readonly blobs: BlobConfig;
  /** Web Push (issue 20; docs/OPERATIONS.md "Web Push"). */
  readonly push: PushConfig;
  /** The backup vault (issue 17; docs/OPERATIONS.md "Backup vault"). */
  readonly vault: VaultConfig;
}

export interface VaultConfig {
  /** Largest backup one PUT may store. */
  readonly maxBytes: number;
  /** Bytes across all stored backups; writes past it are refused with 507. 0 = no cap. */
  readonly maxTotalBytes: number;
  /** A stored backup may be replaced at most this often. */
  readonly replaceIntervalMs: number;
  /** A backup not written for this long is deleted. */
  readonly retentionMs: number;
  /** Token buckets per client IP: reads (each a guess at an id) and writes. */
  readonly ipReadsPerMin: number;
  readonly ipReadBurst: number;
  readonly ipWritesPerHour: number;
  readonly ipWriteBurst: number;
}

export interface PushConfig {
  /** VAPID `sub` claim: how push services reach the operator (mailto: or https:). */
  readonly subject: string;
  /** Accept `http://127.0.0.1` / `http://[::1]` push endpoints (tests only: never in production). */
  readonly allowLoopback: boolean;
  /** How long one POST to a push service may take. */
  readonly timeoutMs: number;
}

function pushSubject(env: NodeJS.ProcessEnv): string {
  const raw = env.PETREL_PUSH_SUBJECT;
  if (raw === undefined || raw === '') return 'mailto:postmaster@petrel.invalid';
  if (!/^(mailto:[^\s@]+@[^\s@]+|https:\/\/[^\s]+)$/.test(raw)) throw new ConfigError('PETREL_PUSH_SUBJECT must be a mailto: address or an https: URL');
  return raw;
}

export interface BlobConfig {
  /** Declared bytes one account may hold in blobs at once (unfinished uploads count in full). */
  readonly accountQuotaBytes: number;
  /** Declared bytes across all blobs; creations past it are refused with 507. 0 = no cap. */
  readonly maxTotalBytes: number;
  /** A blob is deleted this long after it was created, acknowledged or not. */
  readonly retentionMs: number;
  /** An unfinished upload is deleted (and its quota released) once no chunk arrived for this long. */
  readonly idleMs?: number;
  /** Largest chunk one PATCH may carry. */
  readonly chunkMaxBytes: number;
  /** Token bucket per client IP for blob requests (checked before the signature). */
  readonly ipRequestsPerSec: number;
  readonly ipRequestBurst: number;
  /** Test only: blob bytes per second each PATCH and GET is held to (0 = off, the default). */
  readonly testThrottleBytesPerSec: number;
}

/** `PETREL_STORE`: SQLite in PETREL_DATA_DIR, or a cluster on PostgreSQL (DATABASE_URL) and Redis (REDIS_URL). */
export type StoreConfig =
  | { readonly kind: 'sqlite' }
  | {
      readonly kind: 'postgres';
      readonly databaseUrl: string;
      readonly redisUrl: string;
      /** Prefix of this deployment's Redis keys and channels. */
      readonly redisPrefix: string;
      /** PostgreSQL connections per node at most. */
      readonly poolMax: number;
      /** How often deliveries re-read mailboxes while Redis notifications are unavailable. */
      readonly pollIntervalMs: number;
    };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const MIB = 1024 * 1024;

function integer(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${key} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return n;
}

function choice<T extends string>(env: NodeJS.ProcessEnv, key: string, fallback: T, values: readonly T[]): T {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const v = (key === 'PETREL_DB_SYNCHRONOUS' ? raw.toUpperCase() : raw) as T;
  if (!values.includes(v)) throw new ConfigError(`${key} must be one of ${values.join(', ')}, got "${raw}"`);
  return v;
}

function boolean(env: NodeJS.ProcessEnv, key: string, fallback: boolean): boolean {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(`${key} must be true or false, got "${raw}"`);
}

/** RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** The listening address: an IPv4/IPv6 address (no brackets, no port) or a host name. */
function listenHost(env: NodeJS.ProcessEnv): string {
  const raw = env.HOST;
  if (raw === undefined || raw === '') return '0.0.0.0';
  if (isIP(raw) !== 0 || HOST_NAME.test(raw)) return raw;
  throw new ConfigError(`HOST must be an IP address or a host name without port (e.g. 0.0.0.0, ::, 127.0.0.1, localhost), got "${raw}"`);
}

function origins(env: NodeJS.ProcessEnv): string[] {
  const raw = env.PETREL_ALLOWED_ORIGINS;
  if (raw === undefined || raw.trim() === '') return [];
  return raw.split(',').map((s) => {
    const o = s.trim();
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new ConfigError(`PETREL_ALLOWED_ORIGINS: "${o}" is not an origin like https://chat.example.org`);
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== o.replace(/\/$/, '')) {
      throw new ConfigError(`PETREL_ALLOWED_ORIGINS: "${o}" is not an origin like https://chat.example.org`);
    }
    return url.origin;
  });
}

function serviceUrl(env: NodeJS.ProcessEnv, key: string, schemes: readonly string[]): string {
  const raw = env[key];
  if (raw === undefined || raw === '') throw new ConfigError(`${key} is required with PETREL_STORE=postgres`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${key} must be a URL like ${schemes[0]}//host:port/..., got something else`);
  }
  if (!schemes.includes(url.protocol)) throw new ConfigError(`${key} must start with ${schemes.join(' or ')}//`);
  return raw;
}

function storeConfig(env: NodeJS.ProcessEnv): StoreConfig {
  const kind = choice(env, 'PETREL_STORE', 'sqlite', ['sqlite', 'postgres'] as const);
  if (kind === 'sqlite') return { kind };
  const prefix = env.PETREL_REDIS_PREFIX ?? 'petrel:';
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(prefix)) throw new ConfigError('PETREL_REDIS_PREFIX must be 1 to 64 letters, digits or :_.-');
  return {
    kind,
    databaseUrl: serviceUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: serviceUrl(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: prefix,
    poolMax: integer(env, 'PETREL_PG_POOL_MAX', 10, 1, 1000),
    pollIntervalMs: integer(env, 'PETREL_CLUSTER_POLL_MS', 1000, 50, 60_000),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): RelayConfig {
  const logLevel = (env.PETREL_LOG_LEVEL ?? 'info') as RelayConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`PETREL_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const config: RelayConfig = {
    port: integer(env, 'PORT', 8787, 0, 65535),
    host: listenHost(env),
    dataDir: resolve(cwd, env.PETREL_DATA_DIR ?? './data'),
    ...(env.PETREL_TRACE_FILE ? { traceFile: resolve(cwd, env.PETREL_TRACE_FILE) } : {}),
    appDir: resolve(cwd, env.PETREL_APP_DIR ?? './dist/app'),
    logLevel,
    dbSynchronous: choice(env, 'PETREL_DB_SYNCHRONOUS', 'FULL', ['FULL', 'NORMAL'] as const),
    retentionMs: integer(env, 'PETREL_RETENTION_DAYS', 30, 1, 3650) * DAY_MS,
    sweepIntervalMs: integer(env, 'PETREL_SWEEP_INTERVAL_SEC', 600, 1, 86_400) * 1000,
    mailboxMaxEnvelopes: integer(env, 'PETREL_MAILBOX_MAX_ENVELOPES', 10_000, 1, 10_000_000),
    mailboxMaxBytes: integer(env, 'PETREL_MAILBOX_MAX_BYTES', 256 * 1024 * 1024, 256 * 1024, 2 ** 40),
    prekeyPoolMax: integer(env, 'PETREL_PREKEY_POOL_MAX', 500, 1, 100_000),
    prekeyLowThreshold: integer(env, 'PETREL_PREKEY_LOW_THRESHOLD', 10, 0, 100_000),
    maxConnections: integer(env, 'PETREL_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
    maxConnectionsPerIp: integer(env, 'PETREL_MAX_CONNECTIONS_PER_IP', 64, 1, 1_000_000),
    connFramesPerSec: integer(env, 'PETREL_CONN_FRAMES_PER_SEC', 100, 1, 1_000_000),
    connFrameBurst: integer(env, 'PETREL_CONN_FRAME_BURST', 200, 1, 1_000_000),
    ipDepositsPerSec: integer(env, 'PETREL_IP_DEPOSITS_PER_SEC', 200, 1, 1_000_000),
    ipDepositBurst: integer(env, 'PETREL_IP_DEPOSIT_BURST', 400, 1, 1_000_000),
    ipFetchesPerSec: integer(env, 'PETREL_IP_FETCHES_PER_SEC', 5, 1, 1_000_000),
    ipFetchBurst: integer(env, 'PETREL_IP_FETCH_BURST', 20, 1, 1_000_000),
    connDepositsPerSec: integer(env, 'PETREL_CONN_DEPOSITS_PER_SEC', 100, 1, 1_000_000),
    connDepositBurst: integer(env, 'PETREL_CONN_DEPOSIT_BURST', 200, 1, 1_000_000),
    ipDepositBytesPerSec: integer(env, 'PETREL_IP_DEPOSIT_BYTES_PER_SEC', 2 * MIB, 1024, 2 ** 40),
    ipDepositByteBurst: integer(env, 'PETREL_IP_DEPOSIT_BYTE_BURST', 16 * MIB, 512 * 1024, 2 ** 40),
    connDepositBytesPerSec: integer(env, 'PETREL_CONN_DEPOSIT_BYTES_PER_SEC', 1 * MIB, 1024, 2 ** 40),
    connDepositByteBurst: integer(env, 'PETREL_CONN_DEPOSIT_BYTE_BURST', 8 * MIB, 512 * 1024, 2 ** 40),
    ipSignalsPerSec: integer(env, 'PETREL_IP_SIGNALS_PER_SEC', 20, 1, 1_000_000),
    ipSignalBurst: integer(env, 'PETREL_IP_SIGNAL_BURST', 100, 1, 1_000_000),
    targetFetchesPerMin: integer(env, 'PETREL_TARGET_FETCHES_PER_MIN', 30, 1, 1_000_000),
    targetFetchBurst: integer(env, 'PETREL_TARGET_FETCH_BURST', 30, 1, 1_000_000),
    oneTimeKeysPerHour: integer(env, 'PETREL_ONE_TIME_KEYS_PER_HOUR', 30, 1, 1_000_000),
    oneTimeKeyBurst: integer(env, 'PETREL_ONE_TIME_KEY_BURST', 30, 1, 1_000_000),
    maxStorageBytes: integer(env, 'PETREL_MAX_STORAGE_BYTES', 20 * 1024 * MIB, 0, 2 ** 50),
    unclaimedRetentionMs: integer(env, 'PETREL_UNCLAIMED_RETENTION_HOURS', 24, 1, 87_600) * HOUR_MS,
    walCheckpointIntervalMs: integer(env, 'PETREL_WAL_CHECKPOINT_SEC', 60, 1, 86_400) * 1000,
    authTimeoutMs: integer(env, 'PETREL_AUTH_TIMEOUT_SEC', 15, 1, 3600) * 1000,
    slowConsumerTimeoutMs: integer(env, 'PETREL_SLOW_CONSUMER_SEC', 30, 1, 3600) * 1000,
    httpHeadersTimeoutMs: integer(env, 'PETREL_HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000),
    httpRequestTimeoutMs: integer(env, 'PETREL_HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000),
    maxHttpConnections: integer(env, 'PETREL_MAX_HTTP_CONNECTIONS', 2048, 1, 1_000_000),
    maxHttpConnectionsPerIp: integer(env, 'PETREL_MAX_HTTP_CONNECTIONS_PER_IP', 64, 1, 1_000_000),
    heartbeatIntervalMs: integer(env, 'PETREL_HEARTBEAT_SEC', 30, 1, 3600) * 1000,
    maxBufferedBytes: integer(env, 'PETREL_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 512 * 1024, 2 ** 31),
    shutdownTimeoutMs: integer(env, 'PETREL_SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    allowedOrigins: origins(env),
    trustProxy: boolean(env, 'PETREL_TRUST_PROXY', false),
    store: storeConfig(env),
    blobs: {
      accountQuotaBytes: integer(env, 'PETREL_BLOB_ACCOUNT_QUOTA_BYTES', 1024 * MIB, 1, 2 ** 50),
      maxTotalBytes: integer(env, 'PETREL_BLOB_MAX_TOTAL_BYTES', 50 * 1024 * MIB, 0, 2 ** 50),
      retentionMs: integer(env, 'PETREL_BLOB_RETENTION_DAYS', 14, 1, 3650) * DAY_MS,
      idleMs: integer(env, 'PETREL_BLOB_IDLE_HOURS', 24, 1, 24 * 3650) * HOUR_MS,
      chunkMaxBytes: integer(env, 'PETREL_BLOB_CHUNK_MAX_BYTES', 4 * MIB, 64 * 1024, 64 * MIB),
      ipRequestsPerSec: integer(env, 'PETREL_IP_BLOB_REQUESTS_PER_SEC', 50, 1, 1_000_000),
      ipRequestBurst: integer(env, 'PETREL_IP_BLOB_REQUEST_BURST', 200, 1, 1_000_000),
      testThrottleBytesPerSec: integer(env, 'PETREL_BLOB_TEST_THROTTLE_BYTES_PER_SEC', 0, 0, 2 ** 40),
    },
    vault: {
      maxBytes: integer(env, 'PETREL_VAULT_MAX_BYTES', 64 * MIB, 64 * 1024, 1024 * MIB),
      maxTotalBytes: integer(env, 'PETREL_VAULT_MAX_TOTAL_BYTES', 20 * 1024 * MIB, 0, 2 ** 50),
      replaceIntervalMs: integer(env, 'PETREL_VAULT_REPLACE_INTERVAL_MIN', 24 * 60, 0, 525_600) * 60_000,
      retentionMs: integer(env, 'PETREL_VAULT_RETENTION_DAYS', 180, 1, 3650) * DAY_MS,
      ipReadsPerMin: integer(env, 'PETREL_IP_VAULT_READS_PER_MIN', 10, 1, 1_000_000),
      ipReadBurst: integer(env, 'PETREL_IP_VAULT_READ_BURST', 10, 1, 1_000_000),
      ipWritesPerHour: integer(env, 'PETREL_IP_VAULT_WRITES_PER_HOUR', 10, 1, 1_000_000),
      ipWriteBurst: integer(env, 'PETREL_IP_VAULT_WRITE_BURST', 10, 1, 1_000_000),
    },
    push: {
      subject: pushSubject(env),
      allowLoopback: boolean(env, 'PETREL_PUSH_ALLOW_LOOPBACK', false),
      timeoutMs: integer(env, 'PETREL_PUSH_TIMEOUT_MS', 10_000, 100, 120_000),
    },
  };
  if (config.httpRequestTimeoutMs < config.httpHeadersTimeoutMs) {
    throw new ConfigError('PETREL_HTTP_REQUEST_TIMEOUT_MS must not be below PETREL_HTTP_HEADERS_TIMEOUT_MS');
  }
  if (config.prekeyLowThreshold > config.prekeyPoolMax) {
    throw new ConfigError('PETREL_PREKEY_LOW_THRESHOLD must not exceed PETREL_PREKEY_POOL_MAX');
  }
  return config;
}
