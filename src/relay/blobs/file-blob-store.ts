import { constants, mkdirSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SqliteDatabase } from '../storage/sqlite-database.ts';
import { BlobDamagedError, blobExpiry, type AckResult, type AppendResult, type BlobInfo, type BlobLimits, type BlobStore, type CreateBlobResult, type NewBlob } from './blob-store.ts';

interface BlobRow {
  id: Buffer;
  owner: Buffer;
  size: number;
  received: number;
  recipients: number;
  created_at: number;
  expires_at: number;
  acks: number;
}

const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const READ_PIECE_BYTES = 256 * 1024;

function toInfo(r: BlobRow): BlobInfo {
  return {
    id: plain(r.id),
    owner: plain(r.owner),
    size: r.size,
    received: r.received,
    recipients: r.recipients,
    acks: r.acks,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
  };
}

/**
 * Blobs on one node: metadata in the relay's SQLite database (migration 3), bytes in
 * `<dataDir>/blobs/<id hex>`. A chunk is written at its offset and fsynced BEFORE the
 * offset is advanced in the database, so after a crash the database never claims bytes the
 * file lacks; bytes written past the recorded offset are simply overwritten by the re-sent
 * chunk. Appends to one blob are serialised in process (this store is single-node).
 */
export class FileBlobStore implements BlobStore {
  private readonly dir: string;
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly selectOne;
  private readonly createTx;
  private readonly advance;
  private readonly ackTx;
  private readonly removeRows;
  private readonly expired;
  private readonly ownerBytes;
  private readonly allBytes;

  constructor(
    db: SqliteDatabase,
    dataDir: string,
    private readonly limits: BlobLimits,
  ) {
    this.dir = join(dataDir, 'blobs');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.selectOne = db.prepare<[Uint8Array], BlobRow>(
      'SELECT b.*, (SELECT count(*) FROM blob_acks a WHERE a.blob_id = b.id) AS acks FROM blobs b WHERE b.id = ?',
    );
    this.ownerBytes = db.prepare<[Uint8Array], { n: number | null }>('SELECT sum(size) AS n FROM blobs WHERE owner = ?');
    this.allBytes = db.prepare<[], { n: number | null }>('SELECT sum(size) AS n FROM blobs');
    const insert = db.prepare('INSERT INTO blobs (id, owner, size, received, recipients, created_at, expires_at) VALUES (?, ?, ?, 0, ?, ?, ?)');
    const insertRecipient = db.prepare('INSERT INTO blob_recipients (blob_id, account) VALUES (?, ?) ON CONFLICT DO NOTHING');
    const namedRecipients = db.prepare<[Uint8Array], { n: number }>('SELECT count(*) AS n FROM blob_recipients WHERE blob_id = ?');
    const isRecipient = db.prepare<[Uint8Array, Uint8Array], { one: number }>('SELECT 1 AS one FROM blob_recipients WHERE blob_id = ? AND account = ?');
    this.createTx = db.transaction((blob: NewBlob, now: number): CreateBlobResult => {
      if ((this.ownerBytes.get(blob.owner)?.n ?? 0) + blob.size > this.limits.accountQuotaBytes) return { ok: false, why: 'over_quota' };
      if (this.limits.maxTotalBytes > 0 && (this.allBytes.get()?.n ?? 0) + blob.size > this.limits.maxTotalBytes) return { ok: false, why: 'storage_full' };
      insert.run(blob.id, blob.owner, blob.size, blob.recipients, now, blobExpiry(this.limits, now, blob.size === 0, now));
      for (const account of blob.recipientAccounts ?? []) insertRecipient.run(blob.id, account);
      return { ok: true, blob: toInfo(this.selectOne.get(blob.id)!) };
    });
    this.advance = db.prepare<[number, number, Uint8Array, number]>('UPDATE blobs SET received = ?, expires_at = ? WHERE id = ? AND received = ?');
    const insertAck = db.prepare('INSERT INTO blob_acks (blob_id, account) VALUES (?, ?) ON CONFLICT DO NOTHING');
    const deleteBlob = db.prepare('DELETE FROM blobs WHERE id = ?');
    const deleteAcks = db.prepare('DELETE FROM blob_acks WHERE blob_id = ?');
    const deleteRecipients = db.prepare('DELETE FROM blob_recipients WHERE blob_id = ?');
    this.removeRows = db.transaction((id: Uint8Array): boolean => {
      deleteAcks.run(id);
      deleteRecipients.run(id);
      return deleteBlob.run(id).changes > 0;
    });
    this.ackTx = db.transaction((id: Uint8Array, account: Uint8Array): AckResult => {
      const row = this.selectOne.get(id);
      if (!row) return { ok: false, why: 'not_found' };
      if ((namedRecipients.get(id)?.n ?? 0) > 0 && !isRecipient.get(id, account)) return { ok: false, why: 'not_recipient' };
      insertAck.run(id, account);
      const acks = this.selectOne.get(id)!.acks;
      if (acks < row.recipients) return { ok: true, deleted: false };
      this.removeRows(id);
      return { ok: true, deleted: true };
    });
    this.expired = db.prepare<[number], { id: Buffer }>('SELECT id FROM blobs WHERE expires_at <= ?');
  }

