import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { MAX_ATTACHMENT_BLOB_BYTES } from '../../core/wire/attachment-layout.ts';
import type { BlobConfig } from '../config.ts';
import { clientIp } from '../http/client-ip.ts';
import { readExactBody } from '../http/read-body.ts';
import { SECURITY_HEADERS } from '../http/security-headers.ts';
import type { RateLimitStore } from '../limits/rate-limit-store.ts';
import type { RelayMetrics } from '../metrics.ts';
import { BLOB_ID_BYTES, BlobDamagedError, blobComplete, type BlobInfo, type BlobStore } from './blob-store.ts';
import { verifyBlobRequest } from './blob-request-auth.ts';
import { HttpRefusal } from '../http/http-refusal.ts';

/**
 * The relay's blob endpoints (tus-like resumable upload, ranged download; docs/PROTOCOL.md
 * §14.5). Every request is signed by an account (blob-request-auth.ts):
 *
 *   POST   /blobs              Upload-Length, Petrel-Recipients → 201, Location, Upload-Offset: 0
 *   HEAD   /blobs/{id}         → Upload-Offset, Upload-Length (where to resume)
 *   PATCH  /blobs/{id}         Upload-Offset, body = the next chunk (owner only) → 204, Upload-Offset
 *   GET    /blobs/{id}         [Range: bytes=a-b] → 200/206 (finished blobs only)
 *   POST   /blobs/{id}/ack     the account has the blob; deleted when every recipient has
 *   DELETE /blobs/{id}         the owner cancels
 *
 * Refusals are JSON `{error, message}` with a fixed status per kind, each counted in
 * `petrel_blob_requests_total{op, result}`; a refused chunk stores nothing.
 */

/** Chunk bodies held in memory at once, across all requests, at most this many chunk caps (bounds what slow uploaders can pin). */
export const CHUNKS_IN_MEMORY = 16;

/** Bytes of chunk bodies being received across all requests of one relay. */
export class ChunkMemoryBudget {
  private used = 0;
  constructor(readonly capacity: number) {}
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.capacity) return false;
    this.used += bytes;
    return true;
  }
  give(bytes: number): void {
    this.used -= bytes;
  }
  get inUse(): number {
    return this.used;
  }
}

/** Most recipient devices one blob may wait for. */
export const MAX_BLOB_RECIPIENTS = 1024;
const ID_PATTERN = /^\/blobs\/([A-Za-z0-9_-]{22})(\/ack)?$/;

type Op = 'create' | 'patch' | 'head' | 'get' | 'ack' | 'delete';
type Refusal =
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'over_quota'
  | 'storage_full'
  | 'too_large'
  | 'beyond_size'
  | 'offset_mismatch'
  | 'incomplete'
  | 'bad_range'
  | 'bad_request'
  | 'rate_limited'
  | 'busy'
  | 'draining'
  | 'damaged';

const STATUS: Readonly<Record<Refusal, number>> = {
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  over_quota: 403,
  storage_full: 507,
  too_large: 413,
  beyond_size: 413,
  offset_mismatch: 409,
  incomplete: 409,
  bad_range: 416,
  bad_request: 400,
  rate_limited: 429,
  busy: 503,
  draining: 503,
  // Gone for good: the relay's copy lost bytes (the client says the file is truncated, and does not retry).
  damaged: 410,
};

export interface BlobRouteDeps {
  readonly store: BlobStore;
  readonly config: BlobConfig;
  readonly metrics: RelayMetrics;
  readonly log: Logger;
  readonly now: () => number;
  readonly draining: () => boolean;
  readonly rateLimits: RateLimitStore;
  readonly trustProxy: boolean;
  /** Shared by every request of this relay: chunk bodies are buffered within it. */
  readonly chunkMemory: ChunkMemoryBudget;
  /** An unexpected error: logged and counted by the server; the request ends with 500. */
  readonly failed: (err: unknown) => void;
}

class Refused extends HttpRefusal<Refusal> {}

