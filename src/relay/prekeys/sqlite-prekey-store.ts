import type { FetchedBundle, PublishedBundle } from '../../core/wire/index.ts';
import type { SqliteDatabase } from '../storage/sqlite-database.ts';
import type { PreKeyCounts, PreKeyStore, PublishOutcome } from './prekey-store.ts';

interface IdentityRow {
  spk_id: number;
  spk_pub: Buffer;
  spk_sig: Buffer;
  pqspk_id: number;
  pqspk_pub: Buffer;
  pqspk_sig: Buffer;
}

const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

/** PreKeyStore on SQLite. better-sqlite3 runs each transaction to completion, so take-and-delete is atomic. */
export class SqlitePreKeyStore implements PreKeyStore {
  private readonly publishTx;
  private readonly takeTx;
  private readonly countsStmt;
  private readonly identity;

  constructor(db: SqliteDatabase) {
    const upsertIdentity = db.prepare(
      `INSERT INTO prekey_identities (ik, spk_id, spk_pub, spk_sig, pqspk_id, pqspk_pub, pqspk_sig, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (ik) DO UPDATE SET spk_id = excluded.spk_id, spk_pub = excluded.spk_pub, spk_sig = excluded.spk_sig,
         pqspk_id = excluded.pqspk_id, pqspk_pub = excluded.pqspk_pub, pqspk_sig = excluded.pqspk_sig, updated_at = excluded.updated_at`,
    );
    const putOpk = db.prepare('INSERT OR REPLACE INTO one_time_prekeys (ik, id, pub) VALUES (?, ?, ?)');
    const putPq = db.prepare('INSERT OR REPLACE INTO pq_one_time_prekeys (ik, id, pub, sig) VALUES (?, ?, ?, ?)');
    this.identity = db.prepare<[Uint8Array], IdentityRow>(
      'SELECT spk_id, spk_pub, spk_sig, pqspk_id, pqspk_pub, pqspk_sig FROM prekey_identities WHERE ik = ?',
    );
    this.countsStmt = db.prepare<[Uint8Array, Uint8Array], { opks: number; pqopks: number }>(
      `SELECT (SELECT COUNT(*) FROM one_time_prekeys WHERE ik = ?) AS opks, (SELECT COUNT(*) FROM pq_one_time_prekeys WHERE ik = ?) AS pqopks`,
    );
    const takeOpk = db.prepare<[Uint8Array, Uint8Array], { id: number; pub: Buffer }>(
      'DELETE FROM one_time_prekeys WHERE ik = ? AND id = (SELECT MIN(id) FROM one_time_prekeys WHERE ik = ?) RETURNING id, pub',
    );
    const takePq = db.prepare<[Uint8Array, Uint8Array], { id: number; pub: Buffer; sig: Buffer }>(
      'DELETE FROM pq_one_time_prekeys WHERE ik = ? AND id = (SELECT MIN(id) FROM pq_one_time_prekeys WHERE ik = ?) RETURNING id, pub, sig',
    );

    this.publishTx = db.transaction((b: PublishedBundle, poolMax: number, now: number): PublishOutcome => {
      for (const k of b.opks) putOpk.run(b.ik, k.id, k.pub);
      for (const k of b.pqopks) putPq.run(b.ik, k.id, k.pub, k.sig);
      const counts = this.countsOf(b.ik);
      if (counts.opks > poolMax || counts.pqopks > poolMax) throw new PoolFull();
      upsertIdentity.run(b.ik, b.spk.id, b.spk.pub, b.spk.sig, b.pqspk.id, b.pqspk.pub, b.pqspk.sig, now);
      return { ok: true, counts };
    });

    this.takeTx = db.transaction((ik: Uint8Array, oneTime: boolean) => {
      const idRow = this.identity.get(ik);
      if (!idRow) return undefined;
      const opk = oneTime ? takeOpk.get(ik, ik) : undefined;
      const pq = oneTime ? takePq.get(ik, ik) : undefined;
      const bundle: FetchedBundle = {
        ik,
        spk: { id: idRow.spk_id, pub: plain(idRow.spk_pub), sig: plain(idRow.spk_sig) },
        pq: pq
          ? { id: pq.id, pub: plain(pq.pub), sig: plain(pq.sig), lastResort: false }
          : { id: idRow.pqspk_id, pub: plain(idRow.pqspk_pub), sig: plain(idRow.pqspk_sig), lastResort: true },
        ...(opk ? { opk: { id: opk.id, pub: plain(opk.pub) } } : {}),
      };
      return { bundle, remaining: this.countsOf(ik) };
    });
  }

  private countsOf(ik: Uint8Array): PreKeyCounts {
    const r = this.countsStmt.get(ik, ik);
    return { opks: r?.opks ?? 0, pqopks: r?.pqopks ?? 0 };
  }

  async publish(bundle: PublishedBundle, poolMax: number, now: number): Promise<PublishOutcome> {
    try {
      return this.publishTx.immediate(bundle, poolMax, now);
    } catch (err) {
      // Throwing inside the transaction rolled back every key of this upload.
      if (err instanceof PoolFull) return { ok: false, reason: 'pool_full' };
      throw err;
    }
  }

  async takeBundle(ik: Uint8Array, opts: { readonly oneTime?: boolean } = {}) {
    return this.takeTx.immediate(ik, opts.oneTime ?? true);
  }

  async counts(ik: Uint8Array): Promise<PreKeyCounts | undefined> {
    return this.identity.get(ik) ? this.countsOf(ik) : undefined;
  }
}

class PoolFull extends Error {
  override readonly name = 'PoolFull';
}
