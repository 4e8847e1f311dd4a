import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MailboxLimits, MailboxStore } from '../../../src/relay/mailbox/mailbox-store.ts';

/** A fresh, empty store with these limits; `dispose` releases it. */
export type MailboxStoreFactory = (limits: MailboxLimits) => Promise<{ store: MailboxStore; dispose(): Promise<void> }>;

const rnd = (n: number) => new Uint8Array(randomBytes(n));
const env = (to: Uint8Array, bodyBytes = 32) => ({ to, id: rnd(16), body: rnd(bodyBytes) });
const LIMITS: MailboxLimits = { maxEnvelopes: 5, maxBytes: 1000, retentionMs: 60_000 };
const T0 = 1_700_000_000_000;

/** The behaviour every MailboxStore must have (SQLite today; a shared database later). */
export function describeMailboxStoreContract(name: string, factory: MailboxStoreFactory): void {
  describe(`MailboxStore contract: ${name}`, () => {
    let store: MailboxStore;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ store, dispose } = await factory(LIMITS));
    });
    afterEach(async () => {
      await dispose();
    });

    it('returns deposits per mailbox in deposit order, after a cursor, with their bytes', async () => {
      const a = rnd(32);
      const b = rnd(32);
      const envs = [env(a), env(b), env(a), env(a)];
      const out = await store.depositBatch(envs, T0);
      expect(out.every((o) => o.ok && !o.duplicate)).toBe(true);
      const pendingA = await store.pending(a, 0, 10);
      expect(pendingA.map((p) => p.env)).toEqual([envs[0], envs[2], envs[3]]);
      expect(pendingA.every((p) => p.depositedAt === T0)).toBe(true);
      const after = await store.pending(a, pendingA[0]!.seq, 10);
      expect(after.map((p) => p.env)).toEqual([envs[2], envs[3]]);
      expect(await store.pending(a, 0, 1)).toHaveLength(1);
      expect(await store.count(a)).toBe(3);
      expect(await store.count(b)).toBe(1);
      expect(await store.totalQueued()).toBe(4);
    });

    it('treats a repeated (mailbox, id) as a duplicate of the stored one', async () => {
      const a = rnd(32);
      const e = env(a);
      const [first] = await store.depositBatch([e], T0);
      const [again] = await store.depositBatch([{ ...e, body: rnd(8) }], T0 + 1);
      expect(first).toMatchObject({ ok: true, duplicate: false });
      expect(again).toEqual({ ok: true, duplicate: true, seq: (first as { seq: number }).seq });
      expect((await store.pending(a, 0, 10)).map((p) => p.env.body)).toEqual([e.body]);
    });

    it('refuses deposits beyond the count cap and the byte cap, per mailbox', async () => {
      const a = rnd(32);
      const out = await store.depositBatch(Array.from({ length: 7 }, () => env(a, 10)), T0);
      expect(out.map((o) => o.ok)).toEqual([true, true, true, true, true, false, false]);
      expect(out[5]).toEqual({ ok: false, reason: 'mailbox_full' });
      const b = rnd(32);
      const big = await store.depositBatch([env(b, 600), env(b, 600), env(b, 300)], T0);
      expect(big.map((o) => o.ok)).toEqual([true, false, true]);
      // Acks free space again.
      const first = (await store.pending(a, 0, 1))[0]!;
      await store.ack(a, [first.env.id]);
      expect((await store.depositBatch([env(a, 10)], T0))[0]!.ok).toBe(true);
    });

    it('deletes only acknowledged ids of the given mailbox, idempotently', async () => {
      const a = rnd(32);
      const b = rnd(32);
      const ea = env(a);
      const eb = env(b);
      await store.depositBatch([ea, eb, env(a)], T0);
      expect(await store.ack(b, [ea.id])).toEqual([]);
      expect(await store.ack(a, [ea.id, rnd(16)])).toEqual([T0]);
      expect(await store.ack(a, [ea.id])).toEqual([]);
      expect(await store.count(a)).toBe(1);
      expect(await store.count(b)).toBe(1);
    });

    it('expires envelopes at the end of retention and not before', async () => {
      const a = rnd(32);
      await store.depositBatch([env(a)], T0);
      await store.depositBatch([env(a)], T0 + 30_000);
      expect(await store.expire(T0 + 59_999)).toBe(0);
      expect(await store.expire(T0 + 60_000)).toBe(1);
      expect(await store.count(a)).toBe(1);
      expect(await store.expire(T0 + 90_000)).toBe(1);
      expect(await store.totalQueued()).toBe(0);
    });

    it('commits deposits and acks of several mailboxes in one batch', async () => {
      const a = rnd(32);
      const b = rnd(32);
      const old = env(a);
      await store.depositBatch([old], T0);
      const fresh = [env(a), env(b)];
      const result = await store.commit({ deposits: fresh, acks: [{ mailbox: a, ids: [old.id] }, { mailbox: b, ids: [rnd(16)] }] }, T0 + 5);
      expect(result.deposits.map((o) => o.ok)).toEqual([true, true]);
      expect(result.acks).toEqual([[T0], []]);
      expect((await store.pending(a, 0, 10)).map((p) => p.env)).toEqual([fresh[0]]);
      expect(await store.count(b)).toBe(1);
    });

    it('refuses any deposit past the global byte cap with storage_full, and counts stored bytes', async () => {
      await dispose();
      ({ store, dispose } = await factory({ ...LIMITS, maxTotalBytes: 100 }));
      const a = rnd(32);
      const b = rnd(32);
      const out = await store.depositBatch([env(a, 40), env(b, 40), env(a, 30), env(b, 20)], T0);
      expect(out.map((o) => (o.ok ? 'ok' : o.reason))).toEqual(['ok', 'ok', 'storage_full', 'ok']);
      expect(await store.storedBytes()).toBe(100);
      await store.ack(a, [(await store.pending(a, 0, 1))[0]!.env.id]);
      expect(await store.storedBytes()).toBe(60);
      expect((await store.depositBatch([env(a, 40)], T0))[0]!.ok).toBe(true);
    });

    it('keeps a body deposited to several mailboxes in one commit (send.multi) for each until that mailbox acks it or it expires', async () => {
      const [a, b, c] = [rnd(32), rnd(32), rnd(32)];
      const id = rnd(16);
      const body = rnd(100);
      const out = await store.depositBatch([a, b, c].map((to) => ({ to, id, body })), T0);
      expect(out.every((o) => o.ok && !o.duplicate)).toBe(true);
      expect(await store.ack(a, [id])).toEqual([T0]);
      expect(await store.pending(a, 0, 10)).toEqual([]);
      expect((await store.pending(b, 0, 10)).map((p) => p.env)).toEqual([{ to: b, id, body }]);
      expect((await store.pending(c, 0, 10)).map((p) => p.env)).toEqual([{ to: c, id, body }]);
      // A retry of the same deposit: stored once per mailbox, the acknowledged one stored anew.
      const again = await store.depositBatch([a, b, c].map((to) => ({ to, id, body })), T0 + 1);
      expect(again.map((o) => o.ok && o.duplicate)).toEqual([false, true, true]);
      expect(again.slice(1).map((o) => o.ok && o.seq)).toEqual(out.slice(1).map((o) => o.ok && o.seq));
      await store.ack(b, [id]);
      expect((await store.pending(c, 0, 10)).map((p) => p.env.body)).toEqual([body]);
      expect(await store.expire(T0 + 60_000)).toBe(1);
      expect(await store.count(c)).toBe(0);
      expect((await store.pending(a, 0, 10)).map((p) => p.env.body)).toEqual([body]);
      await store.ack(a, [id]);
      expect(await store.totalQueued()).toBe(0);
      expect(await store.storedBytes()).toBe(0);
    });

    it("counts a body deposited to several mailboxes against each mailbox's quota", async () => {
      const a = rnd(32);
      const b = rnd(32);
      await store.depositBatch([env(a, 600)], T0);
      const id = rnd(16);
      const body = rnd(500);
      const out = await store.depositBatch([{ to: a, id, body }, { to: b, id, body }], T0);
      expect(out.map((o) => (o.ok ? 'ok' : o.reason))).toEqual(['mailbox_full', 'ok']);
      expect((await store.pending(b, 0, 10)).map((p) => p.env.body)).toEqual([body]);
      await store.ack(b, [id]);
      expect(await store.count(b)).toBe(0);
      expect(await store.storedBytes()).toBe(600);
    });

    it('keeps envelopes of an unclaimed mailbox for the unclaimed retention; the first claim extends them', async () => {
      await dispose();
      ({ store, dispose } = await factory({ ...LIMITS, unclaimedRetentionMs: 10_000 }));
      const a = rnd(32);
      const b = rnd(32);
      await store.depositBatch([env(a), env(b)], T0);
      await store.claim(b, T0 + 1);
      await store.claim(b, T0 + 2);
      await store.depositBatch([env(b)], T0 + 5_000);
      expect(await store.expire(T0 + 10_000)).toBe(1);
      expect(await store.count(a)).toBe(0);
      expect(await store.count(b)).toBe(2);
      expect(await store.expire(T0 + 60_000)).toBe(1);
      expect(await store.expire(T0 + 65_000)).toBe(1);
    });

    it('is ready when it can serve', async () => {
      await expect(store.check()).resolves.toBeUndefined();
    });
  });
}