const NO_STORE = { ...SECURITY_HEADERS, 'Cache-Control': 'no-store' };
const idText = (id: Uint8Array) => Buffer.from(id).toString('base64url');

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** A non-negative decimal integer header, or undefined when absent; Refused when malformed. */
function integerHeader(req: IncomingMessage, name: string): number | undefined {
  const raw = header(req, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new Refused('bad_request', `${name} must be a non-negative integer`);
  return Number(raw);
}

/** Reads a body of exactly `length` bytes (Content-Length was checked against the caps already). */
async function readBody(req: IncomingMessage, length: number): Promise<Uint8Array> {
  const body = await readExactBody(req, length);
  if ('refused' in body) throw new Refused('bad_request', body.refused);
  return body;
}

/** `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range, RFC 9110 §14.1.2) → [start, end) within size; undefined without Range. */
function parseRange(raw: string | undefined, size: number): [number, number] | undefined {
  if (raw === undefined) return undefined;
  const m = /^bytes=(\d{0,15})-(\d{0,15})$/.exec(raw);
  if (!m || (m[1] === '' && m[2] === '')) throw new Refused('bad_range', 'only one byte range is served', { 'Content-Range': `bytes */${size}` });
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size : Math.min(size, Number(m[2]) + 1);
  }
  if (start >= size || end <= start) throw new Refused('bad_range', 'range not satisfiable', { 'Content-Range': `bytes */${size}` });
  return [start, end];
}

/** Serves a /blobs request; returns false for paths that are not blob paths. */
export function serveBlobRoute(req: IncomingMessage, path: string, res: ServerResponse, deps: BlobRouteDeps): boolean {
  const method = req.method ?? '';
  let op: Op;
  let id: Uint8Array | undefined;
  if (path === '/blobs') {
    op = 'create';
  } else {
    const m = ID_PATTERN.exec(path);
    if (!m) return false;
    id = new Uint8Array(Buffer.from(m[1]!, 'base64url'));
    if (id.length !== BLOB_ID_BYTES) return false;
    op = m[2] ? 'ack' : method === 'PATCH' ? 'patch' : method === 'HEAD' ? 'head' : method === 'DELETE' ? 'delete' : 'get';
  }
  const expected: Record<Op, string> = { create: 'POST', ack: 'POST', patch: 'PATCH', head: 'HEAD', get: 'GET', delete: 'DELETE' };
  const refuse = (err: Refused) => {
    deps.metrics.blobRequests.inc({ op, result: err.reason });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A refused upload's body is not read: close the connection rather than drain it.
    const close = method === 'POST' || method === 'PATCH' ? { Connection: 'close' } : {};
    const auth = err.reason === 'unauthenticated' ? { 'WWW-Authenticate': 'Petrel' } : {};
    res.writeHead(STATUS[err.reason], { ...NO_STORE, 'Content-Type': 'application/json', ...close, ...auth, ...err.headers });
    res.end(method === 'HEAD' ? undefined : JSON.stringify({ error: err.reason, message: err.message }));
  };
  const run = async () => {
    if (method !== expected[op]) throw new Refused('bad_request', `${op === 'get' ? 'GET, HEAD, PATCH or DELETE' : expected[op]} expected`);
    if (deps.draining()) throw new Refused('draining', 'the relay is shutting down; retry on another node or later');
    const ip = clientIp(req, deps.trustProxy);
    const rule = { perSec: deps.config.ipRequestsPerSec, burst: deps.config.ipRequestBurst };
    if (!(await deps.rateLimits.take(`ip:${ip}:blob`, rule, deps.now()))) {
      deps.metrics.rateLimited.inc({ bucket: 'ip_blob' });
      throw new Refused('rate_limited', 'too many attachment requests from this address; retry shortly', { 'Retry-After': '1' });
    }
    const auth = verifyBlobRequest(req, path, deps.now());
    if (!auth.ok) throw new Refused('unauthenticated', `request signature refused (${auth.why})`);
    const account = auth.account;
    if (op === 'create') {
      await create(req, res, deps, account);
      // Counted like every other operation (it used to return before the count: creations never showed as ok).
      deps.metrics.blobRequests.inc({ op, result: 'ok' });
      return;
    }
    const blob = await deps.store.info(id!);
    if (!blob || blob.expiresAt <= deps.now()) throw new Refused('not_found', 'no such blob');
    const owned = Buffer.from(blob.owner).equals(Buffer.from(account));
    switch (op) {
      case 'head':
        res.writeHead(200, { ...NO_STORE, 'Upload-Offset': String(blob.received), 'Upload-Length': String(blob.size) });
        res.end();
        break;
      case 'patch':
        if (!owned) throw new Refused('forbidden', 'only the uploading account may add to a blob');
        await patch(req, res, deps, blob);
        break;
      case 'get':
        await download(req, res, deps, blob);
        break;
      case 'ack': {
        const result = await deps.store.ack(blob.id, account);
        if (!result.ok) throw result.why === 'not_recipient' ? new Refused('forbidden', 'this account is not a recipient of the blob') : new Refused('not_found', 'no such blob');
        if (result.deleted) deps.metrics.blobsDeleted.inc({ reason: 'acked' });
        res.writeHead(204, NO_STORE);
        res.end();
        break;
      }
      case 'delete':
        if (!owned) throw new Refused('forbidden', 'only the uploading account may delete a blob');
        if (await deps.store.delete(blob.id)) deps.metrics.blobsDeleted.inc({ reason: 'cancelled' });
        res.writeHead(204, NO_STORE);
        res.end();
        break;
    }
    deps.metrics.blobRequests.inc({ op, result: 'ok' });
  };
  run().catch((err: unknown) => {
    if (err instanceof Refused) return refuse(err);
    if (err instanceof BlobDamagedError) {
      deps.log.error({ error: err.message }, 'blob damaged in storage');
      return refuse(new Refused('damaged', 'the relay lost part of this blob'));
    }
    deps.failed(err);
    deps.metrics.blobRequests.inc({ op, result: 'failed' });
    if (res.headersSent) res.destroy();
    else {
      res.writeHead(500, { ...NO_STORE, 'Content-Type': 'application/json', Connection: 'close' });
      res.end(JSON.stringify({ error: 'internal', message: 'internal error' }));
    }
  });
  return true;
}

