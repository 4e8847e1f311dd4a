/**
 * The relay and the client judge device lists by one function (judgeDeviceList) with
 * their own strict Ed25519 (OpenSSL at the relay, the core's JavaScript in the client):
 * the verdicts must agree on every list, honest or tampered. And the relay's cross-node
 * `devices_changed` notification round-trips and refuses malformed input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/core/crypto/identity.ts';
import { signDeviceList } from '../../src/core/devices/device-list.ts';
import { judgeDeviceList, deviceListSignaturePayload, encodeDeviceListBody } from '../../src/core/wire/index.ts';
import { decodeNotification, encodeNotification, NotificationError } from '../../src/relay/cluster/notification.ts';
import { verifyEd25519 } from '../../src/relay/crypto/ed25519-verify.ts';
import { devices, identity } from './fixtures.ts';

const ada = identity(1);
const mallory = identity(2);

describe('one verdict on device lists, client and relay', () => {
  it('agrees on honest, forged, oversized, duplicated, stale and bit-flipped lists', () => {
    const lists = [
      signDeviceList(ada, { version: 3, issuedAt: 1, devices: devices(3) }),
      signDeviceList(mallory, { version: 3, issuedAt: 1, devices: devices(3) }),
      (() => {
        const body = encodeDeviceListBody({ account: ada.publicKey, version: 3, issuedAt: 1, devices: devices(11) });
        return { body, sig: ada.sign(deviceListSignaturePayload(body)) };
      })(),
      (() => {
        const body = encodeDeviceListBody({ account: ada.publicKey, version: 3, issuedAt: 1, devices: [...devices(2), ...devices(1)] });
        return { body, sig: ada.sign(deviceListSignaturePayload(body)) };
      })(),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...lists), fc.option(fc.integer({ min: 0, max: 5 })), fc.option(fc.tuple(fc.boolean(), fc.nat(), fc.integer({ min: 0, max: 7 }))), (list, known, flip) => {
        let { body, sig } = list;
        if (flip) {
          const [inSig, at, bit] = flip;
          const target = (inSig ? sig : body).slice();
          target[at % target.length]! ^= 1 << bit;
          if (inSig) sig = target;
          else body = target;
        }
        const expected = known === null ? { account: ada.publicKey } : { account: ada.publicKey, knownVersion: known };
        const client = judgeDeviceList({ body, sig }, expected, verifySignature);
        const relay = judgeDeviceList({ body, sig }, expected, verifyEd25519);
        expect(relay.ok).toBe(client.ok);
        if (!relay.ok && !client.ok) expect(relay.refusal).toBe(client.refusal);
      }),
      { numRuns: 300 },
    );
  });
});

describe('devices_changed notification', () => {
  it('round-trips version and removed device ids', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { maxLength: 10 }), (version, removed) => {
        const n = { kind: 'devices_changed' as const, node: '0011223344556677', version, removed };
        expect(decodeNotification(encodeNotification(n))).toEqual(n);
      }),
    );
  });

  it('refuses a truncated one', () => {
    const good = encodeNotification({ kind: 'devices_changed', node: '0011223344556677', version: 1, removed: [new Uint8Array(16)] });
    for (const cut of [10, 12, good.length - 1]) expect(() => decodeNotification(good.subarray(0, cut))).toThrow(NotificationError);
  });
});
