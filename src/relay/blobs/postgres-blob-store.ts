import type { Pool } from 'pg';
import { inTransaction } from '../storage/postgres/transaction.ts';
import { BlobDamagedError, blobExpiry, type AckResult, type AppendResult, type BlobInfo, type BlobLimits, type BlobStore, type CreateBlobResult, type NewBlob } from './blob-store.ts';

interface BlobRow {
  id: Buffer;
  owner: Buffer;
  size: string;
  received: string;
  recipients: number;
  created_at: string;
  expires_at: string;
  acks: string;
}

const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** Reads send at most this many bytes per query (a chunk row may be larger). */
const READ_PIECE_BYTES = 1024 * 1024;
/** Advisory lock namespace of the quota check (one lock per owner, hashed into 32 bits). */
const QUOTA_LOCK_CLASS = 7321500119;

const SELECT_ONE = `SELECT b.*, (SELECT count(*) FROM blob_acks a WHERE a.blob_id = b.id) AS acks FROM blobs b WHERE b.id = $1`;

function toInfo(r: BlobRow): BlobInfo {
  return {
    id: plain(r.id),
    owner: plain(r.owner),
    size: Number(r.size),
    received: Number(r.received),
    recipients: r.recipients,
    acks: Number(r.acks),
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
  };
}

/**
 * Blobs in PostgreSQL, metadata and bytes (one `blob_chunks` row per uploaded chunk), so any
 * node of a cluster serves any blob and a node that dies mid-upload loses nothing committed.
 * An append locks the blob's row (`FOR UPDATE`), checks the offset, inserts the chunk and
 * advances `received` in one transaction: two nodes given the same chunk store it once.
 * Creating a blob takes a transaction-level advisory lock on its owner, so concurrent
 * creations by one account cannot both pass the quota; the global cap is read without a
 * lock and may be overshot by what concurrent creations declare.
 */
export class PostgresBlobStore implements BlobStore {
  constructor(
    private readonly pool: Pool,
    private readonly limits: BlobLimits,
  ) {}

  create(blob: NewBlob, now: number): Promise<CreateBlobResult> {
    return inTransaction(this.pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1, hashtext(encode($2, \'hex\')))', [QUOTA_LOCK_CLASS % 2 ** 31, buf(blob.owner)]);
      const { rows } = await c.query<{ mine: string | null; all: string | null }>(
        'SELECT (SELECT sum(size) FROM blobs WHERE owner = $1) AS mine, (SELECT sum(size) FROM blobs) AS all',
        [buf(blob.owner)],
      );
      if (Number(rows[0]?.mine ?? 0) + blob.size > this.limits.accountQuotaBytes) return { ok: false, why: 'over_quota' } as const;
      if (this.limits.maxTotalBytes > 0 && Number(rows[0]?.all ?? 0) + blob.size > this.limits.maxTotalBytes) return { ok: false, why: 'storage_full' } as const;
      await c.query('INSERT INTO blobs (id, owner, size, received, recipients, created_at, expires_at) VALUES ($1, $2, $3, 0, $4, $5, $6)', [
        buf(blob.id),
        buf(blob.owner),
        blob.size,
        blob.recipients,
        now,
        blobExpiry(this.limits, now, blob.size === 0, now),
      ]);
      for (const account of blob.recipientAccounts ?? []) {
        await c.query('INSERT INTO blob_recipients (blob_id, account) VALUES ($1, $2) ON CONFLICT DO NOTHING', [buf(blob.id), buf(account)]);
      }
      const created = await c.query<BlobRow>(SELECT_ONE, [buf(blob.id)]);
      return { ok: true, blob: toInfo(created.rows[0]!) } as const;
    });
  }

  async info(id: Uint8Array): Promise<BlobInfo | undefined> {
    const { rows } = await this.pool.query<BlobRow>(SELECT_ONE, [buf(id)]);
    return rows[0] ? toInfo(rows[0]) : undefined;
  }