/** Most accounts `Petrel-Recipient-Accounts` may name (43 characters each: the header stays under Node's 16 KiB). */
export const MAX_NAMED_BLOB_RECIPIENTS = 256;

/** `Petrel-Recipient-Accounts`: comma-separated base64url mailbox addresses, each once; undefined when absent. */
function recipientAccounts(req: IncomingMessage): Uint8Array[] | undefined {
  const raw = header(req, 'petrel-recipient-accounts');
  if (raw === undefined) return undefined;
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length > MAX_NAMED_BLOB_RECIPIENTS || new Set(parts).size !== parts.length || !parts.every((p) => /^[A-Za-z0-9_-]{43}$/.test(p))) {
    throw new Refused('bad_request', `Petrel-Recipient-Accounts must name 1 to ${MAX_NAMED_BLOB_RECIPIENTS} distinct accounts (base64url, 32 bytes each)`);
  }
  return parts.map((p) => new Uint8Array(Buffer.from(p, 'base64url')));
}

async function create(req: IncomingMessage, res: ServerResponse, deps: BlobRouteDeps, owner: Uint8Array): Promise<void> {
  const size = integerHeader(req, 'upload-length');
  if (size === undefined) throw new Refused('bad_request', 'Upload-Length is required');
  if (size > MAX_ATTACHMENT_BLOB_BYTES) throw new Refused('too_large', `a blob is at most ${MAX_ATTACHMENT_BLOB_BYTES} bytes (a 100 MiB file, encrypted and padded)`);
  const recipients = integerHeader(req, 'petrel-recipients') ?? 1;
  if (recipients < 1 || recipients > MAX_BLOB_RECIPIENTS) throw new Refused('bad_request', `Petrel-Recipients must be 1 to ${MAX_BLOB_RECIPIENTS}`);
  const accounts = recipientAccounts(req);
  if (accounts && accounts.length !== recipients) throw new Refused('bad_request', 'Petrel-Recipients must count the accounts in Petrel-Recipient-Accounts');
  const id = new Uint8Array(randomBytes(BLOB_ID_BYTES));
  const result = await deps.store.create({ id, owner, size, recipients, ...(accounts ? { recipientAccounts: accounts } : {}) }, deps.now());
  if (!result.ok) {
    throw result.why === 'over_quota'
      ? new Refused('over_quota', `this account already holds ${deps.config.accountQuotaBytes} bytes of attachments or more with this one`)
      : new Refused('storage_full', 'the relay has no room for attachments right now');
  }
  res.writeHead(201, {
    ...NO_STORE,
    'Content-Type': 'application/json',
    Location: `/blobs/${idText(id)}`,
    'Upload-Offset': '0',
    'Upload-Length': String(size),
  });
  res.end(JSON.stringify({ id: idText(id), expiresAt: result.blob.expiresAt }));
}

