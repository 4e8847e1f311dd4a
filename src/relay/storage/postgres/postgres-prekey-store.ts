import type { Pool } from 'pg';
import type { FetchedBundle, PublishedBundle } from '../../../core/wire/index.ts';
import type { PreKeyCounts, PreKeyStore, PublishOutcome } from '../../prekeys/prekey-store.ts';
import { withRetry } from './retry.ts';
import { inTransaction } from './transaction.ts';

const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

interface TakeRow {
  spk_id: number;
  spk_pub: Buffer;
  spk_sig: Buffer;
  pqspk_id: number;
  pqspk_pub: Buffer;
  pqspk_sig: Buffer;
  opk_id: string | null;
  opk_pub: Buffer | null;
  pq_id: string | null;
  pq_pub: Buffer | null;
  pq_sig: Buffer | null;
  opks_left: string;
  pqopks_left: string;
}

/**
 * Takes the lowest free one-time key of each kind and deletes it, in one statement.
 * `FOR UPDATE SKIP LOCKED`: a fetch racing another (on any node) skips the key the other
 * holds instead of waiting for it or taking it too, so a key is handed out at most once.
 * The counts are read from the statement's snapshot, minus what it took. $2 false takes
 * no one-time key (the identity's one-time-key budget is spent): last-resort keys only.
 */
const TAKE_BUNDLE = `
WITH ident AS (
  SELECT spk_id, spk_pub, spk_sig, pqspk_id, pqspk_pub, pqspk_sig FROM prekey_identities WHERE ik = $1
), opk AS (
  DELETE FROM one_time_prekeys WHERE ik = $1 AND id = (
    SELECT id FROM one_time_prekeys WHERE ik = $1 AND $2 AND EXISTS (SELECT 1 FROM ident) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
  ) RETURNING id, pub
), pq AS (
  DELETE FROM pq_one_time_prekeys WHERE ik = $1 AND id = (
    SELECT id FROM pq_one_time_prekeys WHERE ik = $1 AND $2 AND EXISTS (SELECT 1 FROM ident) ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
  ) RETURNING id, pub, sig
)
SELECT ident.*, opk.id AS opk_id, opk.pub AS opk_pub, pq.id AS pq_id, pq.pub AS pq_pub, pq.sig AS pq_sig,
  (SELECT count(*) FROM one_time_prekeys WHERE ik = $1) - (SELECT count(*) FROM opk) AS opks_left,
  (SELECT count(*) FROM pq_one_time_prekeys WHERE ik = $1) - (SELECT count(*) FROM pq) AS pqopks_left
FROM ident LEFT JOIN opk ON true LEFT JOIN pq ON true`;

const COUNTS = `SELECT EXISTS (SELECT 1 FROM prekey_identities WHERE ik = $1) AS known,
  (SELECT count(*) FROM one_time_prekeys WHERE ik = $1) AS opks,
  (SELECT count(*) FROM pq_one_time_prekeys WHERE ik = $1) AS pqopks`;

/** PreKeyStore on PostgreSQL, shared by every relay node. */
export class PostgresPreKeyStore implements PreKeyStore {
  constructor(private readonly pool: Pool) {}

  async publish(b: PublishedBundle, poolMax: number, now: number): Promise<PublishOutcome> {
    return withRetry(() =>
      inTransaction(this.pool, async (client, rollback) => {
        // The identity row first: its lock serialises uploads of one identity.
        await client.query(
          `INSERT INTO prekey_identities (ik, spk_id, spk_pub, spk_sig, pqspk_id, pqspk_pub, pqspk_sig, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (ik) DO UPDATE SET spk_id = excluded.spk_id, spk_pub = excluded.spk_pub, spk_sig = excluded.spk_sig,
             pqspk_id = excluded.pqspk_id, pqspk_pub = excluded.pqspk_pub, pqspk_sig = excluded.pqspk_sig, updated_at = excluded.updated_at`,
          [buf(b.ik), b.spk.id, buf(b.spk.pub), buf(b.spk.sig), b.pqspk.id, buf(b.pqspk.pub), buf(b.pqspk.sig), now],
        );
        if (b.opks.length > 0) {
          await client.query(
            `INSERT INTO one_time_prekeys (ik, id, pub) SELECT $1, k.id, k.pub FROM unnest($2::bigint[], $3::bytea[]) AS k(id, pub)
             ON CONFLICT (ik, id) DO UPDATE SET pub = excluded.pub`,
            [buf(b.ik), b.opks.map((k) => k.id), b.opks.map((k) => buf(k.pub))],
          );
        }
        if (b.pqopks.length > 0) {
          await client.query(
            `INSERT INTO pq_one_time_prekeys (ik, id, pub, sig) SELECT $1, k.id, k.pub, k.sig FROM unnest($2::bigint[], $3::bytea[], $4::bytea[]) AS k(id, pub, sig)
             ON CONFLICT (ik, id) DO UPDATE SET pub = excluded.pub, sig = excluded.sig`,
            [buf(b.ik), b.pqopks.map((k) => k.id), b.pqopks.map((k) => buf(k.pub)), b.pqopks.map((k) => buf(k.sig))],
          );
        }
        const counts = await this.countsWith(client, b.ik);
        if (!counts || counts.opks > poolMax || counts.pqopks > poolMax) return rollback({ ok: false, reason: 'pool_full' } as const);
        return { ok: true, counts } as const;
      }),
    );
  }

  async takeBundle(ik: Uint8Array, opts: { readonly oneTime?: boolean } = {}): Promise<{ readonly bundle: FetchedBundle; readonly remaining: PreKeyCounts } | undefined> {
    const values = [buf(ik), opts.oneTime ?? true];
    const { rows } = await withRetry(() => this.pool.query<TakeRow>({ name: 'petrel_take_bundle', text: TAKE_BUNDLE, values }));
    const r = rows[0];
    if (!r) return undefined;
    const bundle: FetchedBundle = {
      ik,
      spk: { id: r.spk_id, pub: plain(r.spk_pub), sig: plain(r.spk_sig) },
      pq:
        r.pq_id !== null && r.pq_pub && r.pq_sig
          ? { id: Number(r.pq_id), pub: plain(r.pq_pub), sig: plain(r.pq_sig), lastResort: false }
          : { id: r.pqspk_id, pub: plain(r.pqspk_pub), sig: plain(r.pqspk_sig), lastResort: true },
      ...(r.opk_id !== null && r.opk_pub ? { opk: { id: Number(r.opk_id), pub: plain(r.opk_pub) } } : {}),
    };
    return { bundle, remaining: { opks: Number(r.opks_left), pqopks: Number(r.pqopks_left) } };
  }

  async counts(ik: Uint8Array): Promise<PreKeyCounts | undefined> {
    return this.countsWith(this.pool, ik);
  }

  private async countsWith(q: Pick<Pool, 'query'>, ik: Uint8Array): Promise<PreKeyCounts | undefined> {
    const { rows } = await q.query<{ known: boolean; opks: string; pqopks: string }>(COUNTS, [buf(ik)]);
    const r = rows[0];
    return r?.known ? { opks: Number(r.opks), pqopks: Number(r.pqopks) } : undefined;
  }
}
