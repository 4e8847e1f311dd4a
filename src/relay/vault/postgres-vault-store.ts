import type { Pool } from 'pg';
import { inTransaction } from '../storage/postgres/transaction.ts';
import type { VaultEntry, VaultLimits, VaultPutResult, VaultStore } from './vault-store.ts';

const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/**
 * VaultStore on PostgreSQL, shared by every node. A write locks its id's row (a placeholder
 * row is inserted first for a new id, so two first writes of one id serialise too) and
 * decides under that lock; a refusal rolls back, leaving nothing.
 */
export class PostgresVaultStore implements VaultStore {
  constructor(
    private readonly pool: Pool,
    private readonly limits: VaultLimits,
  ) {}

  async get(id: Uint8Array, now: number): Promise<VaultEntry | undefined> {
    const { rows } = await this.pool.query<{ blob: Buffer; updated_at: string }>('SELECT blob, updated_at FROM vaults WHERE id = $1 AND expires_at > $2 AND updated_at >= 0', [buf(id), now]);
    const r = rows[0];
    return r ? { blob: plain(r.blob), updatedAt: Number(r.updated_at) } : undefined;
  }

  put(entry: { id: Uint8Array; writeHash: Uint8Array; blob: Uint8Array }, now: number): Promise<VaultPutResult> {
    return inTransaction(this.pool, async (client, rollback) => {
      // A placeholder (updated_at -1) makes the row exist to lock; it is replaced or rolled back below.
      await client.query(`INSERT INTO vaults (id, write_hash, blob, updated_at, expires_at) VALUES ($1, $2, '', -1, 0) ON CONFLICT (id) DO NOTHING`, [buf(entry.id), buf(entry.writeHash)]);
      const { rows } = await client.query<{ write_hash: Buffer; updated_at: string; expires_at: string; size: number }>(
        'SELECT write_hash, updated_at, expires_at, octet_length(blob) AS size FROM vaults WHERE id = $1 FOR UPDATE',
        [buf(entry.id)],
      );
      const row = rows[0]!;
      const held = Number(row.updated_at) >= 0 && Number(row.expires_at) > now ? row : undefined;
      if (held) {
        if (!Buffer.from(held.write_hash).equals(buf(entry.writeHash))) return rollback({ ok: false, why: 'forbidden' } as const);
        const retryAt = Number(held.updated_at) + this.limits.replaceIntervalMs;
        if (now < retryAt) return rollback({ ok: false, why: 'too_soon', retryAt } as const);
      }
      if (this.limits.maxTotalBytes > 0) {
        const total = Number((await client.query<{ n: string }>('SELECT COALESCE(SUM(octet_length(blob)), 0) AS n FROM vaults')).rows[0]!.n);
        if (total - row.size + entry.blob.length > this.limits.maxTotalBytes) return rollback({ ok: false, why: 'storage_full' } as const);
      }
      await client.query('UPDATE vaults SET write_hash = $2, blob = $3, updated_at = $4, expires_at = $5 WHERE id = $1', [
        buf(entry.id),
        buf(entry.writeHash),
        buf(entry.blob),
        now,
        now + this.limits.retentionMs,
      ]);
      return { ok: true, created: !held } as const;
    });
  }

  delete(id: Uint8Array, writeHash: Uint8Array, now: number): Promise<'deleted' | 'forbidden' | 'not_found'> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ write_hash: Buffer }>('SELECT write_hash FROM vaults WHERE id = $1 AND expires_at > $2 AND updated_at >= 0 FOR UPDATE', [buf(id), now]);
      if (!rows[0]) return 'not_found';
      if (!Buffer.from(rows[0].write_hash).equals(buf(writeHash))) return 'forbidden';
      await client.query('DELETE FROM vaults WHERE id = $1', [buf(id)]);
      return 'deleted';
    });
  }

  async expire(now: number): Promise<number> {
    const r = await this.pool.query('DELETE FROM vaults WHERE expires_at <= $1 AND updated_at >= 0', [now]);
    return r.rowCount ?? 0;
  }

  async totalBytes(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT COALESCE(SUM(octet_length(blob)), 0) AS n FROM vaults');
    return Number(rows[0]!.n);
  }
}
