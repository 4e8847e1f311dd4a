/**
 * "Ada added a device" (issue 16, docs/PROTOCOL.md §13.5): when a contact's signed list
 * gains a device, a line about it goes into that chat, never a warning; one it loses,
 * "Ada removed a device". Through the view (`system: true`, direction 'in', status 'read',
 * not unread). A contact whose devices predate our adding it gets no line. Real relay.
 */
import { describe, expect, it } from 'vitest';
import { ownDeviceEntry } from '../../src/core/devices/own-device.ts';
import { deviceChangeText } from '../../src/core/messenger/device-change-lines.ts';
import { device, introduce, onboard, testWorld, until } from './harness.ts';
import { extraDevice, publishDeviceList, storedAccount } from './linked-device.ts';

const { relay, track } = testWorld();

describe('device change lines', () => {
  it("says it in words: the contact's name, added or removed, how many", () => {
    expect(deviceChangeText('Ada', 'added', 1)).toBe('Ada added a device');
    expect(deviceChangeText('Ada', 'removed', 2)).toBe('Ada removed 2 devices');
    expect(deviceChangeText('  ', 'added', 1)).toBe('This contact added a device');
  });

  it("Bo's chat with Ada shows a line when Ada links a device and when she unlinks it; no key change", async () => {
    const r = await relay();
    const ada = track(device(r.url));
    const bo = track(device(r.url));
    await onboard(ada, 'Ada');
    await onboard(bo, 'Bo');
    const { bSeesA } = await introduce(ada, bo);
    await until(bo, (s) => s.connection.kind === 'online');
    await bo.messenger.openChat(bSeesA);
    const { identity, device: one } = await storedAccount(ada.store);
    const two = extraDevice(identity);
    const lines = (s: ReturnType<typeof bo.messenger.getState>) => (s.chat?.messages ?? []).filter((m) => m.system).map((m) => m.text);

    await publishDeviceList(r.url, identity, 1, [ownDeviceEntry(one), ownDeviceEntry(two)]);
    let state = await until(bo, (s) => lines(s).length === 1);
    expect(lines(state)).toEqual(['Ada added a device']);
    expect(state.chat!.messages.find((m) => m.system)).toMatchObject({ direction: 'in', status: 'read' });
    expect(state.contacts.find((c) => c.id === bSeesA)).toMatchObject({ keyChanged: false, unread: 0 });

    await publishDeviceList(r.url, identity, 2, [ownDeviceEntry(one)]);
    state = await until(bo, (s) => lines(s).length === 2);
    expect(lines(state)).toEqual(['Ada added a device', 'Ada removed a device']);
    expect(state.contacts.find((c) => c.id === bSeesA)).toMatchObject({ keyChanged: false, unread: 0 });
  });

  it('no line for devices a contact had before we added it', async () => {
    const r = await relay();
    const ada = track(device(r.url));
    const cy = track(device(r.url));
    await onboard(ada, 'Ada');
    await onboard(cy, 'Cy');
    const { identity, device: one } = await storedAccount(ada.store);
    await publishDeviceList(r.url, identity, 1, [ownDeviceEntry(one), ownDeviceEntry(extraDevice(identity))]);
    const accepted = cy.metrics.counter('devices.list_accepted');
    const cySeesA = await cy.messenger.addContact(cy.messenger.parseInvite(ada.messenger.getState().me!.inviteUrl)!);
    await until(cy, () => cy.metrics.counter('devices.list_accepted') > accepted);
    expect((await cy.store.pageMessages(cySeesA, { limit: 10 })).messages.filter((m) => m.system)).toEqual([]);
    expect(cy.metrics.counter('devices.change_line{change="added"}')).toBe(0);
  });
});
