import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VaultLimits, VaultStore } from '../../../src/relay/vault/vault-store.ts';

export interface VaultStoreRig {
  /** Two stores over the same data (two nodes, or two opens of one data dir). */
  readonly stores: readonly [VaultStore, VaultStore];
  dispose(): Promise<void>;
}

const rnd = (n: number) => new Uint8Array(randomBytes(n));
const DAY = 86_400_000;
const LIMITS: VaultLimits = { replaceIntervalMs: DAY, retentionMs: 30 * DAY, maxTotalBytes: 10_000 };

/** The behaviour every VaultStore must have (SQLite and PostgreSQL). */
export function describeVaultStoreContract(name: string, factory: (limits: VaultLimits) => Promise<VaultStoreRig>): void {
  describe(`VaultStore contract: ${name}`, () => {
    let rig: VaultStoreRig;
    beforeEach(async () => {
      rig = await factory(LIMITS);
    });
    afterEach(async () => {
      await rig.dispose();
    });

    it('stores a backup under its id, bytes intact, and replaces it with the same token at most once per interval', async () => {
      const [a, b] = rig.stores;
      const id = rnd(16);
      const hash = rnd(32);
      expect(await a.get(id, 0)).toBeUndefined();
      const first = rnd(3000);
      expect(await a.put({ id, writeHash: hash, blob: first }, 1000)).toEqual({ ok: true, created: true });
      expect(await b.get(id, 1001)).toEqual({ blob: first, updatedAt: 1000 });
      const second = rnd(2000);
      expect(await b.put({ id, writeHash: hash, blob: second }, 1000 + DAY - 1)).toEqual({ ok: false, why: 'too_soon', retryAt: 1000 + DAY });
      expect((await a.get(id, 2000))!.blob).toEqual(first);
      expect(await b.put({ id, writeHash: hash, blob: second }, 1000 + DAY)).toEqual({ ok: true, created: false });
      expect(await a.get(id, 1000 + DAY)).toEqual({ blob: second, updatedAt: 1000 + DAY });
      expect(await a.totalBytes()).toBe(2000);
    });

    it('refuses another write token, changing nothing, and deletes only with the right one', async () => {
      const [a, b] = rig.stores;
      const id = rnd(16);
      const hash = rnd(32);
      const blob = rnd(100);
      await a.put({ id, writeHash: hash, blob }, 0);
      expect(await b.put({ id, writeHash: rnd(32), blob: rnd(100) }, 2 * DAY)).toEqual({ ok: false, why: 'forbidden' });
      expect(await b.delete(id, rnd(32), 1)).toBe('forbidden');
      expect((await a.get(id, 1))!.blob).toEqual(blob);
      expect(await b.delete(id, hash, 1)).toBe('deleted');
      expect(await a.get(id, 1)).toBeUndefined();
      expect(await a.delete(id, hash, 1)).toBe('not_found');
    });

    it('refuses a write past the total cap (a replacement counts only its growth), storing nothing', async () => {
      const [a] = rig.stores;
      const id = rnd(16);
      const hash = rnd(32);
      expect(await a.put({ id, writeHash: hash, blob: rnd(9000) }, 0)).toMatchObject({ ok: true });
      const other = rnd(16);
      expect(await a.put({ id: other, writeHash: hash, blob: rnd(1001) }, 0)).toEqual({ ok: false, why: 'storage_full' });
      expect(await a.get(other, 0)).toBeUndefined();
      expect(await a.put({ id, writeHash: hash, blob: rnd(10_000) }, DAY)).toEqual({ ok: true, created: false });
      expect(await a.totalBytes()).toBe(10_000);
    });

    it('forgets an entry past retention: not served, deleted by expire, and its id free for a new token', async () => {
      const [a, b] = rig.stores;
      const id = rnd(16);
      await a.put({ id, writeHash: rnd(32), blob: rnd(10) }, 0);
      expect(await b.get(id, LIMITS.retentionMs)).toBeUndefined();
      const fresh = rnd(32);
      expect(await b.put({ id, writeHash: fresh, blob: rnd(20) }, LIMITS.retentionMs)).toEqual({ ok: true, created: true });
      const old = rnd(16);
      await a.put({ id: old, writeHash: rnd(32), blob: rnd(10) }, 0);
      expect(await a.expire(LIMITS.retentionMs)).toBe(1);
      expect((await a.get(id, LIMITS.retentionMs + 1))!.blob.length).toBe(20);
    });

    it('two first writes of one id racing: exactly one token wins, the other is forbidden', async () => {
      const [a, b] = rig.stores;
      const id = rnd(16);
      const results = await Promise.all([a.put({ id, writeHash: rnd(32), blob: rnd(10) }, 5), b.put({ id, writeHash: rnd(32), blob: rnd(10) }, 5)]);
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(results.filter((r) => !r.ok)).toEqual([{ ok: false, why: 'forbidden' }]);
    });
  });
}
