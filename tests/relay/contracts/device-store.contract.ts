import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEVICE_ID_BYTES, deviceMailboxAddress, type DeviceEntry } from '../../../src/core/wire/index.ts';
import type { DeviceListUpdate, DeviceStore } from '../../../src/relay/devices/device-store.ts';
import type { MailboxStore } from '../../../src/relay/mailbox/mailbox-store.ts';
import type { PreKeyStore } from '../../../src/relay/prekeys/prekey-store.ts';

export interface DeviceStoreRig {
  readonly devices: DeviceStore;
  readonly mailboxes: MailboxStore;
  readonly prekeys: PreKeyStore;
  dispose(): Promise<void>;
}
export type DeviceStoreFactory = () => Promise<DeviceStoreRig>;

const rnd = (n: number) => new Uint8Array(randomBytes(n));
const entry = (): DeviceEntry => ({ id: rnd(DEVICE_ID_BYTES), key: rnd(32) });
/** Stores do not verify signatures (the relay does, before publishing): random bytes stand in for the signed body. */
const update = (version: number, devices: DeviceEntry[]): DeviceListUpdate => ({ version, body: rnd(40 + devices.length), sig: rnd(64), devices });
const env = (to: Uint8Array, bytes = 100) => ({ to, id: rnd(16), body: rnd(bytes) });