/** The test-only throttle (PETREL_BLOB_TEST_THROTTLE_BYTES_PER_SEC): holds `bytes` to that rate; off by default. */
async function pace(deps: BlobRouteDeps, bytes: number): Promise<void> {
  const rate = deps.config.testThrottleBytesPerSec;
  if (rate > 0) await new Promise((resolve) => setTimeout(resolve, (bytes * 1000) / rate));
}

async function patch(req: IncomingMessage, res: ServerResponse, deps: BlobRouteDeps, blob: BlobInfo): Promise<void> {
  const offset = integerHeader(req, 'upload-offset');
  if (offset === undefined) throw new Refused('bad_request', 'Upload-Offset is required');
  const length = integerHeader(req, 'content-length');
  if (length === undefined) throw new Refused('bad_request', 'Content-Length is required (no chunked bodies)');
  if (length > deps.config.chunkMaxBytes) throw new Refused('too_large', `a chunk is at most ${deps.config.chunkMaxBytes} bytes`);
  const at = { 'Upload-Offset': String(blob.received) };
  if (offset !== blob.received) throw new Refused('offset_mismatch', `the blob has ${blob.received} bytes; send from there`, at);
  if (offset + length > blob.size) throw new Refused('beyond_size', `the chunk ends past the declared ${blob.size} bytes`, at);
  if (!deps.chunkMemory.tryTake(length)) throw new Refused('busy', 'the relay is receiving too many chunks at once; retry shortly', { 'Retry-After': '1' });
  let result;
  try {
    const body = await readBody(req, length);
    result = await deps.store.append(blob.id, offset, body, deps.now());
  } finally {
    deps.chunkMemory.give(length);
  }
  if (!result.ok) {
    if (result.why === 'not_found') throw new Refused('not_found', 'no such blob');
    const now = { 'Upload-Offset': String(result.received) };
    throw result.why === 'offset_mismatch'
      ? new Refused('offset_mismatch', `the blob has ${result.received} bytes; send from there`, now)
      : new Refused('beyond_size', `the chunk ends past the declared ${blob.size} bytes`, now);
  }
  deps.metrics.blobBytes.inc({ direction: 'in' }, length);
  await pace(deps, length);
  res.writeHead(204, { ...NO_STORE, 'Upload-Offset': String(result.received) });
  res.end();
}

/**
 * Waits for `drain` or `close`, then removes both listeners (a race of two `once()` left the
 * loser's listener behind on every wait: a long download piled them up past Node's warning).
 */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

async function download(req: IncomingMessage, res: ServerResponse, deps: BlobRouteDeps, blob: BlobInfo): Promise<void> {
  if (!blobComplete(blob)) throw new Refused('incomplete', `the upload has ${blob.received} of ${blob.size} bytes`);
  const range = parseRange(header(req, 'range'), blob.size);
  const [start, end] = range ?? [0, blob.size];
  const headers: Record<string, string> = {
    ...NO_STORE,
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(end - start),
    'Accept-Ranges': 'bytes',
  };
  if (range) headers['Content-Range'] = `bytes ${start}-${end - 1}/${blob.size}`;
  // The first piece before the answer: a blob the store cannot serve is refused (`damaged`), not cut off mid-body.
  const pieces = deps.store.read(blob.id, start, end)[Symbol.asyncIterator]();
  const first = await pieces.next();
  res.writeHead(range ? 206 : 200, headers);
  try {
    for (let next = first; !next.done; next = await pieces.next()) {
      const piece = next.value;
      if (res.destroyed) return;
      deps.metrics.blobBytes.inc({ direction: 'out' }, piece.length);
      await pace(deps, piece.length);
      if (res.destroyed) return;
      if (!res.write(piece)) await drainedOrClosed(res);
    }
  } finally {
    await pieces.return?.();
  }
  res.end();
}
