import { isIP } from 'node:net';
import { resolve } from 'node:path';

/** Relay configuration, read once from the environment and validated at start. Every variable is in .env.example. */
export interface RelayConfig {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
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
  /** Token bucket per client IP for deposits and signals. */
  readonly ipDepositsPerSec: number;
  readonly ipDepositBurst: number;
  /** Token bucket per client IP for prekey bundle fetches (each may consume one-time keys). */
  readonly ipFetchesPerSec: number;
  readonly ipFetchBurst: number;
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
const DAY_MS = 24 * 60 * 60 * 1000;

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
    heartbeatIntervalMs: integer(env, 'PETREL_HEARTBEAT_SEC', 30, 1, 3600) * 1000,
    maxBufferedBytes: integer(env, 'PETREL_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 512 * 1024, 2 ** 31),
    shutdownTimeoutMs: integer(env, 'PETREL_SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    allowedOrigins: origins(env),
    trustProxy: boolean(env, 'PETREL_TRUST_PROXY', false),
    store: storeConfig(env),
  };
  if (config.prekeyLowThreshold > config.prekeyPoolMax) {
    throw new ConfigError('PETREL_PREKEY_LOW_THRESHOLD must not exceed PETREL_PREKEY_POOL_MAX');
  }
  return config;
}
