import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresBlobStore } from '../../src/relay/blobs/postgres-blob-store.ts';
import { createPostgresPool } from '../../src/relay/storage/postgres/postgres-pool.ts';
import { MemoryRateLimitStore } from '../../src/relay/limits/memory-rate-limit-store.ts';
import { RedisRateLimitStore } from '../../src/relay/cluster/redis-rate-limit-store.ts';
import { migrate } from '../../src/relay/storage/postgres/migrate.ts';
import { MIGRATIONS } from '../../src/relay/storage/postgres/migrations.ts';
import { PostgresMailboxStore } from '../../src/relay/storage/postgres/postgres-mailbox-store.ts';
import { PostgresPreKeyStore } from '../../src/relay/storage/postgres/postgres-prekey-store.ts';
import { SchemaTooNewError } from '../../src/relay/storage/sqlite-database.ts';
import { describeBlobStoreContract } from './contracts/blob-store.contract.ts';
import { describeMailboxStoreContract } from './contracts/mailbox-store.contract.ts';
import { describePreKeyStoreContract } from './contracts/prekey-store.contract.ts';
import { describeDeviceStoreContract } from './contracts/device-store.contract.ts';
import { PostgresDeviceStore } from '../../src/relay/storage/postgres/postgres-device-store.ts';
import { describeRateLimitStoreContract } from './contracts/rate-limit-store.contract.ts';
import { describePushStoreContract } from './contracts/push-store.contract.ts';
import { PostgresPushStore } from '../../src/relay/storage/postgres/postgres-push-store.ts';
import { freshDatabase, freshRedisPrefix, type TestDatabase } from './helpers/services.ts';
import { deviceMailboxAddress } from '../../src/core/wire/index.ts';

// The same contract suites the SQLite and memory stores pass (sqlite-stores.test.ts,
// rate-limit-store.test.ts), against the real PostgreSQL and Redis.

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase();
  await migrate(db.pool);
});
afterAll(async () => {
  await db.drop();
});

/** An empty schema and a pool of its own for each contract test. */
async function emptyPool() {
  await db.pool.query(
    'TRUNCATE envelopes, bodies, mailbox_usage, mailbox_claims, prekey_identities, one_time_prekeys, pq_one_time_prekeys, device_lists, account_devices, closed_mailboxes',
  );
  await db.pool.query('UPDATE storage_usage SET bytes = 0');
  const pool = createPostgresPool({ connectionString: db.url, max: 8, timeoutMs: 10_000 }, () => {});
  return { pool, dispose: () => pool.end() };
}

describeMailboxStoreContract('PostgreSQL', async (limits) => {
  const { pool, dispose } = await emptyPool();
  return { store: new PostgresMailboxStore(pool, limits), dispose };
});

describeBlobStoreContract('PostgreSQL', async (limits) => {
  await db.pool.query('TRUNCATE blobs, blob_chunks, blob_acks, blob_recipients');
  const pool = createPostgresPool({ connectionString: db.url, max: 8, timeoutMs: 10_000 }, () => {});
  return { store: new PostgresBlobStore(pool, limits), dispose: () => pool.end() };
});

describePreKeyStoreContract('PostgreSQL', async () => {
  const { pool, dispose } = await emptyPool();
  return { store: new PostgresPreKeyStore(pool), dispose };
});

describeDeviceStoreContract('PostgreSQL', async () => {
  const { pool, dispose } = await emptyPool();
  const limits = { maxEnvelopes: 1000, maxBytes: 10_000_000, retentionMs: 1e9 };
  return { devices: new PostgresDeviceStore(pool), mailboxes: new PostgresMailboxStore(pool, limits), prekeys: new PostgresPreKeyStore(pool), dispose };
});

describePushStoreContract('PostgreSQL', async () => {
  await db.pool.query('TRUNCATE push_vapid, push_subscriptions');
  // Two pools: two relay nodes sharing the database.
  const pools = [0, 1].map(() => createPostgresPool({ connectionString: db.url, max: 4, timeoutMs: 10_000 }, () => {}));
  return { stores: [new PostgresPushStore(pools[0]!), new PostgresPushStore(pools[1]!)], dispose: async () => void (await Promise.all(pools.map((p) => p.end()))) };
});

describeRateLimitStoreContract('Redis', async (clock) => {
  const r = await freshRedisPrefix();
  const fallback = new MemoryRateLimitStore({ now: clock.now, sweepIntervalMs: 10 * 60 * 1000 });
  return { store: new RedisRateLimitStore(r.redis, r.prefix, fallback), dispose: () => r.cleanup() };
});