/** The behaviour every DeviceStore must have, including what an unlink does to the mailbox and prekey stores beside it. */
export function describeDeviceStoreContract(name: string, factory: DeviceStoreFactory): void {
  describe(`DeviceStore contract: ${name}`, () => {
    let rig: DeviceStoreRig;
    beforeEach(async () => {
      rig = await factory();
    });
    afterEach(async () => {
      await rig.dispose();
    });

    it('knows no list, device or closed mailbox of an account that never published', async () => {
      const account = rnd(32);
      expect(await rig.devices.get(account)).toBeUndefined();
      expect(await rig.devices.deviceKey(account, rnd(16))).toBeUndefined();
      expect(await rig.devices.isClosed(rnd(32))).toBe(false);
    });

    it('stores a list and its devices, and only ever raises the version', async () => {
      const account = rnd(32);
      const [a, b] = [entry(), entry()];
      const v1 = update(1, [a, b]);
      expect(await rig.devices.publish(account, v1, 1000)).toEqual({ ok: true, removed: [] });
      expect(await rig.devices.get(account)).toEqual({ version: 1, body: v1.body, sig: v1.sig });
      expect(await rig.devices.deviceKey(account, a.id)).toEqual(a.key);
      for (const version of [1, 0]) {
        expect(await rig.devices.publish(account, update(version, [a]), 2000)).toEqual({ ok: false, reason: 'stale', version: 1 });
      }
      // Refusals changed nothing.
      expect(await rig.devices.get(account)).toEqual({ version: 1, body: v1.body, sig: v1.sig });
      expect(await rig.devices.deviceKey(account, b.id)).toEqual(b.key);
      // Another account's list is independent.
      expect(await rig.devices.publish(rnd(32), update(1, [entry()]), 1000)).toMatchObject({ ok: true });
    });

    it('stores exactly one of several lists racing for the same version', async () => {
      const account = rnd(32);
      await rig.devices.publish(account, update(1, [entry()]), 1);
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => rig.devices.publish(account, update(2, [entry()]), 2)));
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok)).toEqual(Array.from({ length: 4 }, () => ({ ok: false, reason: 'stale', version: 2 })));
    });

    it('stores exactly one of several first lists racing (no list held yet), with its own devices only', async () => {
      for (let round = 0; round < 5; round++) {
        const account = rnd(32);
        const lists = Array.from({ length: 6 }, () => [entry(), entry()]);
        const outcomes = await Promise.all(lists.map((devices) => rig.devices.publish(account, update(1, devices), 1)));
        expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
        expect(outcomes.filter((o) => !o.ok)).toEqual(Array.from({ length: 5 }, () => ({ ok: false, reason: 'stale', version: 1 })));
        const winner = lists[outcomes.findIndex((o) => o.ok)]!;
        expect((await rig.devices.get(account))?.version).toBe(1);
        for (const devices of lists) {
          for (const d of devices) expect(await rig.devices.deviceKey(account, d.id)).toEqual(devices === winner ? d.key : undefined);
        }
      }
      // A first list and a higher one racing: the higher one is held in the end, whichever came first.
      const account = rnd(32);
      const [low, high] = [[entry()], [entry(), entry()]];
      const outcomes = await Promise.all([rig.devices.publish(account, update(1, low), 1), rig.devices.publish(account, update(2, high), 1)]);
      expect(outcomes[1]).toMatchObject({ ok: true });
      expect((await rig.devices.get(account))?.version).toBe(2);
      for (const d of high) expect(await rig.devices.deviceKey(account, d.id)).toEqual(d.key);
      expect(await rig.devices.deviceKey(account, low[0]!.id)).toBeUndefined();
    });

    it('unlinks in one step: the removed device\'s envelopes, claim and prekeys are gone, its mailbox closed, the counters right', async () => {
      const account = rnd(32);
      const [keep, gone] = [entry(), entry()];
      const keepBox = deviceMailboxAddress(account, keep.id);
      const goneBox = deviceMailboxAddress(account, gone.id);
      await rig.devices.publish(account, update(1, [keep, gone]), 1);
      await rig.mailboxes.claim(goneBox, 1);
      const outcomes = await rig.mailboxes.depositBatch([env(goneBox, 100), env(goneBox, 200), env(goneBox, 300), env(keepBox, 50)], 10);
      expect(outcomes.every((o) => o.ok)).toBe(true);
      await rig.prekeys.publish(
        { ik: goneBox, spk: { id: 1, pub: rnd(32), sig: rnd(64) }, pqspk: { id: 2, pub: rnd(1184), sig: rnd(64) }, opks: [{ id: 1, pub: rnd(32) }], pqopks: [] },
        100,
        10,
      );
      const bytesBefore = await rig.mailboxes.storedBytes();
      const queuedBefore = await rig.mailboxes.totalQueued();

      const outcome = await rig.devices.publish(account, update(2, [keep]), 20);
      expect(outcome).toEqual({ ok: true, removed: [gone.id] });
      expect(await rig.mailboxes.count(goneBox)).toBe(0);
      expect(await rig.mailboxes.pending(goneBox, 0, 10)).toEqual([]);
      expect(await rig.mailboxes.count(keepBox)).toBe(1);
      expect(await rig.mailboxes.storedBytes()).toBe(bytesBefore - 600);
      expect(await rig.mailboxes.totalQueued()).toBe(queuedBefore - 3);
      expect(await rig.prekeys.counts(goneBox)).toBeUndefined();
      expect(await rig.devices.isClosed(goneBox)).toBe(true);
      expect(await rig.devices.isClosed(keepBox)).toBe(false);
      expect(await rig.devices.deviceKey(account, gone.id)).toBeUndefined();
      expect(await rig.devices.deviceKey(account, keep.id)).toEqual(keep.key);
      // A later list removes nothing more; the device stays closed.
      expect(await rig.devices.publish(account, update(3, [keep, entry()]), 30)).toEqual({ ok: true, removed: [] });
      expect(await rig.devices.isClosed(goneBox)).toBe(true);
    });
    it('the group commit itself refuses deposits to a closed mailbox (device_unlinked), in a batch beside deposits that are stored', async () => {
      const account = rnd(32);
      const [keep, gone] = [entry(), entry()];
      const keepBox = deviceMailboxAddress(account, keep.id);
      const goneBox = deviceMailboxAddress(account, gone.id);
      await rig.devices.publish(account, update(1, [keep, gone]), 1);
      await rig.devices.publish(account, update(2, [keep]), 2);
      const queuedBefore = await rig.mailboxes.totalQueued();
      const outcomes = await rig.mailboxes.depositBatch([env(goneBox), env(keepBox), env(goneBox)], 10);
      expect(outcomes[0]).toEqual({ ok: false, reason: 'device_unlinked' });
      expect(outcomes[1]).toMatchObject({ ok: true, duplicate: false });
      expect(outcomes[2]).toEqual({ ok: false, reason: 'device_unlinked' });
      expect(await rig.mailboxes.count(goneBox)).toBe(0);
      expect(await rig.mailboxes.totalQueued()).toBe(queuedBefore + 1);
    });

    it('the group commit itself refuses a deposit fanned out under an older list (stale_devices, with the stored version), beside current ones', async () => {
      const account = rnd(32);
      const [one, two] = [entry(), entry()];
      const box = deviceMailboxAddress(account, one.id);
      await rig.devices.publish(account, update(1, [one]), 1);
      await rig.devices.publish(account, update(2, [one, two]), 2);
      const queuedBefore = await rig.mailboxes.totalQueued();
      const envs = [env(box), env(box), env(box), env(rnd(32))];
      const { deposits } = await rig.mailboxes.commit({ deposits: envs, lists: [{ ik: account, v: 1 }, { ik: account, v: 2 }, undefined, { ik: rnd(32), v: 0 }], acks: [] }, 10);
      expect(deposits[0]).toEqual({ ok: false, reason: 'stale_devices', version: 2 });
      expect(deposits[1]).toMatchObject({ ok: true, duplicate: false });
      expect(deposits[2]).toMatchObject({ ok: true, duplicate: false });
      // An account with no list: version 0 is current.
      expect(deposits[3]).toMatchObject({ ok: true, duplicate: false });
      expect(await rig.mailboxes.count(box)).toBe(2);
      expect(await rig.mailboxes.totalQueued()).toBe(queuedBefore + 3);
    });

    it('deposits racing a publish of a newer list are each stored before it or refused stale_devices after it', async () => {
      for (let round = 0; round < 5; round++) {
        const account = rnd(32);
        const [one, two] = [entry(), entry()];
        const box = deviceMailboxAddress(account, one.id);
        await rig.devices.publish(account, update(1, [one]), 1);
        const deposits = Array.from({ length: 8 }, () => rig.mailboxes.commit({ deposits: [env(box)], lists: [{ ik: account, v: 1 }], acks: [] }, 5));
        const publish = rig.devices.publish(account, update(2, [one, two]), 6);
        const [published, ...results] = await Promise.all([publish, ...deposits]);
        expect(published).toEqual({ ok: true, removed: [] });
        const outcomes = results.map((r) => r.deposits[0]!);
        for (const o of outcomes) expect(o.ok === true || (o.ok === false && o.reason === 'stale_devices' && o.version === 2)).toBe(true);
        expect(await rig.mailboxes.count(box)).toBe(outcomes.filter((o) => o.ok).length);
        // Once the list is stored, a deposit under version 1 is refused.
        const after = await rig.mailboxes.commit({ deposits: [env(box)], lists: [{ ik: account, v: 1 }], acks: [] }, 7);
        expect(after.deposits[0]).toEqual({ ok: false, reason: 'stale_devices', version: 2 });
      }
    });

    it('deposits racing an unlink, to a mailbox never deposited to before, leave nothing in the closed mailbox', async () => {
      for (let round = 0; round < 5; round++) {
        const account = rnd(32);
        const [keep, gone] = [entry(), entry()];
        const goneBox = deviceMailboxAddress(account, gone.id);
        await rig.devices.publish(account, update(1, [keep, gone]), 1);
        const deposits = Array.from({ length: 8 }, () => rig.mailboxes.depositBatch([env(goneBox)], 5));
        const unlink = rig.devices.publish(account, update(2, [keep]), 6);
        const [outcome, ...stored] = await Promise.all([unlink, ...deposits]);
        expect(outcome).toEqual({ ok: true, removed: [gone.id] });
        // Each deposit either committed before the unlink (and was removed by it) or was refused after.
        for (const [o] of stored) expect(o!.ok === true || (o!.ok === false && o!.reason === 'device_unlinked')).toBe(true);
        expect(await rig.mailboxes.count(goneBox)).toBe(0);
        expect(await rig.mailboxes.pending(goneBox, 0, 10)).toEqual([]);
      }
    });
  });
}
