import type { DeviceListVersion, Envelope } from '../../core/wire/index.ts';
import type { SqliteDatabase } from '../storage/sqlite-database.ts';
import type { DepositOutcome, MailboxLimits, MailboxStore, StoredEnvelope, WriteBatch, WriteResult } from './mailbox-store.ts';

interface EnvelopeRow {
  seq: number;
  mailbox: Buffer;
  id: Buffer;
  body: Buffer;
  deposited_at: number;
}

const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

/** MailboxStore on the relay's SQLite database (see storage/sqlite-database.ts for durability). */
export class SqliteMailboxStore implements MailboxStore {
  private readonly usage;
  private readonly existing;
  private readonly insert;
  private readonly select;
  private readonly countOne;
  private readonly remove;
  private readonly expireStmt;
  private readonly total;
  private readonly commitTx;
  private readonly storage;
  private readonly claimed;
  private readonly claimTx;
  private readonly closed;
  private readonly listVersion;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly limits: MailboxLimits,
  ) {
    this.usage = db.prepare<[Uint8Array], { count: number; bytes: number }>('SELECT count, bytes FROM mailbox_usage WHERE mailbox = ?');
    this.existing = db.prepare<[Uint8Array, Uint8Array], { seq: number }>('SELECT seq FROM envelopes WHERE mailbox = ? AND id = ?');
    this.insert = db.prepare('INSERT INTO envelopes (mailbox, id, body, deposited_at, expires_at) VALUES (?, ?, ?, ?, ?)');
    this.select = db.prepare<[Uint8Array, number, number], EnvelopeRow>(
      'SELECT seq, mailbox, id, body, deposited_at FROM envelopes WHERE mailbox = ? AND seq > ? ORDER BY seq LIMIT ?',
    );
    this.countOne = db.prepare<[Uint8Array], { count: number }>('SELECT count FROM mailbox_usage WHERE mailbox = ?');
    this.remove = db.prepare<[Uint8Array, Uint8Array], { deposited_at: number }>('DELETE FROM envelopes WHERE mailbox = ? AND id = ? RETURNING deposited_at');
    this.expireStmt = db.prepare<[number]>('DELETE FROM envelopes WHERE expires_at <= ?');
    this.total = db.prepare<[], { n: number | null }>('SELECT SUM(count) AS n FROM mailbox_usage');
    this.storage = db.prepare<[], { bytes: number }>('SELECT bytes FROM storage_usage WHERE id = 1');
    this.claimed = db.prepare<[Uint8Array], { claimed_at: number }>('SELECT claimed_at FROM mailbox_claims WHERE mailbox = ?');
    this.closed = db.prepare<[Uint8Array], { one: number }>('SELECT 1 AS one FROM closed_mailboxes WHERE mailbox = ?');
    this.listVersion = db.prepare<[Uint8Array], { version: number }>('SELECT version FROM device_lists WHERE account = ?');
    const insertClaim = db.prepare('INSERT INTO mailbox_claims (mailbox, claimed_at) VALUES (?, ?)');
    const extend = db.prepare('UPDATE envelopes SET expires_at = deposited_at + ? WHERE mailbox = ?');
    this.claimTx = db.transaction((mailbox: Uint8Array, now: number) => {
      if (this.claimed.get(mailbox)) return;
      insertClaim.run(mailbox, now);
      extend.run(this.limits.retentionMs, mailbox);
    });
    this.commitTx = db.transaction((batch: WriteBatch, now: number): WriteResult => ({
      deposits: batch.deposits.map((env, i) => this.depositOne(env, now, batch.lists?.[i])),
      acks: batch.acks.map((a) => this.ackOne(a.mailbox, a.ids)),
    }));
  }

  private depositOne(env: Envelope, now: number, dl: DeviceListVersion | undefined): DepositOutcome {
    // In the same (IMMEDIATE, so serialised) transaction as the insert: an unlink that
    // closed the mailbox committed either wholly before this check or wholly after it,
    // and then removed what was stored. Likewise a newer list of the recipient's account.
    if (this.closed.get(env.to)) return { ok: false, reason: 'device_unlinked' };
    if (dl) {
      const stored = this.listVersion.get(dl.ik)?.version;
      if (stored !== undefined && stored > dl.v) return { ok: false, reason: 'stale_devices', version: stored };
    }
    const dup = this.existing.get(env.to, env.id);
    if (dup) return { ok: true, seq: dup.seq, duplicate: true };
    const used = this.usage.get(env.to) ?? { count: 0, bytes: 0 };
    if (used.count + 1 > this.limits.maxEnvelopes || used.bytes + env.body.length > this.limits.maxBytes) {
      return { ok: false, reason: 'mailbox_full' };
    }
    const cap = this.limits.maxTotalBytes ?? 0;
    if (cap > 0 && (this.storage.get()?.bytes ?? 0) + env.body.length > cap) return { ok: false, reason: 'storage_full' };
    const retention = this.claimed.get(env.to) ? this.limits.retentionMs : (this.limits.unclaimedRetentionMs ?? this.limits.retentionMs);
    const r = this.insert.run(env.to, env.id, env.body, now, now + retention);
    return { ok: true, seq: Number(r.lastInsertRowid), duplicate: false };
  }

  private ackOne(mailbox: Uint8Array, ids: readonly Uint8Array[]): number[] {
    const times: number[] = [];
    for (const id of ids) {
      const row = this.remove.get(mailbox, id);
      if (row) times.push(row.deposited_at);
    }
    return times;
  }

  async commit(batch: WriteBatch, now: number): Promise<WriteResult> {
    return this.commitTx.immediate(batch, now);
  }

  async depositBatch(envs: readonly Envelope[], now: number): Promise<DepositOutcome[]> {
    return this.commitTx.immediate({ deposits: envs, acks: [] }, now).deposits;
  }

  async pending(mailbox: Uint8Array, afterSeq: number, limit: number): Promise<StoredEnvelope[]> {
    return this.select.all(mailbox, afterSeq, limit).map((r) => ({
      seq: r.seq,
      env: { to: plain(r.mailbox), id: plain(r.id), body: plain(r.body) },
      depositedAt: r.deposited_at,
    }));
  }

  async count(mailbox: Uint8Array): Promise<number> {
    return this.countOne.get(mailbox)?.count ?? 0;
  }

  async ack(mailbox: Uint8Array, ids: readonly Uint8Array[]): Promise<number[]> {
    return this.commitTx.immediate({ deposits: [], acks: [{ mailbox, ids }] }, 0).acks[0]!;
  }

  async expire(now: number): Promise<number> {
    return this.expireStmt.run(now).changes;
  }

  async totalQueued(): Promise<number> {
    return this.total.get()?.n ?? 0;
  }

  async claim(mailbox: Uint8Array, now: number): Promise<void> {
    // Most auths are by devices that claimed long ago: a read, no write transaction.
    if (this.claimed.get(mailbox)) return;
    this.claimTx.immediate(mailbox, now);
  }

  async storedBytes(): Promise<number> {
    return this.storage.get()?.bytes ?? 0;
  }

  async check(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }
}
