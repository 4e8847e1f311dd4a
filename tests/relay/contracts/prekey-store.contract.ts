import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PublishedBundle } from '../../../src/core/wire/index.ts';
import type { PreKeyStore } from '../../../src/relay/prekeys/prekey-store.ts';

export type PreKeyStoreFactory = () => Promise<{ store: PreKeyStore; dispose(): Promise<void> }>;

const rnd = (n: number) => new Uint8Array(randomBytes(n));

/** Signatures are not checked by stores (the relay verifies before publishing), so random bytes do. */
function bundle(ik: Uint8Array, opks: number, pqopks: number, firstId = 1): PublishedBundle {
  return {
    ik,
    spk: { id: 7, pub: rnd(32), sig: rnd(64) },
    pqspk: { id: 8, pub: rnd(1184), sig: rnd(64) },
    opks: Array.from({ length: opks }, (_, i) => ({ id: firstId + i, pub: rnd(32) })),
    pqopks: Array.from({ length: pqopks }, (_, i) => ({ id: firstId + i, pub: rnd(1184), sig: rnd(64) })),
  };
}

/** The behaviour every PreKeyStore must have. */
export function describePreKeyStoreContract(name: string, factory: PreKeyStoreFactory): void {
  describe(`PreKeyStore contract: ${name}`, () => {
    let store: PreKeyStore;
    let dispose: () => Promise<void>;
    beforeEach(async () => {
      ({ store, dispose } = await factory());
    });
    afterEach(async () => {
      await dispose();
    });

    it('knows nothing of an identity that never published', async () => {
      expect(await store.takeBundle(rnd(32))).toBeUndefined();
      expect(await store.counts(rnd(32))).toBeUndefined();
    });

    it('hands out each one-time key once, then the last-resort PQ key and no X25519 key', async () => {
      const ik = rnd(32);
      const b = bundle(ik, 2, 1);
      expect(await store.publish(b, 100, 1)).toEqual({ ok: true, counts: { opks: 2, pqopks: 1 } });
      const first = (await store.takeBundle(ik))!;
      expect(first.bundle).toEqual({ ik, spk: b.spk, pq: { ...b.pqopks[0]!, lastResort: false }, opk: b.opks[0] });
      expect(first.remaining).toEqual({ opks: 1, pqopks: 0 });
      const second = (await store.takeBundle(ik))!;
      expect(second.bundle.opk).toEqual(b.opks[1]);
      expect(second.bundle.pq).toEqual({ ...b.pqspk, lastResort: true });
      const third = (await store.takeBundle(ik))!;
      expect(third.bundle.opk).toBeUndefined();
      expect(third.remaining).toEqual({ opks: 0, pqopks: 0 });
    });

    it('with oneTime: false takes no one-time key and returns the last-resort keys', async () => {
      const ik = rnd(32);
      const published = bundle(ik, 2, 2);
      await store.publish(published, 10, 1);
      const taken = await store.takeBundle(ik, { oneTime: false });
      expect(taken?.bundle.opk).toBeUndefined();
      expect(taken?.bundle.pq).toEqual({ ...published.pqspk, lastResort: true });
      expect(taken?.remaining).toEqual({ opks: 2, pqopks: 2 });
      expect((await store.takeBundle(ik))?.remaining).toEqual({ opks: 1, pqopks: 1 });
    });

    it('concurrent takes never return the same one-time key', async () => {
      const ik = rnd(32);
      await store.publish(bundle(ik, 50, 30), 100, 1);
      const taken = await Promise.all(Array.from({ length: 100 }, () => store.takeBundle(ik)));
      const opks = taken.flatMap((t) => (t?.bundle.opk ? [t.bundle.opk.id] : []));
      const pqs = taken.flatMap((t) => (t && !t.bundle.pq.lastResort ? [t.bundle.pq.id] : []));
      expect(new Set(opks).size).toBe(50);
      expect(opks).toHaveLength(50);
      expect(new Set(pqs).size).toBe(30);
      expect(pqs).toHaveLength(30);
    });

    it('a republish replaces the signed keys and adds to the pools; over the cap it changes nothing', async () => {
      const ik = rnd(32);
      await store.publish(bundle(ik, 3, 3), 5, 1);
      const next = bundle(ik, 2, 0, 100);
      expect(await store.publish(next, 5, 2)).toEqual({ ok: true, counts: { opks: 5, pqopks: 3 } });
      expect((await store.takeBundle(ik))!.bundle.spk).toEqual(next.spk);
      expect(await store.publish(bundle(ik, 3, 0, 200), 5, 3)).toEqual({ ok: false, reason: 'pool_full' });
      expect(await store.counts(ik)).toEqual({ opks: 4, pqopks: 2 });
    });
  });
}
