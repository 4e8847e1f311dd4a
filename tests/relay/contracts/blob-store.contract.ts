import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobLimits, BlobStore } from '../../../src/relay/blobs/blob-store.ts';

/** A fresh, empty store with these limits; `dispose` releases it. */
export type BlobStoreFactory = (limits: BlobLimits) => Promise<{ store: BlobStore; dispose(): Promise<void> }>;

const rnd = (n: number) => new Uint8Array(randomBytes(n));
const LIMITS: BlobLimits = { accountQuotaBytes: 10_000, maxTotalBytes: 25_000, retentionMs: 60_000 };
const T0 = 1_700_000_000_000;

async function readAll(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** The behaviour every BlobStore must have (files + SQLite on one node; PostgreSQL for a cluster). */
export function describeBlobStoreContract(name: string, factory: BlobStoreFactory): void {
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ store, dispose } = await factory(LIMITS));
    });
    afterEach(async () => {
      await dispose();
    });

    const newBlob = (size: number, owner = rnd(32), recipients = 1) => ({ id: rnd(16), owner, size, recipients });

    it('stores chunks appended at the end offset and reads any range of them back', async () => {
      const blob = newBlob(5000);
      const created = await store.create(blob, T0);
      expect(created).toMatchObject({ ok: true, blob: { size: 5000, received: 0, recipients: 1, acks: 0, createdAt: T0, expiresAt: T0 + 60_000 } });
      const bytes = rnd(5000);
      expect(await store.append(blob.id, 0, bytes.subarray(0, 1500))).toEqual({ ok: true, received: 1500 });
      expect(await store.append(blob.id, 1500, bytes.subarray(1500, 4000))).toEqual({ ok: true, received: 4000 });
      expect((await store.info(blob.id))?.received).toBe(4000);
      expect(await store.append(blob.id, 4000, bytes.subarray(4000))).toEqual({ ok: true, received: 5000 });
      expect((await readAll(store.read(blob.id, 0, 5000))).equals(Buffer.from(bytes))).toBe(true);
      expect((await readAll(store.read(blob.id, 1499, 4001))).equals(Buffer.from(bytes.subarray(1499, 4001)))).toBe(true);
      expect((await readAll(store.read(blob.id, 4999, 5000))).equals(Buffer.from(bytes.subarray(4999)))).toBe(true);
    });

    it('refuses a chunk that does not start at the stored end, or ends past the declared size, and stores nothing of it', async () => {
      const blob = newBlob(100);
      await store.create(blob, T0);
      await store.append(blob.id, 0, rnd(40));
      expect(await store.append(blob.id, 0, rnd(40))).toEqual({ ok: false, why: 'offset_mismatch', received: 40 });
      expect(await store.append(blob.id, 50, rnd(10))).toEqual({ ok: false, why: 'offset_mismatch', received: 40 });
      expect(await store.append(blob.id, 40, rnd(61))).toEqual({ ok: false, why: 'beyond_size', received: 40 });
      expect((await store.info(blob.id))?.received).toBe(40);
      expect(await store.append(rnd(16), 0, rnd(1))).toEqual({ ok: false, why: 'not_found' });
    });

    it('two appends of the same chunk at once store it once', async () => {
      const blob = newBlob(3000);
      await store.create(blob, T0);
      const chunk = rnd(1000);
      const results = await Promise.all([store.append(blob.id, 0, chunk), store.append(blob.id, 0, chunk)]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, why: 'offset_mismatch', received: 1000 }]);
      expect((await store.info(blob.id))?.received).toBe(1000);
    });

    it('reserves declared sizes against the account quota and the global cap', async () => {
      const alice = rnd(32);
      expect((await store.create(newBlob(6000, alice), T0)).ok).toBe(true);
      expect(await store.create(newBlob(4001, alice), T0)).toEqual({ ok: false, why: 'over_quota' });
      expect((await store.create(newBlob(4000, alice), T0)).ok).toBe(true);
      expect(await store.accountBytes(alice)).toBe(10_000);
      expect((await store.create(newBlob(10_000), T0)).ok).toBe(true);
      expect(await store.create(newBlob(5001), T0)).toEqual({ ok: false, why: 'storage_full' });
      expect(await store.totalBytes()).toBe(20_000);
    });

    it('concurrent creations by one account cannot both pass its quota', async () => {
      const alice = rnd(32);
      const results = await Promise.all([store.create(newBlob(6000, alice), T0), store.create(newBlob(6000, alice), T0)]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(await store.accountBytes(alice)).toBe(6000);
    });

    it('deletes a blob once every recipient acknowledged it, counting each account once, and frees its quota', async () => {
      const alice = rnd(32);
      const blob = newBlob(10, alice, 2);
      await store.create(blob, T0);
      await store.append(blob.id, 0, rnd(10));
      const bob = rnd(32);
      expect(await store.ack(blob.id, bob)).toEqual({ ok: true, deleted: false });
      expect(await store.ack(blob.id, bob)).toEqual({ ok: true, deleted: false });
      expect((await store.info(blob.id))?.acks).toBe(1);
      expect(await store.ack(blob.id, rnd(32))).toEqual({ ok: true, deleted: true });
      expect(await store.info(blob.id)).toBeUndefined();
      expect(await store.ack(blob.id, bob)).toEqual({ ok: false, why: 'not_found' });
      expect(await store.accountBytes(alice)).toBe(0);
    });

    it('expires blobs at the end of retention, finished or not, and delete removes one', async () => {
      const [a, b, c] = [newBlob(10), newBlob(10), newBlob(10)];
      await store.create(a, T0);
      await store.create(b, T0 + 1000);
      await store.create(c, T0);
      await store.append(a.id, 0, rnd(10));
      expect(await store.expire(T0 + 59_999)).toBe(0);
      expect(await store.expire(T0 + 60_000)).toBe(2);
      expect(await store.info(a.id)).toBeUndefined();
      expect(await store.info(b.id)).toBeDefined();
      expect(await store.delete(b.id)).toBe(true);
      expect(await store.delete(b.id)).toBe(false);
      expect(await store.totalBytes()).toBe(0);
    });

    it('a blob that names its recipients takes acknowledgements from those accounts only', async () => {
      const [bob, carol, mallory] = [rnd(32), rnd(32), rnd(32)];
      const blob = { ...newBlob(10, rnd(32), 2), recipientAccounts: [bob, carol] };
      await store.create(blob, T0);
      await store.append(blob.id, 0, rnd(10));
      expect(await store.ack(blob.id, mallory)).toEqual({ ok: false, why: 'not_recipient' });
      expect(await store.ack(blob.id, bob)).toEqual({ ok: true, deleted: false });
      expect(await store.ack(blob.id, mallory)).toEqual({ ok: false, why: 'not_recipient' });
      expect((await store.info(blob.id))!.acks).toBe(1);
      expect(await store.ack(blob.id, carol)).toEqual({ ok: true, deleted: true });
      expect(await store.info(blob.id)).toBeUndefined();
      // One that names none takes any account's, as before.
      const open = newBlob(10);
      await store.create(open, T0);
      expect(await store.ack(open.id, mallory)).toEqual({ ok: true, deleted: true });
    });

    it('an unfinished upload with no chunk for idleMs expires and frees its quota; each chunk moves that, a finished one keeps its retention', async () => {
      const idle = await factory({ ...LIMITS, idleMs: 5_000 });
      try {
        const s = idle.store;
        const owner = rnd(32);
        const [abandoned, moving, finished] = [newBlob(10, owner), newBlob(10, owner), newBlob(10, owner)];
        await s.create(abandoned, T0);
        await s.create(moving, T0);
        await s.create(finished, T0);
        expect((await s.info(abandoned.id))!.expiresAt).toBe(T0 + 5_000);
        await s.append(moving.id, 0, rnd(4), T0 + 4_000);
        await s.append(finished.id, 0, rnd(10), T0 + 4_000);
        expect((await s.info(moving.id))!.expiresAt).toBe(T0 + 9_000);
        expect((await s.info(finished.id))!.expiresAt).toBe(T0 + 60_000);
        expect(await s.accountBytes(owner)).toBe(30);
        expect(await s.expire(T0 + 5_000)).toBe(1);
        expect(await s.info(abandoned.id)).toBeUndefined();
        expect(await s.accountBytes(owner)).toBe(20);
        expect(await s.expire(T0 + 9_000)).toBe(1);
        expect(await s.info(moving.id)).toBeUndefined();
        expect(await s.expire(T0 + 59_999)).toBe(0);
        expect(await s.accountBytes(owner)).toBe(10);
      } finally {
        await idle.dispose();
      }
    });
  });
}
