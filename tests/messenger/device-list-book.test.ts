/**
 * The device lists a device believes: a contact's list signed by its known identity is
 * taken (and what it added is reported), the same list again is `unchanged`, and an
 * unsigned, foreign, stale or oversized list is refused, counted and changes nothing —
 * also after a restart over the same store.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/core/store/index.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { silentLogger } from '../../src/core/log.ts';
import { seededRandom } from '../../src/core/random.ts';
import { signDeviceList } from '../../src/core/devices/device-list.ts';
import { createOwnDevice, ownDeviceEntry } from '../../src/core/devices/own-device.ts';
import { DeviceListSignatureError, ForeignDeviceListError, StaleDeviceListError, TooManyDevicesError } from '../../src/core/devices/errors.ts';
import { DeviceListBook } from '../../src/core/messenger/device-list-book.ts';
import { deviceListSignaturePayload, deviceMailboxAddress, encodeDeviceListBody, mailboxAddress } from '../../src/core/wire/index.ts';
import { device, devices, identity } from '../devices/fixtures.ts';

function book(store = createMemoryStore({ now: () => 0 })) {
  const metrics = new InMemoryMetrics();
  return { store, metrics, book: new DeviceListBook(store, metrics, silentLogger) };
}
const refused = (m: InMemoryMetrics, kind: string) => m.counter('devices.refused', { kind });

describe('DeviceListBook', () => {
  const ada = identity(1);

  it('takes a list signed by the known identity, reports added and removed devices, keeps it across a restart', async () => {
    const { store, book: b } = book();
    const v1 = signDeviceList(ada, { version: 1, issuedAt: 1, devices: [device(1)] });
    const first = await b.accept(ada.publicKey, v1);
    expect(first).toMatchObject({ kind: 'changed', first: true, added: [device(1)], removed: [] });
    expect(await b.accept(ada.publicKey, v1)).toMatchObject({ kind: 'unchanged' });
    const v2 = signDeviceList(ada, { version: 2, issuedAt: 2, devices: [device(2), device(3)] });
    expect(await b.accept(ada.publicKey, v2)).toMatchObject({ kind: 'changed', first: false, added: [device(2), device(3)], removed: [device(1)] });
    const again = new DeviceListBook(store, new InMemoryMetrics(), silentLogger);
    expect((await again.get(ada.publicKey))?.version).toBe(2);
    // The older list, replayed to the restarted device, is stale.
    await expect(again.accept(ada.publicKey, v1)).rejects.toBeInstanceOf(StaleDeviceListError);
  });

  it('refuses and counts an unsigned, foreign, stale or oversized list, and changes nothing', async () => {
    const { metrics, book: b } = book();
    const mallory = identity(9);
    await b.accept(ada.publicKey, signDeviceList(ada, { version: 3, issuedAt: 3, devices: [device(1)] }));
    // Signed by someone else, naming Ada.
    const body = encodeDeviceListBody({ account: ada.publicKey, version: 4, issuedAt: 4, devices: [device(1), device(5)] });
    await expect(b.accept(ada.publicKey, { body, sig: mallory.sign(deviceListSignaturePayload(body)) })).rejects.toBeInstanceOf(DeviceListSignatureError);
    // Not signed at all.
    await expect(b.accept(ada.publicKey, { body, sig: new Uint8Array(64) })).rejects.toBeInstanceOf(DeviceListSignatureError);
    // Mallory's own (valid) list offered as Ada's.
    await expect(b.accept(ada.publicKey, signDeviceList(mallory, { version: 9, issuedAt: 9, devices: [device(5)] }))).rejects.toBeInstanceOf(ForeignDeviceListError);
    // Stale: the same version with other devices, and a lower one.
    await expect(b.accept(ada.publicKey, signDeviceList(ada, { version: 3, issuedAt: 5, devices: [device(2)] }))).rejects.toBeInstanceOf(StaleDeviceListError);
    await expect(b.accept(ada.publicKey, signDeviceList(ada, { version: 2, issuedAt: 5, devices: [device(2)] }))).rejects.toBeInstanceOf(StaleDeviceListError);
    // Eleven devices, signed by Ada's identity (signDeviceList refuses to make it; sign the body directly).
    const eleven = encodeDeviceListBody({ account: ada.publicKey, version: 5, issuedAt: 5, devices: devices(11) });
    await expect(b.accept(ada.publicKey, { body: eleven, sig: ada.sign(deviceListSignaturePayload(eleven)) })).rejects.toBeInstanceOf(TooManyDevicesError);
    expect(refused(metrics, 'bad_signature')).toBe(2);
    expect(refused(metrics, 'foreign_account')).toBe(1);
    expect(refused(metrics, 'stale')).toBe(2);
    expect(refused(metrics, 'too_many_devices')).toBe(1);
    const held = await b.get(ada.publicKey);
    expect(held?.version).toBe(3);
    expect(held?.devices).toEqual([device(1)]);
  });

  it('fan-out targets: every device of the contact and our other devices, never this one; single-device accounts on their account mailbox', async () => {
    const { book: b } = book();
    const bo = identity(2);
    const random = seededRandom(3);
    const mine = [createOwnDevice(ada, random), createOwnDevice(ada, random)];
    // Nobody has a list: one copy, to Bo's account mailbox.
    expect(await b.targets({ account: ada.publicKey, device: mine[0]! }, bo.publicKey)).toEqual([{ account: bo.publicKey, mailbox: mailboxAddress(bo.publicKey), own: false }]);
    await b.accept(ada.publicKey, signDeviceList(ada, { version: 1, issuedAt: 1, devices: mine.map(ownDeviceEntry) }));
    await b.accept(bo.publicKey, signDeviceList(bo, { version: 1, issuedAt: 1, devices: [device(7), device(8)] }));
    const targets = await b.targets({ account: ada.publicKey, device: mine[0]! }, bo.publicKey);
    expect(targets.map((t) => [t.own, t.mailbox])).toEqual([
      [false, deviceMailboxAddress(bo.publicKey, device(7).id)],
      [false, deviceMailboxAddress(bo.publicKey, device(8).id)],
      [true, mine[1]!.mailbox],
    ]);
    // A device the own list does not name (not linked yet) sends as the single-device account it still is.
    const unlisted = createOwnDevice(ada, random);
    const fromUnlisted = await b.targets({ account: ada.publicKey, device: unlisted }, bo.publicKey);
    expect(fromUnlisted.every((t) => !t.own)).toBe(true);
    expect(fromUnlisted).toHaveLength(2);
  });
});
