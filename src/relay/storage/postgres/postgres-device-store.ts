import type { Pool } from 'pg';
import { deviceMailboxAddress } from '../../../core/wire/index.ts';
import type { DeviceListPublishOutcome, DeviceListUpdate, DeviceStore, StoredDeviceList } from '../../devices/device-store.ts';
import { withRetry } from './retry.ts';
import { inTransaction } from './transaction.ts';

const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/**
 * DeviceStore on PostgreSQL. A publish is one transaction that first locks the account's
 * list row (so concurrent publishes of one account, on any node, queue and the version
 * only ever rises), then closes the mailboxes of the unlinked devices: their usage rows are
 * locked in the order petrel_commit locks them, their envelopes deleted, the usage counters lowered and
 * the bodies released (petrel_release: a body goes with its last envelope), exactly as
 * petrel_expire does.
 */
export class PostgresDeviceStore implements DeviceStore {
  constructor(private readonly pool: Pool) {}

  async get(account: Uint8Array): Promise<StoredDeviceList | undefined> {
    const { rows } = await this.pool.query<{ version: string; body: Buffer; sig: Buffer }>('SELECT version, body, sig FROM device_lists WHERE account = $1', [buf(account)]);
    const r = rows[0];
    return r ? { version: Number(r.version), body: plain(r.body), sig: plain(r.sig) } : undefined;
  }

  async publish(account: Uint8Array, u: DeviceListUpdate, now: number): Promise<DeviceListPublishOutcome> {
    return withRetry(() =>
      inTransaction(this.pool, async (client, rollback) => {
        // A placeholder row (version -1, never committed as such) so even the first publish has a row to lock.
        await client.query(`INSERT INTO device_lists (account, version, body, sig, updated_at) VALUES ($1, -1, '', '', 0) ON CONFLICT (account) DO NOTHING`, [buf(account)]);
        const { rows } = await client.query<{ version: string }>('SELECT version FROM device_lists WHERE account = $1 FOR UPDATE', [buf(account)]);
        const current = Number(rows[0]!.version);
        if (u.version <= current) return rollback({ ok: false, reason: 'stale', version: current } as const);
        const kept = new Set(u.devices.map((d) => Buffer.from(d.id).toString('hex')));
        const { rows: before } = await client.query<{ device_id: Buffer }>('SELECT device_id FROM account_devices WHERE account = $1', [buf(account)]);
        const removed = before.map((r) => plain(r.device_id)).filter((id) => !kept.has(Buffer.from(id).toString('hex')));
        await client.query('UPDATE device_lists SET version = $2, body = $3, sig = $4, updated_at = $5 WHERE account = $1', [
          buf(account),
          u.version,
          buf(u.body),
          buf(u.sig),
          now,
        ]);
        await client.query('DELETE FROM account_devices WHERE account = $1', [buf(account)]);
        if (u.devices.length > 0) {
          await client.query('INSERT INTO account_devices (account, device_id, device_key) SELECT $1, d.id, d.key FROM unnest($2::bytea[], $3::bytea[]) AS d(id, key)', [
            buf(account),
            u.devices.map((d) => buf(d.id)),
            u.devices.map((d) => buf(d.key)),
          ]);
        }
        if (removed.length > 0) {
          const mailboxes = removed.map((id) => buf(deviceMailboxAddress(account, id))).sort(Buffer.compare);
          // The mailbox rows are the lock a deposit's group commit takes before it checks
          // closed_mailboxes: create them if no deposit did yet, so the two always meet.
          await client.query('INSERT INTO mailbox_usage (mailbox, count, bytes, last_seq) SELECT m, 0, 0, 0 FROM unnest($1::bytea[]) AS m ORDER BY m ON CONFLICT (mailbox) DO NOTHING', [mailboxes]);
          await client.query('SELECT 1 FROM mailbox_usage WHERE mailbox = ANY ($1::bytea[]) ORDER BY mailbox FOR UPDATE', [mailboxes]);
          await client.query(
            `WITH gone AS (
               DELETE FROM envelopes e WHERE e.mailbox = ANY ($1::bytea[]) RETURNING e.mailbox, e.size AS len, e.ref
             ), per_mailbox AS (
               SELECT g.mailbox, count(*) AS c, sum(g.len) AS b FROM gone g GROUP BY g.mailbox
             ), updated AS (
               UPDATE mailbox_usage mu SET count = mu.count - p.c, bytes = mu.bytes - p.b FROM per_mailbox p WHERE mu.mailbox = p.mailbox
             )
             UPDATE storage_usage SET bytes = bytes - petrel_release((SELECT coalesce(array_agg(g.ref), '{}') FROM gone g)) WHERE shard = pg_backend_pid() % 16`,
            [mailboxes],
          );
          await client.query('DELETE FROM mailbox_claims WHERE mailbox = ANY ($1::bytea[])', [mailboxes]);
          await client.query('INSERT INTO closed_mailboxes (mailbox, closed_at) SELECT m, $2 FROM unnest($1::bytea[]) AS m ON CONFLICT (mailbox) DO NOTHING', [mailboxes, now]);
          for (const table of ['prekey_identities', 'one_time_prekeys', 'pq_one_time_prekeys']) {
            await client.query(`DELETE FROM ${table} WHERE ik = ANY ($1::bytea[])`, [mailboxes]);
          }
        }
        return { ok: true, removed } as const;
      }),
    );
  }

  async deviceKey(account: Uint8Array, deviceId: Uint8Array): Promise<Uint8Array | undefined> {
    const { rows } = await this.pool.query<{ device_key: Buffer }>('SELECT device_key FROM account_devices WHERE account = $1 AND device_id = $2', [buf(account), buf(deviceId)]);
    return rows[0] ? plain(rows[0].device_key) : undefined;
  }

  async isClosed(mailbox: Uint8Array): Promise<boolean> {
    const { rows } = await this.pool.query('SELECT 1 FROM closed_mailboxes WHERE mailbox = $1', [buf(mailbox)]);
    return rows.length > 0;
  }
}
