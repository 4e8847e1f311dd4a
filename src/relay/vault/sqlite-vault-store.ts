import type { SqliteDatabase } from '../storage/sqlite-database.ts';
import type { VaultEntry, VaultLimits, VaultPutResult, VaultStore } from './vault-store.ts';

const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** VaultStore on the relay's SQLite database; each write is one transaction. */
export class SqliteVaultStore implements VaultStore {
  private readonly getStmt;
  private readonly headStmt;
  private readonly totalStmt;
  private readonly upsertStmt;
  private readonly deleteStmt;
  private readonly expireStmt;
  private readonly putTx;

  constructor(
    db: SqliteDatabase,
    private readonly limits: VaultLimits,
  ) {
    this.getStmt = db.prepare<[Uint8Array, number], { blob: Buffer; updated_at: number }>('SELECT blob, updated_at FROM vaults WHERE id = ? AND expires_at > ?');
    this.headStmt = db.prepare<[Uint8Array, number], { write_hash: Buffer; updated_at: number; size: number }>(
      'SELECT write_hash, updated_at, length(blob) AS size FROM vaults WHERE id = ? AND expires_at > ?',
    );
    this.totalStmt = db.prepare<[], { n: number }>('SELECT total(length(blob)) AS n FROM vaults');
    this.upsertStmt = db.prepare(
      `INSERT INTO vaults (id, write_hash, blob, updated_at, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET write_hash = excluded.write_hash, blob = excluded.blob, updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
    );
    this.deleteStmt = db.prepare('DELETE FROM vaults WHERE id = ?');
    this.expireStmt = db.prepare('DELETE FROM vaults WHERE expires_at <= ?');
    this.putTx = db.transaction((id: Uint8Array, writeHash: Uint8Array, blob: Uint8Array, now: number): VaultPutResult => {
      const held = this.headStmt.get(id, now);
      if (held) {
        if (!same(plain(held.write_hash), writeHash)) return { ok: false, why: 'forbidden' };
        const retryAt = held.updated_at + this.limits.replaceIntervalMs;
        if (now < retryAt) return { ok: false, why: 'too_soon', retryAt };
      }
      if (this.limits.maxTotalBytes > 0 && this.totalStmt.get()!.n - (held?.size ?? 0) + blob.length > this.limits.maxTotalBytes) return { ok: false, why: 'storage_full' };
      this.upsertStmt.run(id, writeHash, blob, now, now + this.limits.retentionMs);
      return { ok: true, created: !held };
    });
  }

  async get(id: Uint8Array, now: number): Promise<VaultEntry | undefined> {
    const r = this.getStmt.get(id, now);
    return r ? { blob: plain(r.blob), updatedAt: r.updated_at } : undefined;
  }

  async put(entry: { id: Uint8Array; writeHash: Uint8Array; blob: Uint8Array }, now: number): Promise<VaultPutResult> {
    return this.putTx(entry.id, entry.writeHash, entry.blob, now);
  }

  async delete(id: Uint8Array, writeHash: Uint8Array, now: number): Promise<'deleted' | 'forbidden' | 'not_found'> {
    const held = this.headStmt.get(id, now);
    if (!held) return 'not_found';
    if (!same(plain(held.write_hash), writeHash)) return 'forbidden';
    this.deleteStmt.run(id);
    return 'deleted';
  }

  async expire(now: number): Promise<number> {
    return this.expireStmt.run(now).changes;
  }

  async totalBytes(): Promise<number> {
    return this.totalStmt.get()!.n;
  }
}