  append(id: Uint8Array, offset: number, data: Uint8Array, now?: number): Promise<AppendResult> {
    return inTransaction(this.pool, async (c): Promise<AppendResult> => {
      const { rows } = await c.query<{ size: string; received: string; created_at: string }>('SELECT size, received, created_at FROM blobs WHERE id = $1 FOR UPDATE', [buf(id)]);
      const row = rows[0];
      if (!row) return { ok: false, why: 'not_found' };
      const received = Number(row.received);
      if (offset !== received) return { ok: false, why: 'offset_mismatch', received };
      if (offset + data.length > Number(row.size)) return { ok: false, why: 'beyond_size', received };
      if (data.length > 0) {
        await c.query('INSERT INTO blob_chunks (blob_id, start_offset, data) VALUES ($1, $2, $3)', [buf(id), offset, buf(data)]);
        const finished = offset + data.length === Number(row.size);
        if (now === undefined) await c.query('UPDATE blobs SET received = $2 WHERE id = $1', [buf(id), offset + data.length]);
        else await c.query('UPDATE blobs SET received = $2, expires_at = $3 WHERE id = $1', [buf(id), offset + data.length, blobExpiry(this.limits, Number(row.created_at), finished, now)]);
      }
      return { ok: true, received: offset + data.length };
    });
  }

  async *read(id: Uint8Array, start: number, end: number): AsyncIterable<Uint8Array> {
    const { rows } = await this.pool.query<{ start_offset: string; len: number }>(
      'SELECT start_offset, octet_length(data) AS len FROM blob_chunks WHERE blob_id = $1 AND start_offset < $3 AND start_offset + octet_length(data) > $2 ORDER BY start_offset',
      [buf(id), start, end],
    );
    let at = start;
    for (const chunk of rows) {
      const chunkStart = Number(chunk.start_offset);
      const chunkEnd = Math.min(end, chunkStart + chunk.len);
      if (chunkStart > at) throw new BlobDamagedError('blob chunks do not cover the requested range');
      while (at < chunkEnd) {
        const n = Math.min(READ_PIECE_BYTES, chunkEnd - at);
        // substring() counts from 1.
        const piece = await this.pool.query<{ d: Buffer }>('SELECT substring(data FROM $3 FOR $4) AS d FROM blob_chunks WHERE blob_id = $1 AND start_offset = $2', [
          buf(id),
          chunkStart,
          at - chunkStart + 1,
          n,
        ]);
        const d = piece.rows[0]?.d;
        if (!d || d.length !== n) throw new Error('blob chunk vanished while it was read');
        at += n;
        yield plain(d);
      }
    }
    if (at < end) throw new BlobDamagedError('blob chunks do not cover the requested range');
  }

  ack(id: Uint8Array, account: Uint8Array): Promise<AckResult> {
    return inTransaction(this.pool, async (c): Promise<AckResult> => {
      const { rows } = await c.query<{ recipients: number }>('SELECT recipients FROM blobs WHERE id = $1 FOR UPDATE', [buf(id)]);
      if (!rows[0]) return { ok: false, why: 'not_found' };
      const named = await c.query<{ n: string; mine: string }>('SELECT count(*) AS n, count(*) FILTER (WHERE account = $2) AS mine FROM blob_recipients WHERE blob_id = $1', [buf(id), buf(account)]);
      if (Number(named.rows[0]!.n) > 0 && Number(named.rows[0]!.mine) === 0) return { ok: false, why: 'not_recipient' };
      await c.query('INSERT INTO blob_acks (blob_id, account) VALUES ($1, $2) ON CONFLICT DO NOTHING', [buf(id), buf(account)]);
      const acks = await c.query<{ n: string }>('SELECT count(*) AS n FROM blob_acks WHERE blob_id = $1', [buf(id)]);
      if (Number(acks.rows[0]!.n) < rows[0].recipients) return { ok: true, deleted: false };
      await c.query('DELETE FROM blobs WHERE id = $1', [buf(id)]);
      return { ok: true, deleted: true };
    });
  }

  async delete(id: Uint8Array): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM blobs WHERE id = $1', [buf(id)]);
    return (rowCount ?? 0) > 0;
  }

  async expire(now: number): Promise<number> {
    const { rowCount } = await this.pool.query('DELETE FROM blobs WHERE expires_at <= $1', [now]);
    return rowCount ?? 0;
  }

  async accountBytes(owner: Uint8Array): Promise<number> {
    const { rows } = await this.pool.query<{ n: string | null }>('SELECT sum(size) AS n FROM blobs WHERE owner = $1', [buf(owner)]);
    return Number(rows[0]?.n ?? 0);
  }

  async totalBytes(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string | null }>('SELECT sum(size) AS n FROM blobs');
    return Number(rows[0]?.n ?? 0);
  }
}
