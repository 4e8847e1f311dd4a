import { deviceMailboxAddress } from '../../core/wire/index.ts';
import type { SqliteDatabase } from '../storage/sqlite-database.ts';
import type { DeviceListPublishOutcome, DeviceListUpdate, DeviceStore, StoredDeviceList } from './device-store.ts';

const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

class Stale extends Error {
  constructor(readonly version: number) {
    super('stale');
  }
}

/**
 * DeviceStore on SQLite. better-sqlite3 runs a transaction to completion, so the version
 * check, the new list and the closing of unlinked devices' mailboxes commit together (the
 * envelope triggers keep mailbox_usage and storage_usage right).
 */
export class SqliteDeviceStore implements DeviceStore {
  private readonly getStmt;
  private readonly keyStmt;
  private readonly closedStmt;
  private readonly publishTx;

  constructor(db: SqliteDatabase) {
    this.getStmt = db.prepare<[Uint8Array], { version: number; body: Buffer; sig: Buffer }>('SELECT version, body, sig FROM device_lists WHERE account = ?');
    this.keyStmt = db.prepare<[Uint8Array, Uint8Array], { device_key: Buffer }>('SELECT device_key FROM account_devices WHERE account = ? AND device_id = ?');
    this.closedStmt = db.prepare<[Uint8Array], { one: number }>('SELECT 1 AS one FROM closed_mailboxes WHERE mailbox = ?');
    const devicesOf = db.prepare<[Uint8Array], { device_id: Buffer }>('SELECT device_id FROM account_devices WHERE account = ?');
    const upsertList = db.prepare(
      `INSERT INTO device_lists (account, version, body, sig, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (account) DO UPDATE SET version = excluded.version, body = excluded.body, sig = excluded.sig, updated_at = excluded.updated_at`,
    );
    const clearDevices = db.prepare('DELETE FROM account_devices WHERE account = ?');
    const putDevice = db.prepare('INSERT INTO account_devices (account, device_id, device_key) VALUES (?, ?, ?)');
    const dropEnvelopes = db.prepare('DELETE FROM envelopes WHERE mailbox = ?');
    const dropClaim = db.prepare('DELETE FROM mailbox_claims WHERE mailbox = ?');
    const close = db.prepare('INSERT OR IGNORE INTO closed_mailboxes (mailbox, closed_at) VALUES (?, ?)');
    const dropPrekeys = [
      db.prepare('DELETE FROM prekey_identities WHERE ik = ?'),
      db.prepare('DELETE FROM one_time_prekeys WHERE ik = ?'),
      db.prepare('DELETE FROM pq_one_time_prekeys WHERE ik = ?'),
    ];

    this.publishTx = db.transaction((account: Uint8Array, u: DeviceListUpdate, now: number): DeviceListPublishOutcome => {
      const current = this.getStmt.get(account);
      if (current && u.version <= current.version) throw new Stale(current.version);
      const kept = new Set(u.devices.map((d) => Buffer.from(d.id).toString('hex')));
      const removed = devicesOf
        .all(account)
        .map((r) => plain(r.device_id))
        .filter((id) => !kept.has(Buffer.from(id).toString('hex')));
      upsertList.run(account, u.version, u.body, u.sig, now);
      clearDevices.run(account);
      for (const d of u.devices) putDevice.run(account, d.id, d.key);
      for (const id of removed) {
        const mailbox = deviceMailboxAddress(account, id);
        dropEnvelopes.run(mailbox);
        dropClaim.run(mailbox);
        close.run(mailbox, now);
        for (const stmt of dropPrekeys) stmt.run(mailbox);
      }
      return { ok: true, removed };
    });
  }

  async get(account: Uint8Array): Promise<StoredDeviceList | undefined> {
    const row = this.getStmt.get(account);
    return row ? { version: row.version, body: plain(row.body), sig: plain(row.sig) } : undefined;
  }

  async publish(account: Uint8Array, update: DeviceListUpdate, now: number): Promise<DeviceListPublishOutcome> {
    try {
      return this.publishTx.immediate(account, update, now);
    } catch (err) {
      if (err instanceof Stale) return { ok: false, reason: 'stale', version: err.version };
      throw err;
    }
  }

  async deviceKey(account: Uint8Array, deviceId: Uint8Array): Promise<Uint8Array | undefined> {
    const row = this.keyStmt.get(account, deviceId);
    return row ? plain(row.device_key) : undefined;
  }

  async isClosed(mailbox: Uint8Array): Promise<boolean> {
    return this.closedStmt.get(mailbox) !== undefined;
  }
}
