import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PushStore, PushSubscriptionRecord } from '../../../src/relay/push/push-store.ts';

export interface PushStoreRig {
  /** Two stores over the same data (two nodes, or two opens of one data dir). */
  readonly stores: readonly [PushStore, PushStore];
  dispose(): Promise<void>;
}

const rnd = (n: number) => new Uint8Array(randomBytes(n));
const sub = (endpoint = `https://push.example.org/${Buffer.from(rnd(8)).toString('hex')}`): PushSubscriptionRecord => ({ endpoint, p256dh: rnd(65), auth: rnd(16) });
let made = 0;
const keys = () => ({ publicKey: `pub-${++made}`, privateKey: `priv-${made}` });

/** The behaviour every PushStore must have (SQLite and PostgreSQL). */
export function describePushStoreContract(name: string, factory: () => Promise<PushStoreRig>): void {
  describe(`PushStore contract: ${name}`, () => {
    let rig: PushStoreRig;
    beforeEach(async () => {
      rig = await factory();
    });
    afterEach(async () => {
      await rig.dispose();
    });

    it('makes the VAPID key pair once: later calls, and concurrent first calls, all get the stored pair', async () => {
      const [a, b] = rig.stores;
      const both = await Promise.all([a.vapidKeys(keys), b.vapidKeys(keys)]);
      expect(both[1]).toEqual(both[0]);
      let called = false;
      const again = await b.vapidKeys(() => {
        called = true;
        return keys();
      });
      expect(again).toEqual(both[0]);
      expect(called).toBe(false);
    });

    it('keeps one subscription per mailbox: a new registration replaces the old, bytes intact', async () => {
      const [a, b] = rig.stores;
      const mailbox = rnd(32);
      expect(await a.subscription(mailbox)).toBeUndefined();
      const first = sub();
      await a.register(mailbox, first, 1);
      expect(await b.subscription(mailbox)).toEqual(first);
      const second = sub();
      await b.register(mailbox, second, 2);
      expect(await a.subscription(mailbox)).toEqual(second);
      expect(await a.count()).toBe(1);
    });

    it('looks up the subscriptions of several mailboxes at once, one entry per mailbox in order', async () => {
      const [a, b] = rig.stores;
      const [m1, m2, m3] = [rnd(32), rnd(32), rnd(32)];
      const s1 = sub();
      const s3 = sub();
      await a.register(m1, s1, 1);
      await a.register(m3, s3, 1);
      expect(await b.subscriptions([m3, m2, m1])).toEqual([s3, undefined, s1]);
      expect(await b.subscriptions([])).toEqual([]);
    });

    it('looks up a group-sized list (more than one statement of mailboxes, a mailbox named twice) exactly, in order', async () => {
      const [a, b] = rig.stores;
      const mailboxes = Array.from({ length: 150 }, () => rnd(32));
      const expected = new Array<ReturnType<typeof sub> | undefined>(150).fill(undefined);
      for (let i = 0; i < 150; i += 3) {
        expected[i] = sub();
        await a.register(mailboxes[i]!, expected[i]!, 1);
      }
      // The 65th (first of the second statement) and the last name the first mailbox again.
      mailboxes[64] = mailboxes[0]!;
      expected[64] = expected[0];
      mailboxes[149] = mailboxes[0]!;
      expected[149] = expected[0];
      expect(await b.subscriptions(mailboxes)).toEqual(expected);
      expect(await b.subscriptions(mailboxes.slice(1, 2))).toEqual([undefined]);
    });

    it('removes only the named endpoint when asked to (a stale "gone" keeps a newer registration)', async () => {
      const [a] = rig.stores;
      const mailbox = rnd(32);
      const other = rnd(32);
      const current = sub();
      await a.register(mailbox, current, 1);
      await a.register(other, sub(), 1);
      expect(await a.remove(mailbox, 'https://push.example.org/old')).toBe(false);
      expect(await a.subscription(mailbox)).toEqual(current);
      expect(await a.remove(mailbox, current.endpoint)).toBe(true);
      expect(await a.subscription(mailbox)).toBeUndefined();
      expect(await a.remove(other)).toBe(true);
      expect(await a.remove(other)).toBe(false);
      expect(await a.count()).toBe(0);
    });
  });
}
