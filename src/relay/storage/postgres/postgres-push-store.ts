import type { Pool } from 'pg';
import type { PushStore, PushSubscriptionRecord, VapidKeys } from '../../push/push-store.ts';

const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/**
 * PushStore on PostgreSQL: one VAPID key pair for the whole cluster (the first node to
 * start stores it; `ON CONFLICT DO NOTHING` makes a race between nodes harmless), and the
 * subscriptions every node reads when it must wake a device.
 */
export class PostgresPushStore implements PushStore {
  constructor(private readonly pool: Pool) {}

  async vapidKeys(generate: () => VapidKeys): Promise<VapidKeys> {
    const read = async () => (await this.pool.query<{ public_key: string; private_key: string }>('SELECT public_key, private_key FROM push_vapid WHERE id = 1')).rows[0];
    let row = await read();
    if (!row) {
      const fresh = generate();
      await this.pool.query('INSERT INTO push_vapid (id, public_key, private_key, created_at) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING', [fresh.publicKey, fresh.privateKey, Date.now()]);
      row = await read();
    }
    return { publicKey: row!.public_key, privateKey: row!.private_key };
  }

  async register(mailbox: Uint8Array, sub: PushSubscriptionRecord, now: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO push_subscriptions (mailbox, endpoint, p256dh, auth, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (mailbox) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh, auth = excluded.auth, updated_at = excluded.updated_at`,
      [buf(mailbox), sub.endpoint, buf(sub.p256dh), buf(sub.auth), now],
    );
  }

  async subscription(mailbox: Uint8Array): Promise<PushSubscriptionRecord | undefined> {
    const { rows } = await this.pool.query<{ endpoint: string; p256dh: Buffer; auth: Buffer }>('SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE mailbox = $1', [buf(mailbox)]);
    const r = rows[0];
    return r ? { endpoint: r.endpoint, p256dh: plain(r.p256dh), auth: plain(r.auth) } : undefined;
  }

  async subscriptions(mailboxes: readonly Uint8Array[]): Promise<Array<PushSubscriptionRecord | undefined>> {
    if (mailboxes.length === 0) return [];
    const { rows } = await this.pool.query<{ mailbox: Buffer; endpoint: string; p256dh: Buffer; auth: Buffer }>(
      'SELECT mailbox, endpoint, p256dh, auth FROM push_subscriptions WHERE mailbox = ANY($1::bytea[])',
      [mailboxes.map(buf)],
    );
    const found = new Map(rows.map((r) => [r.mailbox.toString('hex'), { endpoint: r.endpoint, p256dh: plain(r.p256dh), auth: plain(r.auth) }]));
    return mailboxes.map((m) => found.get(buf(m).toString('hex')));
  }

  async remove(mailbox: Uint8Array, endpoint?: string): Promise<boolean> {
    const r =
      endpoint === undefined
        ? await this.pool.query('DELETE FROM push_subscriptions WHERE mailbox = $1', [buf(mailbox)])
        : await this.pool.query('DELETE FROM push_subscriptions WHERE mailbox = $1 AND endpoint = $2', [buf(mailbox), endpoint]);
    return (r.rowCount ?? 0) > 0;
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM push_subscriptions');
    return Number(rows[0]!.n);
  }
}