  private path(id: Uint8Array): string {
    return join(this.dir, Buffer.from(id).toString('hex'));
  }

  /** Runs `task` after every earlier task on the same blob. */
  private serial<T>(id: Uint8Array, task: () => Promise<T>): Promise<T> {
    const key = Buffer.from(id).toString('hex');
    const run = (this.locks.get(key) ?? Promise.resolve()).then(task, task);
    const settled = run.catch(() => {});
    this.locks.set(key, settled);
    void settled.then(() => {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    });
    return run;
  }

  async create(blob: NewBlob, now: number): Promise<CreateBlobResult> {
    const result = this.createTx(blob, now);
    if (!result.ok) return result;
    // The file and its directory entry are durable before the blob is announced.
    const file = await open(this.path(blob.id), 'w', 0o600);
    try {
      await file.sync();
    } finally {
      await file.close();
    }
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    return result;
  }

  async info(id: Uint8Array): Promise<BlobInfo | undefined> {
    const row = this.selectOne.get(id);
    return row ? toInfo(row) : undefined;
  }

  append(id: Uint8Array, offset: number, data: Uint8Array, now?: number): Promise<AppendResult> {
    return this.serial(id, async (): Promise<AppendResult> => {
      const row = this.selectOne.get(id);
      if (!row) return { ok: false, why: 'not_found' };
      if (offset !== row.received) return { ok: false, why: 'offset_mismatch', received: row.received };
      if (offset + data.length > row.size) return { ok: false, why: 'beyond_size', received: row.received };
      // O_CREAT: a crash between the row's commit and the file's creation leaves no file yet.
      const file = await open(this.path(id), constants.O_RDWR | constants.O_CREAT, 0o600);
      try {
        await file.write(data, 0, data.length, offset);
        await file.datasync();
      } finally {
        await file.close();
      }
      const received = offset + data.length;
      const expiresAt = now === undefined ? row.expires_at : blobExpiry(this.limits, row.created_at, received === row.size, now);
      this.advance.run(received, expiresAt, id, offset);
      return { ok: true, received: offset + data.length };
    });
  }

  async *read(id: Uint8Array, start: number, end: number): AsyncIterable<Uint8Array> {
    const file = await open(this.path(id), 'r').catch((err: unknown) => {
      throw (err as { code?: string }).code === 'ENOENT' ? new BlobDamagedError('blob file missing') : err;
    });
    try {
      // A file cut short is known before the first byte goes out (the client is told, not left waiting).
      if ((await file.stat()).size < end) throw new BlobDamagedError('blob file shorter than its recorded offset');
      for (let at = start; at < end; ) {
        const piece = new Uint8Array(Math.min(READ_PIECE_BYTES, end - at));
        const { bytesRead } = await file.read(piece, 0, piece.length, at);
        if (bytesRead === 0) throw new BlobDamagedError('blob file shorter than its recorded offset');
        at += bytesRead;
        yield piece.subarray(0, bytesRead);
      }
    } finally {
      await file.close();
    }
  }

  ack(id: Uint8Array, account: Uint8Array): Promise<AckResult> {
    return this.serial(id, async () => {
      const result = this.ackTx(id, account);
      if (result.ok && result.deleted) await rm(this.path(id), { force: true });
      return result;
    });
  }

  delete(id: Uint8Array): Promise<boolean> {
    return this.serial(id, async () => {
      const removed = this.removeRows(id);
      await rm(this.path(id), { force: true });
      return removed;
    });
  }

  async expire(now: number): Promise<number> {
    let n = 0;
    for (const { id } of this.expired.all(now)) if (await this.delete(plain(id))) n++;
    return n;
  }

  async accountBytes(owner: Uint8Array): Promise<number> {
    return this.ownerBytes.get(owner)?.n ?? 0;
  }

  async totalBytes(): Promise<number> {
    return this.allBytes.get()?.n ?? 0;
  }
}
