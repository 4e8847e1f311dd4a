/**
 * A message request's sender is watched for device-list changes at once (issue 16,
 * docs/PROTOCOL.md §13.5), not only from the next connection on: Cy, whom Bo never
 * added, writes to Bo; Cy's account then links devices twice, and Bo's running core
 * takes both lists without reconnecting (the second can only reach it through
 * `devices.changed`, the answer to its watch).
 */
import { describe, expect, it } from 'vitest';
import { ownDeviceEntry } from '../../src/core/devices/own-device.ts';
import { device, onboard, testWorld, until } from './harness.ts';
import { extraDevice, publishDeviceList, storedAccount } from './linked-device.ts';

const { relay, track } = testWorld();

describe('device lists of message requests', () => {
  it("takes a request sender's new device lists without a reconnect", async () => {
    const r = await relay();
    const bo = track(device(r.url));
    const cy = track(device(r.url));
    await onboard(bo, 'Bo');
    await onboard(cy, 'Cy');
    await until(bo, (s) => s.connection.kind === 'online');
    const cySeesBo = await cy.messenger.addContact(cy.messenger.parseInvite(bo.messenger.getState().me!.inviteUrl)!);
    await cy.messenger.send(cySeesBo, 'hello, you do not know me yet');
    const state = await until(bo, (s) => s.contacts.some((c) => c.request));
    expect(state.contacts.filter((c) => c.request)).toHaveLength(1);
    const accepted = () => bo.metrics.counter('devices.list_accepted');
    const before = accepted();
    const reconnects = bo.metrics.counter('relay.reconnect');

    const { identity, device: one } = await storedAccount(cy.store);
    const two = extraDevice(identity);
    await publishDeviceList(r.url, identity, 1, [ownDeviceEntry(one), ownDeviceEntry(two)]);
    await until(bo, () => accepted() >= before + 1);
    await publishDeviceList(r.url, identity, 2, [ownDeviceEntry(one), ownDeviceEntry(two), ownDeviceEntry(extraDevice(identity))]);
    await until(bo, () => accepted() >= before + 2);
    expect(bo.metrics.counter('relay.reconnect')).toBe(reconnects);
    // Still a request, and no key change: the identity is the one Bo saw.
    expect(bo.messenger.getState().contacts.find((c) => c.request)).toMatchObject({ keyChanged: false });
  });
});
