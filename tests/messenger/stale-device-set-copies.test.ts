/**
 * The copies without a message row of their own, sent to a stale device set (issue 16,
 * PROTOCOL.md §13.5 "A send to a stale device set"): an edit to a contact's devices, and a
 * sent transcript to our own other devices, carry the version of the list they were
 * fanned out under; the relay refuses them once the account has a newer list and the
 * sender covers the device that list added, each device once. Ada links a third device
 * that the sender (Bo, or her own first device) has not heard of yet.
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '../../src/core/bytes.ts';
import type { Identity } from '../../src/core/crypto/index.ts';
import { createPreKeyPool, serializePreKeyPool } from '../../src/core/crypto/index.ts';
import { encodeOwnDevice, ownDeviceEntry, type OwnDevice } from '../../src/core/devices/own-device.ts';
import { META_DEVICE_LIST_PREFIX } from '../../src/core/messenger/device-list-book.ts';
import { META_OWN_DEVICE } from '../../src/core/messenger/own-device-store.ts';
import { secureRandom } from '../../src/core/random.ts';
import { createMemoryStore, type PetrelStore } from '../../src/core/store/index.ts';
import { sessionKey } from '../../src/core/store/session-key.ts';
import { adaOnTwoDevices } from './ada-on-two-devices.ts';
import { device, introduce, linkNewDevice, onboard, testWorld, texts, until, type Device } from './harness.ts';
import { extraDevice, publishDeviceList } from './linked-device.ts';

const world = testWorld();
const { track } = world;

async function eventually(check: () => Promise<boolean>, timeout = 15_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Ada's account gets a third device (list version 2), a running core of its own that knows Bo. */
async function adaLinksAThird(url: string, identity: Identity, one: OwnDevice, two: OwnDevice, contacts: PetrelStore, aSeesB: string): Promise<Device & { readonly three: OwnDevice }> {
  const store3 = createMemoryStore({ now: () => Date.now() });
  const pool = createPreKeyPool(identity, secureRandom, 4);
  await store3.saveIdentity({ id: 'self', seed: identity.exportSeed(), displayName: 'Ada', createdAt: Date.now(), preKeyPool: serializePreKeyPool(pool), nextPreKeyId: pool.data.nextId });
  const three = extraDevice(identity);
  await store3.setMeta(META_OWN_DEVICE, encodeOwnDevice(three));
  await store3.putContact((await contacts.getContact(aSeesB))!);
  const signed = await publishDeviceList(url, identity, 2, [ownDeviceEntry(one), ownDeviceEntry(two), ownDeviceEntry(three)]);
  await store3.setMeta(META_DEVICE_LIST_PREFIX + toHex(identity.publicKey), concatBytes(signed.body, signed.sig));
  const ada3 = track(device(url, store3));
  await ada3.messenger.start();
  await until(ada3, (s) => s.connection.kind === 'online');
  await eventually(async () => (await ada3.store.getMeta('prekeys.publishedThroughId')) !== undefined);
  return Object.assign(ada3, { three });
}

async function byBody(store: PetrelStore, contactId: string, body: string) {
  return (await store.pageMessages(contactId, { limit: 50 })).messages.filter((m) => m.body === body);
}

