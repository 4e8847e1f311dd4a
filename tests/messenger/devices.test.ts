/**
 * The messenger and linked devices (issue 16): every core has its own device record (made
 * once, also for an account from before devices), and follows its contacts' signed device
 * lists: when the relay says a contact's list changed, the core fetches and judges it; a
 * device added under the known identity is taken silently, with no key-change warning.
 * Fan-out itself: tests/messenger/fan-out.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { generateIdentity } from '../../src/core/crypto/identity.ts';
import { createPreKeyPool, serializePreKeyPool } from '../../src/core/crypto/index.ts';
import { encodeOwnDevice, ownDeviceEntry } from '../../src/core/devices/own-device.ts';
import { META_DEVICE_LIST_PREFIX } from '../../src/core/messenger/device-list-book.ts';
import { META_OWN_DEVICE } from '../../src/core/messenger/own-device-store.ts';
import { secureRandom } from '../../src/core/random.ts';
import { createMemoryStore } from '../../src/core/store/index.ts';
import { device, introduce, onboard, testWorld, texts, until, type Device } from './harness.ts';
import { extraDevice, publishDeviceList, storedAccount } from './linked-device.ts';

const { relay, track } = testWorld();

const counter = (d: Device, name: string) => d.metrics.counter(name);
/** A counter summed over all its labels. */
const total = (d: Device, name: string) =>
  Object.entries(d.metrics.snapshot().counters)
    .filter(([k]) => k === name || k.startsWith(`${name}{`))
    .reduce((n, [, v]) => n + v, 0);

describe('devices in the messenger', () => {
  it('a core keeps one device record across reloads; a damaged one is refused, counted and replaced', async () => {
    const r = await relay();
    let ada = track(device(r.url));
    await onboard(ada, 'Ada');
    const first = await storedAccount(ada.store);
    ada = track(await ada.reload());
    expect((await storedAccount(ada.store)).device.id).toEqual(first.device.id);
    // A row that is not this account's device (another identity certified it) is never used.
    const other = extraDevice(generateIdentity(secureRandom));
    await ada.store.setMeta(META_OWN_DEVICE, encodeOwnDevice(other));
    ada = track(await ada.reload());
    await until(ada, (s) => s.phase === 'ready');
    expect(counter(ada, 'devices.own_record_refused')).toBe(1);
    const replaced = await storedAccount(ada.store);
    expect(replaced.device.id).not.toEqual(first.device.id);
    expect(replaced.device.id).not.toEqual(other.id);
  });

  it('an account from before devices gets its device record at start and messages as before', async () => {
    const r = await relay();
    const store = createMemoryStore({ now: () => Date.now() });
    const identity = generateIdentity(secureRandom);
    const pool = createPreKeyPool(identity, secureRandom, 4);
    await store.saveIdentity({ id: 'self', seed: identity.exportSeed(), displayName: 'Old Ada', createdAt: Date.now(), preKeyPool: serializePreKeyPool(pool), nextPreKeyId: pool.data.nextId });
    expect(await store.getMeta(META_OWN_DEVICE)).toBeUndefined();
    const ada = track(device(r.url, store));
    await ada.messenger.start();
    await until(ada, (s) => s.connection.kind === 'online');
    expect((await storedAccount(store)).identity.publicKey).toEqual(identity.publicKey);
    const bo = track(device(r.url));
    await onboard(bo, 'Bo');
    const { aSeesB, bSeesA } = await introduce(ada, bo);
    await bo.messenger.send(bSeesA, 'still there?');
    await until(ada, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    expect(await texts(ada, aSeesB)).toEqual(['in:still there?']);
  });

  it("Bo follows Ada's device list when the relay tells him: a new device of hers is taken silently, no key-change warning, and they go on talking", async () => {
    const r = await relay();
    const ada = track(device(r.url));
    // Copies for a device without keys wait for them a moment (a device just linked publishes them after its transfer), here 300 ms.
    const bo = track(device(r.url, undefined, { unpublishedDeviceWaitMs: 300 }));
    await onboard(ada, 'Ada');
    await onboard(bo, 'Bo');
    const { aSeesB, bSeesA } = await introduce(ada, bo);
    await ada.messenger.send(aSeesB, 'hi Bo');
    await until(bo, (s) => s.contacts[0]?.unread === 1);
    const { identity, device: one } = await storedAccount(ada.store);
    const listKey = META_DEVICE_LIST_PREFIX + toHex(identity.publicKey);
    expect(await bo.store.getMeta(listKey)).toBeUndefined();

    // Ada's first list (this device and one more), issued after Bo added her: Bo hears
    // devices.changed and holds it; the single-device account Bo knew added one device.
    const two = extraDevice(identity);
    await publishDeviceList(r.url, identity, 1, [ownDeviceEntry(one), ownDeviceEntry(two)]);
    await until(bo, () => counter(bo, 'devices.list_accepted') === 1);
    expect(await bo.store.getMeta(listKey)).toBeInstanceOf(Uint8Array);
    await until(bo, () => counter(bo, 'devices.contact_device_added') === 1);

    // A third device under the same identity: one device added, silently.
    const three = extraDevice(identity);
    await publishDeviceList(r.url, identity, 2, [ownDeviceEntry(one), ownDeviceEntry(two), ownDeviceEntry(three)]);
    await until(bo, () => counter(bo, 'devices.contact_device_added') === 2);
    expect(bo.logs.recent().some((l) => l.msg === 'contact added a device')).toBe(true);
    const adaAtBo = bo.messenger.getState().contacts.find((c) => c.id === bSeesA)!;
    expect(adaAtBo).toMatchObject({ keyChanged: false, displayName: 'Ada' });
    expect(total(bo, 'devices.refused')).toBe(0);

    // Ada's core, named by its account's list, started again as its device; Bo writes to
    // each of Ada's devices: her running one gets it, the two that never published keys
    // get no copy (waited for, then dropped, counted), and the message does not fail.
    await bo.messenger.send(bSeesA, 'saw your new laptop');
    await until(ada, (s) => s.contacts[0]?.unread === 1);
    // Each change is a line in Bo's chat ("Ada added a device"), not a warning.
    expect(await texts(bo, bSeesA)).toEqual(['in:hi Bo', 'in:Ada added a device', 'in:Ada added a device', 'out:saw your new laptop']);
    await until(bo, () => counter(bo, 'devices.copy_dropped{reason="not_found"}') === 2);
    expect(counter(bo, 'devices.copy_waiting_keys')).toBeGreaterThanOrEqual(2);
    expect((await bo.store.pageMessages(bSeesA, { limit: 10 })).messages.at(-1)?.status).not.toBe('failed');
  });
});
