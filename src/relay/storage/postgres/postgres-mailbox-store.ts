import type { Pool } from 'pg';
import type { Envelope } from '../../../core/wire/index.ts';
import type { DepositOutcome, MailboxLimits, MailboxStore, StoredEnvelope, WriteBatch, WriteResult } from '../../mailbox/mailbox-store.ts';
import { withRetry } from './retry.ts';

interface CommitRow {
  r_kind: 'd' | 'a';
  r_idx: number;
  r_outcome: number;
  r_seq: string | null;
  r_prev: string | null;
  r_at: string | null;
}

interface EnvelopeRow {
  seq: string;
  id: Buffer;
  body: Buffer;
  deposited_at: string;
}

const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/**
 * MailboxStore on PostgreSQL, shared by every relay node. A commit is one call of
 * `petrel_commit` (migrations.ts): one statement, one transaction, durable when it
 * returns (synchronous_commit on, the server default). A body is stored once per commit
 * however many mailboxes it goes to (`bodies`, reference counted; released with its last
 * envelope by ack, retention or unlink). Writers of one mailbox are
 * serialised by its `mailbox_usage` row lock, so seq order is commit order per mailbox;
 * each stored deposit reports the mailbox's previous seq (`prev`) for ordered fan-out.
 */
export class PostgresMailboxStore implements MailboxStore {
  constructor(
    private readonly pool: Pool,
    private readonly limits: MailboxLimits,
  ) {}

  async commit(batch: WriteBatch, now: number): Promise<WriteResult> {
    // Deposits carrying the same body object (a send.multi's) share one stored body.
    const dParts: Uint8Array[] = [];
    const dLens: number[] = [];
    const dBody: number[] = [];
    const bodyIndex = new Map<Uint8Array, number>();
    const bParts: Uint8Array[] = [];
    for (const e of batch.deposits) {
      dParts.push(e.to, e.id);
      dLens.push(e.to.length, e.id.length);
      let k = bodyIndex.get(e.body);
      if (k === undefined) {
        bParts.push(e.body);
        k = bParts.length;
        bodyIndex.set(e.body, k);
      }
      dBody.push(k);
    }
    const aParts: Uint8Array[] = [];
    const aLens: number[] = [];
    const aReq: number[] = [];
    batch.acks.forEach((a, req) => {
      for (const id of a.ids) {
        aParts.push(a.mailbox, id);
        aLens.push(a.mailbox.length, id.length);
        aReq.push(req + 1);
      }
    });
    // Buffers are sent as binary parameters (see petrel_commit in migrations.ts).
    const params = [
      Buffer.concat(dParts),
      dLens,
      dBody,
      Buffer.concat(bParts),
      bParts.map((b) => b.length),
      Buffer.concat(aParts),
      aLens,
      aReq,
      now,
      this.limits.retentionMs,
      this.limits.unclaimedRetentionMs ?? this.limits.retentionMs,
      this.limits.maxEnvelopes,
      this.limits.maxBytes,
      this.limits.maxTotalBytes ?? 0,
      // Per deposit: the device list version it was fanned out under (-1: none to check).
      batch.deposits.map((_, i) => (batch.lists?.[i] ? buf(batch.lists[i].ik) : Buffer.alloc(0))),
      batch.deposits.map((_, i) => batch.lists?.[i]?.v ?? -1),
    ];
    const { rows } = await withRetry(() =>
      this.pool.query<CommitRow>({
        name: 'petrel_commit',
        text: 'SELECT * FROM petrel_commit($1::bytea, $2::int[], $3::int[], $4::bytea, $5::int[], $6::bytea, $7::int[], $8::int[], $9, $10, $11, $12, $13, $14, $15::bytea[], $16::bigint[])',
        values: params,
      }),
    );
    const deposits: DepositOutcome[] = new Array<DepositOutcome>(batch.deposits.length);
    const acks: number[][] = batch.acks.map(() => []);
    for (const r of rows) {
      if (r.r_kind === 'a') {
        acks[r.r_idx - 1]!.push(Number(r.r_at));
        continue;
      }
      deposits[r.r_idx - 1] =
        r.r_outcome === 5
          ? { ok: false, reason: 'stale_devices', version: Number(r.r_seq) }
          : r.r_outcome === 4
          ? { ok: false, reason: 'device_unlinked' }
          : r.r_outcome === 3
          ? { ok: false, reason: 'storage_full' }
          : r.r_outcome === 2
          ? { ok: false, reason: 'mailbox_full' }
          : r.r_outcome === 1
            ? { ok: true, seq: Number(r.r_seq), duplicate: true }
            : { ok: true, seq: Number(r.r_seq), duplicate: false, prev: Number(r.r_prev) };
    }
    return { deposits, acks };
  }

  async depositBatch(envs: readonly Envelope[], now: number): Promise<DepositOutcome[]> {
    return (await this.commit({ deposits: envs, acks: [] }, now)).deposits;
  }

  async pending(mailbox: Uint8Array, afterSeq: number, limit: number): Promise<StoredEnvelope[]> {
    const { rows } = await this.pool.query<EnvelopeRow>({
      name: 'petrel_pending',
      text: 'SELECT e.seq, e.id, b.body, e.deposited_at FROM envelopes e JOIN bodies b ON b.ref = e.ref WHERE e.mailbox = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3',
      values: [buf(mailbox), afterSeq, limit],
    });
    return rows.map((r) => ({ seq: Number(r.seq), env: { to: mailbox, id: plain(r.id), body: plain(r.body) }, depositedAt: Number(r.deposited_at) }));
  }

  async count(mailbox: Uint8Array): Promise<number> {
    const { rows } = await this.pool.query<{ count: number }>({
      name: 'petrel_count',
      text: 'SELECT count FROM mailbox_usage WHERE mailbox = $1',
      values: [buf(mailbox)],
    });
    return rows[0]?.count ?? 0;
  }

  async ack(mailbox: Uint8Array, ids: readonly Uint8Array[]): Promise<number[]> {
    return (await this.commit({ deposits: [], acks: [{ mailbox, ids }] }, 0)).acks[0]!;
  }

  async expire(now: number): Promise<number> {
    const { rows } = await withRetry(() => this.pool.query<{ n: string }>('SELECT petrel_expire($1) AS n', [now]));
    return Number(rows[0]?.n ?? 0);
  }

  async totalQueued(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string | null }>('SELECT sum(count) AS n FROM mailbox_usage');
    return Number(rows[0]?.n ?? 0);
  }

  async claim(mailbox: Uint8Array, now: number): Promise<void> {
    // Most auths are by devices that claimed long ago: one indexed read, no write.
    const { rowCount } = await this.pool.query({ name: 'petrel_claimed', text: 'SELECT 1 FROM mailbox_claims WHERE mailbox = $1', values: [buf(mailbox)] });
    if (rowCount) return;
    await withRetry(() => this.pool.query('SELECT petrel_claim($1, $2, $3)', [buf(mailbox), now, this.limits.retentionMs]));
  }

  async storedBytes(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string | null }>('SELECT sum(bytes) AS n FROM storage_usage');
    return Number(rows[0]?.n ?? 0);
  }

  async check(): Promise<void> {
    await this.pool.query('SELECT 1');
  }
}
