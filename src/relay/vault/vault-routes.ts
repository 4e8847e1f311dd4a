import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ChunkMemoryBudget } from '../blobs/blob-routes.ts';
import type { VaultConfig } from '../config.ts';
import { clientIp } from '../http/client-ip.ts';
import { readExactBody } from '../http/read-body.ts';
import { SECURITY_HEADERS } from '../http/security-headers.ts';
import type { RateLimitStore } from '../limits/rate-limit-store.ts';
import type { RelayMetrics } from '../metrics.ts';
import { VAULT_ID_BYTES, type VaultStore } from './vault-store.ts';
import { HttpRefusal } from '../http/http-refusal.ts';

/**
 * The backup vault's endpoints (docs/PROTOCOL.md §16.4). The id and the write token are
 * derived from the user's recovery key; the relay keeps SHA-256 of the token, and learns
 * nothing else (no account, no signature: a vault entry is tied to nobody).
 *
 *   PUT    /vault/{id}   Authorization: PetrelVault <token>, body = the backup → 201 (stored) or 204 (replaced)
 *   GET    /vault/{id}   → 200, the backup
 *   DELETE /vault/{id}   Authorization: PetrelVault <token> → 204
 *
 * Ids are 16 bytes and tokens 32, base64url. Every request takes a token from its client
 * IP's bucket first (reads and writes apart: each GET is a guess at an id). Refusals are
 * JSON `{error, message}` with a fixed status per kind, each counted in
 * `petrel_vault_requests_total{op, result}`; a refused write stores nothing.
 */
type Op = 'put' | 'get' | 'delete';
type Refusal = 'unauthenticated' | 'forbidden' | 'not_found' | 'too_large' | 'too_soon' | 'storage_full' | 'bad_request' | 'rate_limited' | 'busy' | 'draining';

const STATUS: Readonly<Record<Refusal, number>> = {
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  too_large: 413,
  too_soon: 429,
  storage_full: 507,
  bad_request: 400,
  rate_limited: 429,
  busy: 503,
  draining: 503,
};

export const VAULT_WRITE_TOKEN_BYTES = 32;
/** Backup bodies held in memory at once, across all requests, at most this many size caps. */
export const VAULT_BODIES_IN_MEMORY = 4;
const PATH = /^\/vault\/([A-Za-z0-9_-]{22})$/;
const TOKEN = /^PetrelVault ([A-Za-z0-9_-]{43})$/;
const NO_STORE = { ...SECURITY_HEADERS, 'Cache-Control': 'no-store' };

export interface VaultRouteDeps {
  readonly store: VaultStore;
  readonly config: VaultConfig;
  readonly metrics: RelayMetrics;
  readonly now: () => number;
  readonly draining: () => boolean;
  readonly rateLimits: RateLimitStore;
  readonly trustProxy: boolean;
  /** Shared by every vault request of this relay: bodies are buffered within it. */
  readonly bodyMemory: ChunkMemoryBudget;
  readonly failed: (err: unknown) => void;
}

class Refused extends HttpRefusal<Refusal> {}

/** SHA-256 of the request's write token; Refused when it is missing or malformed. */
function writeHash(req: IncomingMessage): Uint8Array {
  const m = TOKEN.exec(req.headers.authorization ?? '');
  const token = m ? Buffer.from(m[1]!, 'base64url') : undefined;
  if (!token || token.length !== VAULT_WRITE_TOKEN_BYTES) throw new Refused('unauthenticated', 'a write needs Authorization: PetrelVault <write token>');
  return new Uint8Array(createHash('sha256').update(token).digest());
}

