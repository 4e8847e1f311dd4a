import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../src/relay/blobs/file-blob-store.ts';
import { SqliteMailboxStore } from '../../src/relay/mailbox/sqlite-mailbox-store.ts';
import { SqlitePreKeyStore } from '../../src/relay/prekeys/sqlite-prekey-store.ts';
import { DATABASE_FILE, MIGRATIONS, openDatabase, type SqliteDatabase } from '../../src/relay/storage/sqlite-database.ts';
import { describeBlobStoreContract } from './contracts/blob-store.contract.ts';
import { describeMailboxStoreContract } from './contracts/mailbox-store.contract.ts';
import { describePreKeyStoreContract } from './contracts/prekey-store.contract.ts';
import { describeDeviceStoreContract } from './contracts/device-store.contract.ts';
import { SqliteDeviceStore } from '../../src/relay/devices/sqlite-device-store.ts';
import { tempDataDir } from './helpers/relay-harness.ts';
import { describePushStoreContract } from './contracts/push-store.contract.ts';
import { SqlitePushStore } from '../../src/relay/push/sqlite-push-store.ts';

function sqlite() {
  const dir = tempDataDir();
  const db = openDatabase(dir, 'FULL');
  return {
    db,
    dispose: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describeMailboxStoreContract('SQLite', async (limits) => {
  const { db, dispose } = sqlite();
  return { store: new SqliteMailboxStore(db, limits), dispose };
});

describePreKeyStoreContract('SQLite', async () => {
  const { db, dispose } = sqlite();
  return { store: new SqlitePreKeyStore(db), dispose };
});

describeDeviceStoreContract('SQLite', async () => {
  const { db, dispose } = sqlite();
  const limits = { maxEnvelopes: 1000, maxBytes: 10_000_000, retentionMs: 1e9 };
  return { devices: new SqliteDeviceStore(db), mailboxes: new SqliteMailboxStore(db, limits), prekeys: new SqlitePreKeyStore(db), dispose };
});

describeBlobStoreContract('files + SQLite', async (limits) => {
  const dir = tempDataDir();
  const db = openDatabase(dir, 'FULL');
  return {
    store: new FileBlobStore(db, dir, limits),
    dispose: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describePushStoreContract('SQLite', async () => {
  // Two opens of one data dir: what a restarted relay finds.
  const dir = tempDataDir();
  const a = openDatabase(dir, 'FULL');
  const b = openDatabase(dir, 'FULL');
  return {
    stores: [new SqlitePushStore(a), new SqlitePushStore(b)],
    dispose: async () => {
      a.close();
      b.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite mailbox store: a body stored once for all its mailboxes (issue 18)', () => {
  const rnd = (n: number) => new Uint8Array(randomBytes(n));
  const T0 = 1_700_000_000_000;
  const bodies = (db: SqliteDatabase) => db.prepare('SELECT ref, refs, length(body) AS size FROM bodies').all() as Array<{ ref: number; refs: number; size: number }>;

  it('stores a send.multi body once, counts it once against the global cap, and drops it with its last envelope', async () => {
    const { db, dispose } = sqlite();
    try {
      const store = new SqliteMailboxStore(db, { maxEnvelopes: 10, maxBytes: 10_000, retentionMs: 60_000, maxTotalBytes: 250 });
      const to = [rnd(32), rnd(32), rnd(32), rnd(32)];
      const id = rnd(16);
      const body = rnd(200);
      const out = await store.depositBatch(to.map((m) => ({ to: m, id, body })), T0);
      expect(out.every((o) => o.ok)).toBe(true);
      expect(bodies(db)).toEqual([{ ref: expect.any(Number), refs: 4, size: 200 }]);
      expect(await store.storedBytes()).toBe(200);
      // Counted once per mailbox, 4 × 200 bytes would have passed the 250-byte cap for one mailbox only; 100 more bytes do not fit.
      expect((await store.depositBatch([{ to: to[0]!, id: rnd(16), body: rnd(100) }], T0))[0]).toEqual({ ok: false, reason: 'storage_full' });
      // Each mailbox's quota still counts the body: 200 bytes each.
      expect((db.prepare('SELECT bytes FROM mailbox_usage').all() as Array<{ bytes: number }>).map((r) => r.bytes)).toEqual([200, 200, 200, 200]);
      await store.ack(to[0]!, [id]);
      expect(bodies(db)[0]!.refs).toBe(3);
      // An unlinked device's mailbox is emptied the way the device store does it.
      db.prepare('DELETE FROM envelopes WHERE mailbox = ?').run(to[1]!);
      expect(bodies(db)[0]!.refs).toBe(2);
      expect((await store.pending(to[2]!, 0, 10))[0]!.env.body).toEqual(body);
      await store.ack(to[2]!, [id]);
      expect(await store.expire(T0 + 60_000)).toBe(1);
      expect(bodies(db)).toEqual([]);
      expect(await store.storedBytes()).toBe(0);
    } finally {
      await dispose();
    }
  });

  it('stores bodies of separate deposits separately, even when their bytes are equal', async () => {
    const { db, dispose } = sqlite();
    try {
      const store = new SqliteMailboxStore(db, { maxEnvelopes: 10, maxBytes: 10_000, retentionMs: 60_000 });
      const a = rnd(32);
      const body = rnd(50);
      await store.depositBatch([{ to: a, id: rnd(16), body }, { to: a, id: rnd(16), body: body.slice() }], T0);
      expect(bodies(db).map((b) => b.refs)).toEqual([1, 1]);
      const [first] = await store.pending(a, 0, 1);
      await store.ack(a, [first!.env.id]);
      expect(bodies(db).map((b) => b.refs)).toEqual([1]);
      expect(await store.storedBytes()).toBe(50);
    } finally {
      await dispose();
    }
  });

  it('a retried send.multi whose every mailbox holds it already stores no body', async () => {
    const { db, dispose } = sqlite();
    try {
      const store = new SqliteMailboxStore(db, { maxEnvelopes: 10, maxBytes: 10_000, retentionMs: 60_000 });
      const to = [rnd(32), rnd(32)];
      const id = rnd(16);
      const body = rnd(80);
      await store.depositBatch(to.map((m) => ({ to: m, id, body })), T0);
      const again = await store.depositBatch(to.map((m) => ({ to: m, id, body })), T0 + 1);
      expect(again.every((o) => o.ok && o.duplicate)).toBe(true);
      expect(bodies(db)).toHaveLength(1);
      expect(await store.storedBytes()).toBe(80);
    } finally {
      await dispose();
    }
  });

  it('migrates envelopes stored before bodies were shared: same seqs, bodies, usage and storage measure; new seqs follow', async () => {
    const dir = tempDataDir();
    try {
      const step = MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE bodies'));
      expect(step).toBeGreaterThan(0);
      const old = new Database(join(dir, DATABASE_FILE));
      for (let i = 0; i < step; i++) old.exec(MIGRATIONS[i]!);
      old.pragma(`user_version = ${step}`);
      const a = rnd(32);
      const b = rnd(32);
      const insert = old.prepare('INSERT INTO envelopes (mailbox, id, body, deposited_at, expires_at) VALUES (?, ?, ?, ?, ?)');
      const rows = [
        { to: a, id: rnd(16), body: rnd(30) },
        { to: b, id: rnd(16), body: rnd(40) },
        { to: a, id: rnd(16), body: rnd(50) },
      ];
      for (const r of rows) insert.run(r.to, r.id, r.body, T0, T0 + 60_000);
      // A deleted last row: its seq must never be handed out again.
      const gone = insert.run(b, rnd(16), rnd(10), T0, T0 + 60_000).lastInsertRowid;
      old.prepare('DELETE FROM envelopes WHERE seq = ?').run(gone);
      old.close();

      const db = openDatabase(dir, 'FULL');
      try {
        expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
        const store = new SqliteMailboxStore(db, { maxEnvelopes: 10, maxBytes: 10_000, retentionMs: 60_000 });
        expect((await store.pending(a, 0, 10)).map((p) => [p.seq, p.env])).toEqual([
          [1, rows[0]],
          [3, rows[2]],
        ]);
        expect((await store.pending(b, 0, 10)).map((p) => p.env)).toEqual([rows[1]]);
        expect(await store.count(a)).toBe(2);
        expect(await store.storedBytes()).toBe(120);
        expect((db.prepare('SELECT bytes FROM mailbox_usage WHERE mailbox = ?').get(a) as { bytes: number }).bytes).toBe(80);
        const [fresh] = await store.depositBatch([{ to: a, id: rnd(16), body: rnd(5) }], T0);
        expect(fresh).toMatchObject({ ok: true, seq: Number(gone) + 1 });
        // A migrated envelope acknowledged: its body goes with it.
        expect(await store.ack(a, [rows[0]!.id])).toEqual([T0]);
        expect(await store.storedBytes()).toBe(95);
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
