/**
 * A contact's message composed before it learned of a new device of ours still reaches
 * that device (issue 16, PROTOCOL.md §13.5 "A send to a stale device set"): the relay
 * refuses a copy fanned out under an older device list with `stale_devices` and the
 * current list; the sender covers the new devices and sends again, each device once.
 * Both transitions: a single-device account's first link (the copy went to its account
 * mailbox), and a list that grows from version 1 to 2 (copies stamped with version 1).
 */
import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '../../src/core/bytes.ts';
import { createPreKeyPool, serializePreKeyPool } from '../../src/core/crypto/index.ts';
import { encodeOwnDevice, ownDeviceEntry } from '../../src/core/devices/own-device.ts';
import { META_DEVICE_LIST_PREFIX } from '../../src/core/messenger/device-list-book.ts';
import { META_OWN_DEVICE } from '../../src/core/messenger/own-device-store.ts';
import { secureRandom } from '../../src/core/random.ts';
import { createMemoryStore } from '../../src/core/store/index.ts';
import { adaOnTwoDevices } from './ada-on-two-devices.ts';
import { device, introduce, linkNewDevice, onboard, testWorld, texts, until } from './harness.ts';
import { extraDevice, publishDeviceList } from './linked-device.ts';

const world = testWorld();
const { relay, track } = world;

async function eventually(check: () => Promise<boolean>, timeout = 15_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('a contact who has not heard of the new device yet (the relay refuses a stale device set)', () => {
  it("Bo's message written before he learned of Ada's link reaches both of her devices, each once", async () => {
    const r = await relay();
    const ada = track(device(r.url));
    let bo = track(device(r.url));
    await onboard(ada, 'Ada');
    await onboard(bo, 'Bo');
    const { aSeesB, bSeesA } = await introduce(ada, bo);
    await bo.messenger.send(bSeesA, 'before');
    await until(ada, (s) => s.contacts[0]?.unread === 1);
    // Bo goes away; meanwhile Ada links a second device (her account gets its first list).
    await bo.stop();
    const ada2 = await linkNewDevice(ada, r.url, track);
    // Bo writes while still offline (a relay nobody listens on): composed for Ada's one account mailbox.
    const offline = track(device('ws://127.0.0.1:9/', bo.store));
    await offline.messenger.start();
    await offline.messenger.send(bSeesA, 'written before I knew');
    await offline.stop();
    bo = track(device(r.url, bo.store));
    await bo.messenger.start();
    // The relay refused the stale copy with Ada's list; Bo covered both of her devices.
    await eventually(async () => (await texts(ada2, aSeesB)).includes('in:written before I knew'));
    await eventually(async () => (await texts(ada, aSeesB)).includes('in:written before I knew'));
    await eventually(async () => (await bo.store.queueDepth()) === 0);
    expect(bo.metrics.counter('devices.send_stale')).toBeGreaterThanOrEqual(1);
    expect(bo.metrics.counter('devices.stale_devices_covered')).toBe(2);
    for (const d of [ada, ada2]) expect((await texts(d, aSeesB)).filter((t) => t === 'in:written before I knew')).toHaveLength(1);
    const sent = (await bo.store.pageMessages(bSeesA, { limit: 10 })).messages.find((m) => m.body === 'written before I knew');
    expect(sent?.status).not.toBe('failed');
  });
});

describe('a contact composing under an older list of a multi-device account', () => {
  it("Bo's message composed under Ada's list version 1 reaches the device her version 2 added, and each other device once", async () => {
    const { r, ada1, ada2, bo, aSeesB, bSeesA, identity, one, two } = await adaOnTwoDevices(world);
    await bo.messenger.send(bSeesA, 'to both');
    await until(ada2, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    // Both copies of it have left (the one to the first device too: stopped before it went, it
    // would be refused later under version 2 and rightly covered for the third device as well).
    await eventually(async () => (await bo.store.queueDepth()) === 0);
    // Bo goes offline and writes: composed for the two devices of version 1.
    await bo.stop();
    const offline = track(device('ws://127.0.0.1:9/', bo.store));
    await offline.messenger.start();
    await offline.messenger.send(bSeesA, 'composed under version 1');
    await offline.stop();
    // Meanwhile Ada's account gets a third device (version 2), a running core of its own.
    const store3 = createMemoryStore({ now: () => Date.now() });
    const pool = createPreKeyPool(identity, secureRandom, 4);
    await store3.saveIdentity({ id: 'self', seed: identity.exportSeed(), displayName: 'Ada', createdAt: Date.now(), preKeyPool: serializePreKeyPool(pool), nextPreKeyId: pool.data.nextId });
    const three = extraDevice(identity);
    await store3.setMeta(META_OWN_DEVICE, encodeOwnDevice(three));
    await store3.putContact((await ada1.store.getContact(aSeesB))!);
    const signed = await publishDeviceList(r.url, identity, 2, [ownDeviceEntry(one), ownDeviceEntry(two), ownDeviceEntry(three)]);
    await store3.setMeta(META_DEVICE_LIST_PREFIX + toHex(identity.publicKey), concatBytes(signed.body, signed.sig));
    const ada3 = track(device(r.url, store3));
    await ada3.messenger.start();
    await until(ada3, (s) => s.connection.kind === 'online');
    await eventually(async () => (await ada3.store.getMeta('prekeys.publishedThroughId')) !== undefined);
    const bo2 = track(device(r.url, bo.store));
    await bo2.messenger.start();
    for (const d of [ada1, ada2, ada3]) await eventually(async () => (await texts(d, aSeesB)).includes('in:composed under version 1'));
    await eventually(async () => (await bo2.store.queueDepth()) === 0);
    for (const d of [ada1, ada2, ada3]) expect((await texts(d, aSeesB)).filter((t) => t === 'in:composed under version 1')).toHaveLength(1);
    expect(bo2.metrics.counter('devices.send_stale')).toBeGreaterThanOrEqual(1);
    expect(bo2.metrics.counter('devices.stale_devices_covered')).toBe(1);
  });
});