describe('PostgreSQL migrations', () => {
  it('two nodes migrating a fresh database together apply each step once', async () => {
    const fresh = await freshDatabase();
    try {
      const pools = [0, 1, 2].map(() => createPostgresPool({ connectionString: fresh.url, max: 2, timeoutMs: 10_000 }, () => {}));
      const results = await Promise.all(pools.map((p) => migrate(p)));
      expect(results.map((r) => r.applied).sort()).toEqual([0, 0, MIGRATIONS.length]);
      expect(results.every((r) => r.version === MIGRATIONS.length)).toBe(true);
      const { rows } = await fresh.pool.query<{ version: number }>('SELECT version FROM petrel_schema_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
      // Started again later, nothing is left to do.
      expect(await migrate(pools[0]!)).toEqual({ applied: 0, version: MIGRATIONS.length });
      await Promise.all(pools.map((p) => p.end()));
    } finally {
      await fresh.drop();
    }
  });

  it('refuses a database migrated by a newer relay, changing nothing', async () => {
    const fresh = await freshDatabase();
    try {
      await migrate(fresh.pool);
      await fresh.pool.query('INSERT INTO petrel_schema_migrations (version) VALUES ($1)', [MIGRATIONS.length + 1]);
      await expect(migrate(fresh.pool)).rejects.toBeInstanceOf(SchemaTooNewError);
      const { rows } = await fresh.pool.query<{ n: string }>('SELECT count(*) AS n FROM petrel_schema_migrations');
      expect(Number(rows[0]!.n)).toBe(MIGRATIONS.length + 1);
    } finally {
      await fresh.drop();
    }
  });
});

describe('PostgresMailboxStore', () => {
  it('reports each new envelope\'s predecessor in its mailbox (for ordered fan-out across nodes)', async () => {
    const { pool, dispose } = await emptyPool();
    const store = new PostgresMailboxStore(pool, { maxEnvelopes: 100, maxBytes: 1 << 20, retentionMs: 60_000 });
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    const env = (to: Uint8Array, n: number) => ({ to, id: new Uint8Array(16).fill(n), body: new Uint8Array(8) });
    const [a1, b1, a2] = await store.depositBatch([env(a, 1), env(b, 1), env(a, 2)], 1);
    expect(a1).toMatchObject({ ok: true, prev: 0 });
    expect(b1).toMatchObject({ ok: true, prev: 0 });
    expect(a2).toMatchObject({ ok: true, prev: (a1 as { seq: number }).seq });
    // Acked envelopes leave the predecessor chain as it was.
    await store.ack(a, [new Uint8Array(16).fill(2)]);
    const [a3] = await store.depositBatch([env(a, 3)], 2);
    expect(a3).toMatchObject({ ok: true, prev: (a2 as { seq: number }).seq });
    await dispose();
  });

  it('concurrent commits from several pools to the same mailboxes neither deadlock nor lose a deposit', async () => {
    const { pool, dispose } = await emptyPool();
    const pools = [pool, ...[1, 2].map(() => createPostgresPool({ connectionString: db.url, max: 4, timeoutMs: 10_000 }, () => {}))];
    const stores = pools.map((p) => new PostgresMailboxStore(p, { maxEnvelopes: 100_000, maxBytes: 1 << 30, retentionMs: 60_000 }));
    const mailboxes = Array.from({ length: 5 }, (_, i) => new Uint8Array(32).fill(i + 1));
    const batch = (order: number[]) => order.map((m) => ({ to: mailboxes[m]!, id: new Uint8Array(randomBytes(16)), body: new Uint8Array(4) }));
    const jobs = [];
    for (let i = 0; i < 30; i++) {
      // Half the batches touch the mailboxes in the opposite order: the lock order must not depend on it.
      const order = i % 2 === 0 ? [0, 1, 2, 3, 4] : [4, 3, 2, 1, 0];
      jobs.push(stores[i % 3]!.depositBatch(batch(order), 1).then((out) => out.map((o, j) => ({ o, m: order[j]! }))));
    }
    const outcomes = (await Promise.all(jobs)).flat();
    expect(outcomes.every(({ o }) => o.ok && !o.duplicate)).toBe(true);
    expect(await stores[0]!.totalQueued()).toBe(150);
    // Per mailbox, each envelope's predecessor is the one with the next lower seq: a chain with no gap or fork.
    for (let m = 0; m < mailboxes.length; m++) {
      const mine = outcomes.filter((x) => x.m === m).map(({ o }) => o as { seq: number; prev: number }).sort((x, y) => x.seq - y.seq);
      expect(mine).toHaveLength(30);
      mine.forEach((o, i) => expect(o.prev).toBe(i === 0 ? 0 : mine[i - 1]!.seq));
      expect((await stores[0]!.pending(mailboxes[m]!, 0, 1000)).map((p) => p.seq)).toEqual(mine.map((o) => o.seq));
    }
    await Promise.all(pools.slice(1).map((p) => p.end()));
    await dispose();
  });
});

describe('PostgresMailboxStore: a body stored once for all its mailboxes (issue 18)', () => {
  const rnd = (n: number) => new Uint8Array(randomBytes(n));
  const T0 = 1_700_000_000_000;
  const bodies = async () => (await db.pool.query<{ refs: number; size: number }>('SELECT refs, octet_length(body) AS size FROM bodies ORDER BY ref')).rows;
  const usage = async () => (await db.pool.query<{ bytes: string }>('SELECT bytes FROM mailbox_usage WHERE count > 0 ORDER BY mailbox')).rows.map((r) => Number(r.bytes));

  it('stores a send.multi body once, counts it once against the global cap, and frees it when ack, unlink and expiry took its last envelope', async () => {
    const { pool, dispose } = await emptyPool();
    try {
      const store = new PostgresMailboxStore(pool, { maxEnvelopes: 10, maxBytes: 10_000, retentionMs: 60_000, maxTotalBytes: 250 });
      const devices = new PostgresDeviceStore(pool);
      const account = rnd(32);
      const linked = { id: rnd(16), key: rnd(32) };
      const unlinked = { id: rnd(16), key: rnd(32) };
      await devices.publish(account, { version: 1, body: rnd(40), sig: rnd(64), devices: [linked, unlinked] }, T0);
      const to = [rnd(32), deviceMailboxAddress(account, unlinked.id), rnd(32), rnd(32)];
      const id = rnd(16);
      const body = rnd(200);
      const out = await store.depositBatch(to.map((m) => ({ to: m, id, body })), T0);
      expect(out.every((o) => o.ok && !o.duplicate)).toBe(true);
      expect(await bodies()).toEqual([{ refs: 4, size: 200 }]);
      expect(await store.storedBytes()).toBe(200);
      // 4 × 200 bytes would be past the 250-byte cap: counted once; 100 more bytes do not fit.
      expect((await store.depositBatch([{ to: to[0]!, id: rnd(16), body: rnd(100) }], T0))[0]).toEqual({ ok: false, reason: 'storage_full' });
      // Each mailbox's quota still counts the body.
      expect(await usage()).toEqual([200, 200, 200, 200]);
      // A retry of the same deposit stores nothing more.
      expect((await store.depositBatch(to.map((m) => ({ to: m, id, body })), T0 + 1)).every((o) => o.ok && o.duplicate)).toBe(true);
      expect(await bodies()).toEqual([{ refs: 4, size: 200 }]);

      expect(await store.ack(to[0]!, [id])).toEqual([T0]);
      expect(await bodies()).toEqual([{ refs: 3, size: 200 }]);
      // Unlinking a device empties its mailbox and releases its reference.
      await devices.publish(account, { version: 2, body: rnd(40), sig: rnd(64), devices: [linked] }, T0 + 2);
      expect(await bodies()).toEqual([{ refs: 2, size: 200 }]);
      expect((await store.pending(to[2]!, 0, 10))[0]!.env.body).toEqual(body);
      await store.ack(to[2]!, [id]);
      expect(await store.storedBytes()).toBe(200);
      // Retention takes the last envelope, and the body with it.
      expect(await store.expire(T0 + 60_000)).toBe(1);
      expect(await bodies()).toEqual([]);
      expect(await store.storedBytes()).toBe(0);
      expect(await usage()).toEqual([]);
    } finally {
      await dispose();
    }
  });

  it('stores bodies of separate deposits separately, even when their bytes are equal', async () => {
    const { pool, dispose } = await emptyPool();
    try {
      const store = new PostgresMailboxStore(pool, { maxEnvelopes: 10, maxBytes: 10_000, retentionMs: 60_000 });
      const a = rnd(32);
      const body = rnd(50);
      await store.depositBatch([{ to: a, id: rnd(16), body }, { to: a, id: rnd(16), body: body.slice() }], T0);
      expect((await bodies()).map((b) => b.refs)).toEqual([1, 1]);
      const [first] = await store.pending(a, 0, 1);
      await store.ack(a, [first!.env.id]);
      expect((await bodies()).map((b) => b.refs)).toEqual([1]);
      expect(await store.storedBytes()).toBe(50);
    } finally {
      await dispose();
    }
  });

  it('recipients acknowledging one body at once from several nodes leave no body behind', async () => {
    const { pool, dispose } = await emptyPool();
    const pools = [pool, ...[1, 2].map(() => createPostgresPool({ connectionString: db.url, max: 4, timeoutMs: 10_000 }, () => {}))];
    try {
      const limits = { maxEnvelopes: 100, maxBytes: 1 << 20, retentionMs: 60_000 };
      const stores = pools.map((p) => new PostgresMailboxStore(p, limits));
      const to = Array.from({ length: 30 }, () => rnd(32));
      const ids = Array.from({ length: 5 }, () => rnd(16));
      for (const id of ids) {
        const body = rnd(64);
        await stores[0]!.depositBatch(to.map((m) => ({ to: m, id, body })), T0);
      }
      expect(await bodies()).toHaveLength(5);
      await Promise.all(to.map((m, i) => stores[i % 3]!.ack(m, ids)));
      expect(await bodies()).toEqual([]);
      expect(await stores[0]!.storedBytes()).toBe(0);
    } finally {
      await Promise.all(pools.slice(1).map((p) => p.end()));
      await dispose();
    }
  });

  it('migrates envelopes stored before bodies were shared: same seqs, bodies, usage and storage measure', async () => {
    const fresh = await freshDatabase();
    try {
      const step = MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE bodies'));
      expect(step).toBeGreaterThan(0);
      // Apply the steps before it the way migrate() records them.
      await fresh.pool.query('CREATE TABLE petrel_schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
      for (let i = 0; i < step; i++) {
        await fresh.pool.query(MIGRATIONS[i]!);
        await fresh.pool.query('INSERT INTO petrel_schema_migrations (version) VALUES ($1)', [i + 1]);
      }
      const a = rnd(32);
      const b = rnd(32);
      const old = new PostgresMailboxStoreBeforeBodies(fresh.pool);
      const rows = [
        { to: a, id: rnd(16), body: rnd(30) },
        { to: b, id: rnd(16), body: rnd(40) },
        { to: a, id: rnd(16), body: rnd(50) },
      ];
      const seqs = await old.deposit(rows, T0);
      await migrate(fresh.pool);
      const store = new PostgresMailboxStore(fresh.pool, { maxEnvelopes: 10, maxBytes: 10_000, retentionMs: 60_000 });
      expect((await store.pending(a, 0, 10)).map((p) => [p.seq, p.env])).toEqual([
        [seqs[0], rows[0]],
        [seqs[2], rows[2]],
      ]);
      expect(await store.count(a)).toBe(2);
      expect(await store.storedBytes()).toBe(120);
      const [fresh1] = await store.depositBatch([{ to: a, id: rnd(16), body: rnd(5) }], T0);
      expect(fresh1).toMatchObject({ ok: true, prev: seqs[2] });
      expect(await store.ack(a, [rows[0]!.id])).toEqual([T0]);
      expect(await store.storedBytes()).toBe(95);
      expect(await store.expire(T0 + 1e12)).toBe(3);
      expect(await store.storedBytes()).toBe(0);
      expect((await fresh.pool.query('SELECT 1 FROM bodies')).rowCount).toBe(0);
    } finally {
      await fresh.drop();
    }
  });
});

/** Deposits as the relay did before step 9 (the 13-parameter petrel_commit, bodies inline). */
class PostgresMailboxStoreBeforeBodies {
  constructor(private readonly pool: Pool) {}
  async deposit(envs: ReadonlyArray<{ to: Uint8Array; id: Uint8Array; body: Uint8Array }>, now: number): Promise<number[]> {
    const { rows } = await this.pool.query<{ r_seq: string }>(
      'SELECT * FROM petrel_commit($1::bytea, $2::int[], $3::bytea, $4::int[], $5::int[], $6, $7, $8, $9, $10, $11, $12::bytea[], $13::bigint[]) ORDER BY r_idx',
      [
        Buffer.concat(envs.flatMap((e) => [e.to, e.id, e.body])),
        envs.flatMap((e) => [e.to.length, e.id.length, e.body.length]),
        Buffer.alloc(0),
        [],
        [],
        now,
        60_000,
        60_000,
        10,
        10_000,
        0,
        envs.map(() => Buffer.alloc(0)),
        envs.map(() => -1),
      ],
    );
    return rows.map((r) => Number(r.r_seq));
  }
}
