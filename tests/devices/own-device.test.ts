/** This device's record: made once, certified by the account, stored and read back; a row of another account is refused. */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.ts';
import { createOwnDevice, decodeOwnDevice, encodeOwnDevice, MalformedOwnDeviceError, ownDeviceEntry } from '../../src/core/devices/own-device.ts';
import { verifyDeviceCertificate } from '../../src/core/devices/device-certificate.ts';
import { deviceMailboxAddress } from '../../src/core/wire/index.ts';
import { identity } from './fixtures.ts';

describe('own device', () => {
  it('is certified by the account identity and round-trips through its stored form', () => {
    const ada = identity(1);
    const d = createOwnDevice(ada, seededRandom(7));
    expect(verifyDeviceCertificate(d.cert, ada.publicKey)).toBe(d.cert);
    expect(d.mailbox).toEqual(deviceMailboxAddress(ada.publicKey, d.id));
    const stored = encodeOwnDevice(d);
    expect(stored.length).toBe(1 + 16 + 32 + 64);
    const back = decodeOwnDevice(stored, ada);
    expect(back.id).toEqual(d.id);
    expect(back.key.publicKey).toEqual(d.key.publicKey);
    expect(back.cert).toEqual(d.cert);
    expect(ownDeviceEntry(back)).toEqual({ id: d.id, key: d.key.publicKey });
  });

  it('two devices of one account never share an id or a key', () => {
    const ada = identity(1);
    const random = seededRandom(8);
    const a = createOwnDevice(ada, random);
    const b = createOwnDevice(ada, random);
    expect(a.id).not.toEqual(b.id);
    expect(a.key.publicKey).not.toEqual(b.key.publicKey);
  });

  it('refuses a row stored for another account, a flipped bit, a wrong length or version', () => {
    const ada = identity(1);
    const stored = encodeOwnDevice(createOwnDevice(ada, seededRandom(9)));
    expect(() => decodeOwnDevice(stored, identity(2))).toThrow(MalformedOwnDeviceError);
    const flipped = stored.slice();
    flipped[20]! ^= 1;
    expect(() => decodeOwnDevice(flipped, ada)).toThrow(MalformedOwnDeviceError);
    expect(() => decodeOwnDevice(stored.slice(1), ada)).toThrow(MalformedOwnDeviceError);
    const v2 = stored.slice();
    v2[0] = 2;
    expect(() => decodeOwnDevice(v2, ada)).toThrow(MalformedOwnDeviceError);
  });
});
