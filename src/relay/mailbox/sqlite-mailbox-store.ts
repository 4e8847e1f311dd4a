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

/** What a deposit checks about its mailbox (nulls: no such row). */
interface MailboxState {
  closed: number | null;
  dup: number | null;
  claimed: number | null;
  count: number | null;
  bytes: number | null;
}

/** A body stored in this commit, and how many of its envelopes reference it so far. */
interface SharedBody {
  readonly ref: number;
  refs: number;
}

const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

/**
 * MailboxStore on the relay's SQLite database (see storage/sqlite-database.ts for durability).
 * A body is stored once per commit however many mailboxes it goes to (`bodies`, reference
 * counted by the `envelopes` rows; the delete trigger drops it with its last envelope), so a
 * group message costs one body and one small row per recipient.
 */
export class SqliteMailboxStore implements MailboxStore {
  private readonly mailboxState;
  private readonly insert;
  private readonly insertBody;
  private readonly setRefs;
  private readonly select;
  private readonly countOne;
  private readonly remove;
  private readonly expireStmt;
  private readonly total;
  private readonly commitTx;
  private readonly storage;
  private readonly claimed;
  private readonly claimTx;
  private readonly listVersion;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly limits: MailboxLimits,
  ) {
    // Everything a deposit checks about its mailbox, in one statement (one call per recipient).
    // Parameters: mailbox, id, mailbox, mailbox, mailbox (better-sqlite3 binds no ?NNN).
    this.mailboxState = db.prepare<[Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array], MailboxState>(
      `SELECT (SELECT 1 FROM closed_mailboxes WHERE mailbox = ?) AS closed,
              (SELECT seq FROM envelopes WHERE id = ? AND mailbox = ?) AS dup,
              (SELECT 1 FROM mailbox_claims WHERE mailbox = ?) AS claimed,
              u.count AS count, u.bytes AS bytes
         FROM (SELECT 1) LEFT JOIN mailbox_usage u ON u.mailbox = ?`,
    );
    this.insert = db.prepare('INSERT INTO envelopes (mailbox, id, ref, size, deposited_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.insertBody = db.prepare('INSERT INTO bodies (body, refs) VALUES (?, 0)');
    this.setRefs = db.prepare('UPDATE bodies SET refs = refs + ? WHERE ref = ?');
    this.select = db.prepare<[Uint8Array, number, number], EnvelopeRow>(
      'SELECT e.seq, e.mailbox, e.id, b.body, e.deposited_at FROM envelopes e JOIN bodies b ON b.ref = e.ref WHERE e.mailbox = ? AND e.seq > ? ORDER BY e.seq LIMIT ?',
    );
    this.countOne = db.prepare<[Uint8Array], { count: number }>('SELECT count FROM mailbox_usage WHERE mailbox = ?');
    this.remove = db.prepare<[Uint8Array, Uint8Array], { deposited_at: number }>('DELETE FROM envelopes WHERE mailbox = ? AND id = ? RETURNING deposited_at');
    this.expireStmt = db.prepare<[number]>('DELETE FROM envelopes WHERE expires_at <= ?');
    this.total = db.prepare<[], { n: number | null }>('SELECT SUM(count) AS n FROM mailbox_usage');
    this.storage = db.prepare<[], { bytes: number }>('SELECT bytes FROM storage_usage WHERE id = 1');
    this.claimed = db.prepare<[Uint8Array], { claimed_at: number }>('SELECT claimed_at FROM mailbox_claims WHERE mailbox = ?');
    this.listVersion = db.prepare<[Uint8Array], { version: number }>('SELECT version FROM device_lists WHERE account = ?');
    const insertClaim = db.prepare('INSERT INTO mailbox_claims (mailbox, claimed_at) VALUES (?, ?)');
    const extend = db.prepare('UPDATE envelopes SET expires_at = deposited_at + ? WHERE mailbox = ?');
    this.claimTx = db.transaction((mailbox: Uint8Array, now: number) => {
      if (this.claimed.get(mailbox)) return;
      insertClaim.run(mailbox, now);
      extend.run(this.limits.retentionMs, mailbox);
    });
    this.commitTx = db.transaction((batch: WriteBatch, now: number): WriteResult => {
      // Envelopes of one commit that carry the same body object (a `send.multi`'s, one per
      // recipient) share one stored body; its reference count is set once, after them.
      const bodies = new Map<Uint8Array, SharedBody>();
      const cap = this.limits.maxTotalBytes ?? 0;
      const stored = { bytes: cap > 0 && batch.deposits.length > 0 ? (this.storage.get()?.bytes ?? 0) : 0 };
      const deposits = batch.deposits.map((env, i) => this.depositOne(env, now, bodies, stored, batch.lists?.[i]));
      for (const b of bodies.values()) this.setRefs.run(b.refs, b.ref);
      return { deposits, acks: batch.acks.map((a) => this.ackOne(a.mailbox, a.ids)) };
    });
  }

  /** `stored.bytes`: the global storage measure as of this envelope (read once per commit, kept here). */
  private depositOne(env: Envelope, now: number, bodies: Map<Uint8Array, SharedBody>, stored: { bytes: number }, dl: DeviceListVersion | undefined): DepositOutcome {
    // In the same (IMMEDIATE, so serialised) transaction as the insert: an unlink that
    // closed the mailbox committed either wholly before this check or wholly after it,
    // and then removed what was stored. Likewise a newer list of the recipient's account.
    const state = this.mailboxState.get(env.to, env.id, env.to, env.to, env.to)!;
    if (state.closed) return { ok: false, reason: 'device_unlinked' };
    if (dl) {
      const listed = this.listVersion.get(dl.ik)?.version;
      if (listed !== undefined && listed > dl.v) return { ok: false, reason: 'stale_devices', version: listed };
    }
    if (state.dup !== null) return { ok: true, seq: state.dup, duplicate: true };
    if ((state.count ?? 0) + 1 > this.limits.maxEnvelopes || (state.bytes ?? 0) + env.body.length > this.limits.maxBytes) {
      return { ok: false, reason: 'mailbox_full' };
    }
    let shared = bodies.get(env.body);
    const cap = this.limits.maxTotalBytes ?? 0;
    if (!shared && cap > 0 && stored.bytes + env.body.length > cap) return { ok: false, reason: 'storage_full' };
    const retention = state.claimed ? this.limits.retentionMs : (this.limits.unclaimedRetentionMs ?? this.limits.retentionMs);
    if (!shared) {
      shared = { ref: Number(this.insertBody.run(env.body).lastInsertRowid), refs: 0 };
      bodies.set(env.body, shared);
      stored.bytes += env.body.length;
    }
    const r = this.insert.run(env.to, env.id, shared.ref, env.body.length, now, now + retention);
    shared.refs++;
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