describe('copies without a message row, sent to a stale device set', () => {
  it("Bo's edit composed under Ada's list version 1 reaches the device her version 2 added, once", async () => {
    const { r, ada1, ada2, bo, aSeesB, bSeesA, identity, one, two } = await adaOnTwoDevices(world);
    // Bo, offline, writes and then corrects it: both fanned out to the two devices of version 1.
    await bo.stop();
    const offline = track(device('ws://127.0.0.1:9/', bo.store));
    await offline.messenger.start();
    await offline.messenger.send(bSeesA, 'teh typo');
    const typo = (await byBody(bo.store, bSeesA, 'teh typo'))[0]!;
    await offline.messenger.editMessage(typo.id, 'the typo');
    await offline.stop();
    const ada3 = await adaLinksAThird(r.url, identity, one, two, ada1.store, aSeesB);
    const bo2 = track(device(r.url, bo.store));
    await bo2.messenger.start();
    for (const d of [ada1, ada2, ada3]) await eventually(async () => (await d.store.getMessage(typo.id))?.body === 'the typo');
    await eventually(async () => (await bo2.store.queueDepth()) === 0);
    for (const d of [ada1, ada2, ada3]) {
      const rows = await byBody(d.store, aSeesB, 'the typo');
      expect(rows).toHaveLength(1);
      // The original as Bo wrote it (not the row's text after his edit), then the edit, once.
      expect(rows[0]!.versions?.map((v) => v.text)).toEqual(['teh typo', 'the typo']);
    }
    expect(bo2.metrics.counter('devices.stale_copies_covered{kind="action"}')).toBe(1);
    expect(bo2.metrics.counter('devices.stale_devices_covered')).toBe(1);
  });

  it("Bo's edit composed before he learned of Ada's first link reaches both of her devices (not her account mailbox, which no one reads now), once", async () => {
    const r = await world.relay();
    const ada = track(device(r.url));
    let bo = track(device(r.url));
    await onboard(ada, 'Ada');
    await onboard(bo, 'Bo');
    const { aSeesB, bSeesA } = await introduce(ada, bo);
    await bo.messenger.send(bSeesA, 'teh typo');
    await until(ada, (s) => s.contacts[0]?.unread === 1);
    const typo = (await byBody(bo.store, bSeesA, 'teh typo'))[0]!;
    // Bo goes away; Ada links a second device (her account's first list): the link hands it the message.
    await bo.stop();
    const ada2 = await linkNewDevice(ada, r.url, track);
    await eventually(async () => (await byBody(ada2.store, aSeesB, 'teh typo')).length === 1);
    // Bo corrects it while still offline: one copy, to Ada's account mailbox (version 0).
    const offline = track(device('ws://127.0.0.1:9/', bo.store));
    await offline.messenger.start();
    await offline.messenger.editMessage(typo.id, 'the typo');
    await offline.stop();
    bo = track(device(r.url, bo.store));
    await bo.messenger.start();
    for (const d of [ada, ada2]) await eventually(async () => (await d.store.getMessage(typo.id))?.body === 'the typo');
    await eventually(async () => (await bo.store.queueDepth()) === 0);
    for (const d of [ada, ada2]) expect((await d.store.getMessage(typo.id))?.versions?.map((v) => v.text)).toEqual(['teh typo', 'the typo']);
    expect(bo.metrics.counter('devices.stale_copies_covered{kind="action"}')).toBe(2);
  });

  it("a sent transcript composed under Ada's own list version 1 reaches the device her version 2 added, once", async () => {
    const { r, ada1, ada2, bo, aSeesB, bSeesA, identity, one, two } = await adaOnTwoDevices(world);
    // Ada's first device, offline, writes to Bo: a copy to Bo, a transcript to her second device (version 1).
    await ada1.stop();
    const offline = track(device('ws://127.0.0.1:9/', ada1.store));
    await offline.messenger.start();
    await offline.messenger.send(aSeesB, 'from my first device');
    await offline.stop();
    const ada3 = await adaLinksAThird(r.url, identity, one, two, ada1.store, aSeesB);
    const ada1b = track(device(r.url, ada1.store));
    await ada1b.messenger.start();
    await eventually(async () => (await texts(bo, bSeesA)).includes('in:from my first device'));
    for (const d of [ada2, ada3]) await eventually(async () => (await texts(d, aSeesB)).includes('out:from my first device'));
    await eventually(async () => (await ada1b.store.queueDepth()) === 0);
    expect((await texts(bo, bSeesA)).filter((t) => t === 'in:from my first device')).toHaveLength(1);
    for (const d of [ada2, ada3]) expect((await texts(d, aSeesB)).filter((t) => t === 'out:from my first device')).toHaveLength(1);
    expect(ada1b.metrics.counter('devices.stale_copies_covered{kind="own_copy"}')).toBe(1);
  });

  it("Bo's read receipt is not covered: it goes to the device he has a session with, and starts none with the device he did not know", async () => {
    const { r, ada1, bo, aSeesB, bSeesA, identity, one, two } = await adaOnTwoDevices(world);
    await ada1.messenger.send(aSeesB, 'read me');
    await until(bo, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 1);
    const mine = (await byBody(ada1.store, aSeesB, 'read me'))[0]!;
    // Bo goes away; Ada links a third device; Bo reads while still offline (receipts for the two devices he knows).
    await bo.stop();
    const ada3 = await adaLinksAThird(r.url, identity, one, two, ada1.store, aSeesB);
    const offline = track(device('ws://127.0.0.1:9/', bo.store));
    await offline.messenger.start();
    await offline.messenger.markRead(bSeesA);
    await offline.stop();
    const bo2 = track(device(r.url, bo.store));
    await bo2.messenger.start();
    await eventually(async () => (await ada1.store.getMessage(mine.id))?.status === 'read');
    await eventually(async () => (await bo2.store.queueDepth()) === 0);
    // Deposited without a list version: no stale refusal, no cover, no session with the third device for it.
    expect(bo2.metrics.counter('devices.send_stale')).toBe(0);
    expect(await bo2.store.getSession(sessionKey(bSeesA, toHex(ada3.three.id)))).toBeUndefined();
  });
});
