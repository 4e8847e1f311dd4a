import type { SqliteDatabase } from '../storage/sqlite-database.ts';
import type { PushStore, PushSubscriptionRecord, VapidKeys } from './push-store.ts';

const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

/** Mailboxes per subscriptions look-up statement (the last chunk padded with NULLs, which match nothing). */
export const SUBSCRIPTIONS_CHUNK = 64;

type SubRow = { i: number; endpoint: string; p256dh: Buffer; auth: Buffer };

/** PushStore on the relay's SQLite database (so the VAPID keys live in the data dir). */
export class SqlitePushStore implements PushStore {
  private readonly insertVapid;
  private readonly getVapid;
  private readonly upsert;
  private readonly getSub;
  private readonly removeAny;
  private readonly removeEndpoint;
  private readonly countStmt;
  private readonly getSubs;

  constructor(db: SqliteDatabase) {
    this.insertVapid = db.prepare('INSERT OR IGNORE INTO push_vapid (id, public_key, private_key, created_at) VALUES (1, ?, ?, ?)');
    this.getVapid = db.prepare<[], { public_key: string; private_key: string }>('SELECT public_key, private_key FROM push_vapid WHERE id = 1');
    this.upsert = db.prepare(
      `INSERT INTO push_subscriptions (mailbox, endpoint, p256dh, auth, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (mailbox) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh, auth = excluded.auth, updated_at = excluded.updated_at`,
    );
    this.getSub = db.prepare<[Uint8Array], { endpoint: string; p256dh: Buffer; auth: Buffer }>('SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE mailbox = ?');
    this.removeAny = db.prepare('DELETE FROM push_subscriptions WHERE mailbox = ?');
    this.removeEndpoint = db.prepare('DELETE FROM push_subscriptions WHERE mailbox = ? AND endpoint = ?');
    this.countStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM push_subscriptions');
    // One statement for up to SUBSCRIPTIONS_CHUNK mailboxes: row `i` is the i-th of the chunk.
    const slots = Array.from({ length: SUBSCRIPTIONS_CHUNK }, (_, i) => `(${i}, ?)`).join(', ');
    this.getSubs = db.prepare<(Uint8Array | null)[], SubRow>(
      `WITH r(i, mailbox) AS (VALUES ${slots})
       SELECT r.i AS i, s.endpoint AS endpoint, s.p256dh AS p256dh, s.auth AS auth FROM r JOIN push_subscriptions s ON s.mailbox = r.mailbox`,
    );
  }

  async vapidKeys(generate: () => VapidKeys): Promise<VapidKeys> {
    const stored = this.getVapid.get();
    if (stored) return { publicKey: stored.public_key, privateKey: stored.private_key };
    const fresh = generate();
    this.insertVapid.run(fresh.publicKey, fresh.privateKey, Date.now());
    const now = this.getVapid.get()!;
    return { publicKey: now.public_key, privateKey: now.private_key };
  }

  async register(mailbox: Uint8Array, sub: PushSubscriptionRecord, now: number): Promise<void> {
    this.upsert.run(mailbox, sub.endpoint, sub.p256dh, sub.auth, now);
  }

  async subscription(mailbox: Uint8Array): Promise<PushSubscriptionRecord | undefined> {
    const r = this.getSub.get(mailbox);
    return r ? { endpoint: r.endpoint, p256dh: plain(r.p256dh), auth: plain(r.auth) } : undefined;
  }

  async subscriptions(mailboxes: readonly Uint8Array[]): Promise<Array<PushSubscriptionRecord | undefined>> {
    // A group message's sleeping recipients: one statement per SUBSCRIPTIONS_CHUNK of them
    // (one call per mailbox cost five times as much, on the event loop, after every send.multi).
    const out = new Array<PushSubscriptionRecord | undefined>(mailboxes.length).fill(undefined);
    const args = new Array<Uint8Array | null>(SUBSCRIPTIONS_CHUNK);
    for (let at = 0; at < mailboxes.length; at += SUBSCRIPTIONS_CHUNK) {
      for (let j = 0; j < SUBSCRIPTIONS_CHUNK; j++) args[j] = mailboxes[at + j] ?? null;
      for (const r of this.getSubs.all(...args)) out[at + r.i] = { endpoint: r.endpoint, p256dh: plain(r.p256dh), auth: plain(r.auth) };
    }
    return out;
  }

  async remove(mailbox: Uint8Array, endpoint?: string): Promise<boolean> {
    const r = endpoint === undefined ? this.removeAny.run(mailbox) : this.removeEndpoint.run(mailbox, endpoint);
    return r.changes > 0;
  }

  async count(): Promise<number> {
    return this.countStmt.get()!.n;
  }
}
