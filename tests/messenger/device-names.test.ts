/**
 * Device names in the messenger (issue 16): renamed on the device itself, the account's
 * signed list carries the name as its next version; the account's other device lists it,
 * and a contact's chat names the device (a message's Details) without any warning.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { InvalidDeviceNameError } from '../../src/core/devices/device-name.ts';
import { adaOnTwoDevices } from './ada-on-two-devices.ts';
import { expectEventually, testWorld, until } from './harness.ts';

const world = testWorld();

describe('device names', () => {
  it('a device renamed on itself: a new list version; its sibling and a contact show the name; a bad name changes nothing', { timeout: 60_000 }, async () => {
    const { ada1, ada2, bo, bSeesA, one, two } = await adaOnTwoDevices(world);
    await bo.messenger.openChat(bSeesA);
    await until(bo, (s) => (s.chat?.devices?.length ?? 0) === 2);
    // Unnamed in the list: shown by place.
    expect(bo.messenger.getState().chat!.devices!.map((d) => d.name)).toEqual(['Device 1', 'Device 2']);
    const before = bo.metrics.counter('devices.list_accepted');
    const addedBefore = bo.metrics.counter('devices.contact_device_added');

    await expect(ada2.messenger.renameThisDevice('   ')).rejects.toBeInstanceOf(InvalidDeviceNameError);
    await ada2.messenger.renameThisDevice('  Work laptop ');
    const own = await ada2.messenger.listDevices();
    expect(own.find((d) => d.thisDevice)).toMatchObject({ id: toHex(two.id), name: 'Work laptop' });
    // Ada's first device hears of her new list and lists the name too.
    await expectEventually(async () => (await ada1.messenger.listDevices()).some((d) => d.id === toHex(two.id) && d.name === 'Work laptop'));
    // Bo's chat with Ada names the device; no warning, no new device line.
    await until(bo, (s) => s.chat?.devices?.some((d) => d.id === toHex(two.id) && d.name === 'Work laptop') === true, 15_000);
    expect(bo.messenger.getState().chat!.devices!.find((d) => d.id === toHex(one.id))!.name).toBe('Device 1');
    expect(bo.metrics.counter('devices.list_accepted')).toBeGreaterThan(before);
    expect(bo.metrics.counter('devices.contact_device_added')).toBe(addedBefore);
    expect(bo.messenger.getState().contacts.find((c) => c.id === bSeesA)).toMatchObject({ keyChanged: false });
    // The same name again publishes nothing new.
    const accepted = bo.metrics.counter('devices.list_accepted');
    await ada2.messenger.renameThisDevice('Work laptop');
    expect(ada2.metrics.counter('devices.renamed')).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(bo.metrics.counter('devices.list_accepted')).toBe(accepted);
  });
});
