/** Fan-out (src/core/devices/fan-out.ts): every device of the contact, every other device of the sender, each mailbox once. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { fanOutTargets } from '../../src/core/devices/fan-out.ts';
import { ForeignDeviceListError } from '../../src/core/devices/errors.ts';
import { MAX_DEVICES, deviceMailboxAddress, mailboxAddress, type DeviceListBody } from '../../src/core/wire/index.ts';
import { devices, identity } from './fixtures.ts';

const ada = identity(1).publicKey;
const bo = identity(3).publicKey;
const list = (account: Uint8Array, count: number, from = 1): DeviceListBody => ({ account, version: 1, issuedAt: 0, devices: devices(count, from) });

describe('fan-out', () => {
  it('single-device to single-device: one copy, to the account mailbox', () => {
    expect(fanOutTargets({ ownAccount: ada, contactAccount: bo })).toEqual([{ account: bo, mailbox: mailboxAddress(bo), own: false }]);
  });

  it('3 devices to 3 devices: the contact\'s 3 and our 2 others, never the sending device', () => {
    const own = list(ada, 3, 1);
    const theirs = list(bo, 3, 20);
    const targets = fanOutTargets({ ownAccount: ada, ownDeviceId: own.devices[1]!.id, ownList: own, contactAccount: bo, contactList: theirs });
    expect(targets).toHaveLength(5);
    expect(targets.slice(0, 3).map((t) => t.mailbox)).toEqual(theirs.devices.map((d) => deviceMailboxAddress(bo, d.id)));
    expect(targets.slice(3).map((t) => t.deviceId)).toEqual([own.devices[0]!.id, own.devices[2]!.id]);
    expect(targets.slice(3).every((t) => t.own)).toBe(true);
  });

  it('note to self goes to each other own device once', () => {
    const own = list(ada, 4);
    const targets = fanOutTargets({ ownAccount: ada, ownDeviceId: own.devices[0]!.id, ownList: own, contactAccount: ada, contactList: own });
    expect(targets.map((t) => t.deviceId)).toEqual(own.devices.slice(1).map((d) => d.id));
  });

  it('refuses a list that is not the account\'s', () => {
    expect(() => fanOutTargets({ ownAccount: ada, contactAccount: bo, contactList: list(ada, 2) })).toThrow(ForeignDeviceListError);
    expect(() => fanOutTargets({ ownAccount: ada, ownList: list(bo, 2), contactAccount: bo })).toThrow(ForeignDeviceListError);
  });

  it('property: targets are distinct, exclude the sender, cover every contact device and every other own device', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_DEVICES }), fc.option(fc.integer({ min: 1, max: MAX_DEVICES })), fc.nat(), (ownCount, theirCount, me) => {
        const own = list(ada, ownCount, 1);
        const sending = own.devices[me % ownCount]!.id;
        const theirs = theirCount === null ? undefined : list(bo, theirCount, 50);
        const targets = fanOutTargets({ ownAccount: ada, ownDeviceId: sending, ownList: own, contactAccount: bo, ...(theirs ? { contactList: theirs } : {}) });
        const keys = targets.map((t) => toHex(t.mailbox));
        expect(new Set(keys).size).toBe(keys.length);
        expect(keys).not.toContain(toHex(deviceMailboxAddress(ada, sending)));
        expect(targets.length).toBe((theirCount ?? 1) + ownCount - 1);
        expect(targets.length).toBeLessThanOrEqual(2 * MAX_DEVICES - 1);
      }),
      { numRuns: 100 },
    );
  });
});