/** Serves a /vault request; returns false for other paths. */
export function serveVaultRoute(req: IncomingMessage, path: string, res: ServerResponse, deps: VaultRouteDeps): boolean {
  const m = PATH.exec(path);
  if (!m) return false;
  const id = new Uint8Array(Buffer.from(m[1]!, 'base64url'));
  if (id.length !== VAULT_ID_BYTES) return false;
  const method = req.method ?? '';
  const op: Op = method === 'PUT' ? 'put' : method === 'DELETE' ? 'delete' : 'get';
  const refuse = (err: Refused) => {
    deps.metrics.vaultRequests.inc({ op, result: err.reason });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const close = method === 'PUT' ? { Connection: 'close' } : {};
    const auth = err.reason === 'unauthenticated' ? { 'WWW-Authenticate': 'PetrelVault' } : {};
    res.writeHead(STATUS[err.reason], { ...NO_STORE, 'Content-Type': 'application/json', ...close, ...auth, ...err.headers });
    res.end(method === 'HEAD' ? undefined : JSON.stringify({ error: err.reason, message: err.message }));
  };
  const run = async () => {
    if (op === 'get' && method !== 'GET' && method !== 'HEAD') throw new Refused('bad_request', 'GET, PUT or DELETE expected');
    if (deps.draining()) throw new Refused('draining', 'the relay is shutting down; retry on another node or later');
    const ip = clientIp(req, deps.trustProxy);
    const { config } = deps;
    const [bucket, rule] =
      op === 'get'
        ? (['vault_read', { perSec: config.ipReadsPerMin / 60, burst: config.ipReadBurst }] as const)
        : (['vault_write', { perSec: config.ipWritesPerHour / 3600, burst: config.ipWriteBurst }] as const);
    if (!(await deps.rateLimits.take(`ip:${ip}:${bucket}`, rule, deps.now()))) {
      deps.metrics.rateLimited.inc({ bucket: `ip_${bucket}` });
      throw new Refused('rate_limited', 'too many backup requests from this address; retry later', { 'Retry-After': String(Math.ceil(1 / rule.perSec)) });
    }
    if (op === 'get') {
      const entry = await deps.store.get(id, deps.now());
      if (!entry) throw new Refused('not_found', 'no backup under this id');
      res.writeHead(200, { ...NO_STORE, 'Content-Type': 'application/octet-stream', 'Content-Length': String(entry.blob.length) });
      res.end(method === 'HEAD' ? undefined : entry.blob);
    } else if (op === 'delete') {
      const result = await deps.store.delete(id, writeHash(req), deps.now());
      if (result === 'not_found') throw new Refused('not_found', 'no backup under this id');
      if (result === 'forbidden') throw new Refused('forbidden', 'another write token holds this id');
      res.writeHead(204, NO_STORE);
      res.end();
    } else await put(req, res, deps, id);
    deps.metrics.vaultRequests.inc({ op, result: 'ok' });
  };
  run().catch((err: unknown) => {
    if (err instanceof Refused) return refuse(err);
    deps.failed(err);
    deps.metrics.vaultRequests.inc({ op, result: 'failed' });
    if (res.headersSent) res.destroy();
    else {
      res.writeHead(500, { ...NO_STORE, 'Content-Type': 'application/json', Connection: 'close' });
      res.end(JSON.stringify({ error: 'internal', message: 'internal error' }));
    }
  });
  return true;
}

async function put(req: IncomingMessage, res: ServerResponse, deps: VaultRouteDeps, id: Uint8Array): Promise<void> {
  const hash = writeHash(req);
  const raw = req.headers['content-length'];
  if (raw === undefined || !/^\d{1,15}$/.test(raw)) throw new Refused('bad_request', 'Content-Length is required (no chunked bodies)');
  const length = Number(raw);
  if (length > deps.config.maxBytes) throw new Refused('too_large', `a backup is at most ${deps.config.maxBytes} bytes`);
  if (length === 0) throw new Refused('bad_request', 'an empty backup');
  if (!deps.bodyMemory.tryTake(length)) throw new Refused('busy', 'the relay is receiving too many backups at once; retry shortly', { 'Retry-After': '1' });
  let result;
  try {
    const body = await readExactBody(req, length);
    if ('refused' in body) throw new Refused('bad_request', body.refused);
    result = await deps.store.put({ id, writeHash: hash, blob: body }, deps.now());
  } finally {
    deps.bodyMemory.give(length);
  }
  if (!result.ok) {
    if (result.why !== 'too_soon') {
      throw result.why === 'forbidden' ? new Refused('forbidden', 'another write token holds this id') : new Refused('storage_full', 'the relay has no room for backups right now');
    }
    const wait = Math.max(1, Math.ceil((result.retryAt - deps.now()) / 1000));
    throw new Refused('too_soon', `a backup here is replaced at most every ${Math.round(deps.config.replaceIntervalMs / 60_000)} minutes`, { 'Retry-After': String(wait) });
  }
  res.writeHead(result.created ? 201 : 204, NO_STORE);
  res.end();
}
