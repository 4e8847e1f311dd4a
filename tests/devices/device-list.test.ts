/**
 * Device ids, certificates and signed device lists (src/core/devices, src/core/wire/device-list.ts):
 * the codec is canonical and total (property tests), and every refusal has its own typed
 * error, proven by construction and by fast-check over tampering.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../src/core/bytes.ts';
import { safetyNumber } from '../../src/core/crypto/safety-number.ts';
import { seededRandom } from '../../src/core/random.ts';
import { generateDeviceId, isDeviceId, type DeviceId } from '../../src/core/devices/device-id.ts';
import { generateDeviceKey } from '../../src/core/devices/device-key.ts';
import { issueDeviceCertificate, verifyDeviceCertificate } from '../../src/core/devices/device-certificate.ts';
import { signDeviceList, verifyDeviceList, withDeviceAdded, withDeviceRemoved } from '../../src/core/devices/device-list.ts';
import {
  DeviceCertificateSignatureError,
  DeviceError,
  DeviceListSignatureError,
  DuplicateDeviceError,
  ForeignDeviceCertificateError,
  ForeignDeviceListError,
  MalformedDeviceCertificateError,
  MalformedDeviceListError,
  StaleDeviceListError,
  TooManyDevicesError,
} from '../../src/core/devices/errors.ts';
import {
  DEVICE_ID_BYTES,
  MAX_DEVICES,
  MAX_DEVICE_LIST_ENTRIES,
  WireError,
  decodeDeviceListBody,
  deviceListSignaturePayload,
  deviceMailboxAddress,
  encodeDeviceListBody,
  mailboxAddress,
  type DeviceEntry,
  type DeviceListBody,
  type SignedDeviceList,
} from '../../src/core/wire/index.ts';
import { arbDevice, device, devices, identity } from './fixtures.ts';

const ada = identity(1);
const mallory = identity(2);

/** Signs any body with `signer`, bypassing signDeviceList's own refusals (to build hostile lists). */
function rawSigned(signer: typeof ada, body: DeviceListBody): SignedDeviceList {
  const bytes = encodeDeviceListBody(body);
  return { body: bytes, sig: signer.sign(deviceListSignaturePayload(bytes)) };
}

function refusalOf(fn: () => unknown): DeviceError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DeviceError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('device ids', () => {
  it('are DEVICE_ID_BYTES random bytes, distinct per draw', () => {
    const random = seededRandom(7);
    const a = generateDeviceId(random);
    const b = generateDeviceId(random);
    expect(a.length).toBe(DEVICE_ID_BYTES);
    expect(isDeviceId(a)).toBe(true);
    expect(a).not.toEqual(b);
    expect(isDeviceId(new Uint8Array(15))).toBe(false);
    expect(isDeviceId('x'.repeat(16))).toBe(false);
  });

  it('give each device its own mailbox address, never the account one', () => {
    const a = deviceMailboxAddress(ada.publicKey, device(1).id);
    expect(a.length).toBe(32);
    expect(a).not.toEqual(deviceMailboxAddress(ada.publicKey, device(2).id));
    expect(a).not.toEqual(deviceMailboxAddress(mallory.publicKey, device(1).id));
    expect(a).not.toEqual(mailboxAddress(ada.publicKey));
    expect(() => deviceMailboxAddress(ada.publicKey, new Uint8Array(15))).toThrow(WireError);
  });
});

describe('device certificates', () => {
  const random = seededRandom(11);
  const id = generateDeviceId(random);
  const key = generateDeviceKey(random);
  const cert = issueDeviceCertificate(ada, id, key.publicKey);

  it('verify under the account identity that issued them', () => {
    expect(verifyDeviceCertificate(cert, ada.publicKey)).toBe(cert);
  });

  it('are refused for another account (typed)', () => {
    expect(refusalOf(() => verifyDeviceCertificate(cert, mallory.publicKey))).toBeInstanceOf(ForeignDeviceCertificateError);
    const forged = issueDeviceCertificate(mallory, id, key.publicKey);
    expect(refusalOf(() => verifyDeviceCertificate({ ...forged, account: ada.publicKey }, ada.publicKey))).toBeInstanceOf(DeviceCertificateSignatureError);
  });

  it('are refused when any field or signature bit is changed', () => {
    fc.assert(
      fc.property(fc.constantFrom('id', 'key', 'sig') as fc.Arbitrary<'id' | 'key' | 'sig'>, fc.nat(), fc.integer({ min: 0, max: 7 }), (field, at, bit) => {
        const bytes = cert[field].slice();
        bytes[at % bytes.length]! ^= 1 << bit;
        const err = refusalOf(() => verifyDeviceCertificate({ ...cert, [field]: bytes }, ada.publicKey));
        // A flipped key bit may leave no valid point: malformed; otherwise the signature fails.
        expect([DeviceCertificateSignatureError, MalformedDeviceCertificateError].some((c) => err instanceof c)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('are refused when malformed, and never issued for a weak device key', () => {
    expect(refusalOf(() => verifyDeviceCertificate({ ...cert, sig: cert.sig.subarray(1) }, ada.publicKey))).toBeInstanceOf(MalformedDeviceCertificateError);
    expect(refusalOf(() => verifyDeviceCertificate({ ...cert, id: new Uint8Array(8) }, ada.publicKey))).toBeInstanceOf(MalformedDeviceCertificateError);
    const smallOrder = new Uint8Array(32);
    smallOrder[0] = 1; // the identity point
    expect(refusalOf(() => issueDeviceCertificate(ada, id, smallOrder))).toBeInstanceOf(MalformedDeviceCertificateError);
    expect(refusalOf(() => verifyDeviceCertificate({ ...cert, key: smallOrder }, ada.publicKey))).toBeInstanceOf(MalformedDeviceCertificateError);
  });
});

describe('device-list codec', () => {
  const arbBody: fc.Arbitrary<DeviceListBody> = fc.record({
    account: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    version: fc.integer({ min: 0, max: 0xffff_ffff }),
    issuedAt: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    devices: fc.array(arbDevice, { maxLength: MAX_DEVICE_LIST_ENTRIES }),
  });

  it('round-trips every body and is canonical (re-encoding gives the same bytes)', () => {
    fc.assert(
      fc.property(arbBody, (body) => {
        const bytes = encodeDeviceListBody(body);
        const back = decodeDeviceListBody(bytes);
        expect(back).toEqual({ ...body, devices: body.devices.map((d) => ({ id: d.id, key: d.key })) });
        expect(encodeDeviceListBody(back)).toEqual(bytes);
      }),
      { numRuns: 200 },
    );
  });

  it('throws only WireError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        try {
          decodeDeviceListBody(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(WireError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses more entries than the decoder reads, wrong lengths and unknown fields', () => {
    const base = { account: ada.publicKey, version: 1, issuedAt: 5, devices: devices(1) };
    expect(() => encodeDeviceListBody({ ...base, devices: Array.from({ length: MAX_DEVICE_LIST_ENTRIES + 1 }, (_, i) => device(i)) })).toThrow(WireError);
    expect(() => encodeDeviceListBody({ ...base, account: new Uint8Array(31) })).toThrow(WireError);
    expect(() => encodeDeviceListBody({ ...base, devices: [{ id: new Uint8Array(17), key: ada.publicKey }] })).toThrow(WireError);
    expect(() => encodeDeviceListBody({ ...base, extra: 1 } as DeviceListBody)).toThrow(WireError);
  });
});

describe('signed device lists', () => {
  const v1 = signDeviceList(ada, { version: 1, issuedAt: 1000, devices: devices(1) });

  it('verify for the known account at a version above the known one', () => {
    const list = verifyDeviceList(v1, ada.publicKey);
    expect(list.version).toBe(1);
    expect(list.devices).toEqual(devices(1));
    const v2 = signDeviceList(ada, withDeviceAdded(list, device(2), 2000));
    expect(verifyDeviceList(v2, ada.publicKey, 1).devices).toEqual(devices(2));
    const v3 = signDeviceList(ada, withDeviceRemoved(verifyDeviceList(v2, ada.publicKey, 1), device(1).id, 3000));
    expect(verifyDeviceList(v3, ada.publicKey, 2).devices).toEqual([device(2)]);
  });

  it('accept any set of up to MAX_DEVICES distinct devices (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DEVICES }), fc.integer({ min: 1, max: 0xffff_ffff }), (count, version) => {
        const signed = signDeviceList(ada, { version, issuedAt: 1, devices: devices(count) });
        expect(verifyDeviceList(signed, ada.publicKey, version - 1).devices).toHaveLength(count);
      }),
      { numRuns: 40 },
    );
  });

  it('refuses a list naming another account: ForeignDeviceListError', () => {
    const foreign = signDeviceList(mallory, { version: 9, issuedAt: 1, devices: devices(1) });
    expect(refusalOf(() => verifyDeviceList(foreign, ada.publicKey))).toBeInstanceOf(ForeignDeviceListError);
  });

  it('refuses a list for our account signed by someone else: DeviceListSignatureError', () => {
    const forged = rawSigned(mallory, { account: ada.publicKey, version: 9, issuedAt: 1, devices: devices(1) });
    expect(refusalOf(() => verifyDeviceList(forged, ada.publicKey))).toBeInstanceOf(DeviceListSignatureError);
  });

  it('refuses every single-bit change of the signature (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 7 }), (at, bit) => {
        const sig = v1.sig.slice();
        sig[at]! ^= 1 << bit;
        expect(refusalOf(() => verifyDeviceList({ body: v1.body, sig }, ada.publicKey))).toBeInstanceOf(DeviceListSignatureError);
      }),
      { numRuns: 100 },
    );
  });

  it('never accepts a body with any bit changed (property)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 7 }), (at, bit) => {
        const body = v1.body.slice();
        body[at % body.length]! ^= 1 << bit;
        const err = refusalOf(() => verifyDeviceList({ body, sig: v1.sig }, ada.publicKey));
        expect([MalformedDeviceListError, ForeignDeviceListError, DeviceListSignatureError].some((c) => err instanceof c)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('applies the strict Ed25519 rule: a small-order "account" key and the (identity, 0) signature are refused', () => {
    const weak = new Uint8Array(32);
    weak[0] = 1; // the identity point: [S]B = R + [k]A holds for R = identity, S = 0 under a cofactored or lax verifier
    const body = encodeDeviceListBody({ account: weak, version: 1, issuedAt: 1, devices: devices(1) });
    const sig = concatBytes(weak, new Uint8Array(32));
    expect(refusalOf(() => verifyDeviceList({ body, sig }, weak))).toBeInstanceOf(DeviceListSignatureError);
  });

  it('refuses a version not above the known one: StaleDeviceListError (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), (version, ahead) => {
        const signed = signDeviceList(ada, { version, issuedAt: 1, devices: devices(1) });
        expect(refusalOf(() => verifyDeviceList(signed, ada.publicKey, version + ahead))).toBeInstanceOf(StaleDeviceListError);
      }),
      { numRuns: 30 },
    );
  });

  it(`refuses more than MAX_DEVICES (${MAX_DEVICES}) devices: TooManyDevicesError, and never signs such a list`, () => {
    for (const count of [MAX_DEVICES + 1, MAX_DEVICES + 5, MAX_DEVICE_LIST_ENTRIES]) {
      const signed = rawSigned(ada, { account: ada.publicKey, version: 1, issuedAt: 1, devices: devices(count) });
      expect(refusalOf(() => verifyDeviceList(signed, ada.publicKey))).toBeInstanceOf(TooManyDevicesError);
    }
    expect(refusalOf(() => signDeviceList(ada, { version: 1, issuedAt: 1, devices: devices(MAX_DEVICES + 1) }))).toBeInstanceOf(TooManyDevicesError);
    const full = verifyDeviceList(signDeviceList(ada, { version: 1, issuedAt: 1, devices: devices(MAX_DEVICES) }), ada.publicKey);
    expect(refusalOf(() => signDeviceList(ada, withDeviceAdded(full, device(50), 2)))).toBeInstanceOf(TooManyDevicesError);
  });

  it('refuses a device id or device key listed twice: DuplicateDeviceError (property over positions)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: MAX_DEVICES }), fc.nat(), fc.nat(), fc.boolean(), (count, i, j, sameId) => {
        const list = devices(count);
        const from = i % count;
        let to = j % count;
        if (to === from) to = (to + 1) % count;
        const copy: DeviceEntry = sameId ? { id: list[from]!.id, key: list[to]!.key } : { id: list[to]!.id, key: list[from]!.key };
        // Replace `to` by an entry that repeats one field of `from`.
        list[to] = sameId ? { id: copy.id, key: identity(200).publicKey } : { id: new Uint8Array(DEVICE_ID_BYTES).fill(222), key: copy.key };
        const signed = rawSigned(ada, { account: ada.publicKey, version: 1, issuedAt: 1, devices: list });
        expect(refusalOf(() => verifyDeviceList(signed, ada.publicKey))).toBeInstanceOf(DuplicateDeviceError);
        expect(refusalOf(() => signDeviceList(ada, { version: 1, issuedAt: 1, devices: list }))).toBeInstanceOf(DuplicateDeviceError);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a malformed encoding even when correctly signed: MalformedDeviceListError', () => {
    const garbage = new Uint8Array([0xa1, 0x61, 0x76, 0x01]);
    const signedGarbage = { body: garbage, sig: ada.sign(deviceListSignaturePayload(garbage)) };
    expect(refusalOf(() => verifyDeviceList(signedGarbage, ada.publicKey))).toBeInstanceOf(MalformedDeviceListError);
    expect(refusalOf(() => verifyDeviceList({ body: v1.body, sig: v1.sig.subarray(0, 63) }, ada.publicKey))).toBeInstanceOf(MalformedDeviceListError);
    expect(refusalOf(() => verifyDeviceList({ body: 'x' as unknown as Uint8Array, sig: v1.sig }, ada.publicKey))).toBeInstanceOf(MalformedDeviceListError);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const err = refusalOf(() => verifyDeviceList({ body: bytes, sig: ada.sign(deviceListSignaturePayload(bytes)) }, ada.publicKey));
        expect(err).toBeInstanceOf(MalformedDeviceListError);
      }),
      { numRuns: 200 },
    );
  });

  it('has one stable kind per refusal', () => {
    const kinds = [
      new MalformedDeviceListError('x'),
      new ForeignDeviceListError('x'),
      new DeviceListSignatureError('x'),
      new TooManyDevicesError('x'),
      new DuplicateDeviceError('x'),
      new StaleDeviceListError('x'),
    ].map((e) => e.kind);
    expect(new Set(kinds).size).toBe(6);
  });
});

describe('safety numbers and devices', () => {
  it('do not change when devices are linked or unlinked: they depend on the account identity alone', () => {
    const bo = identity(3);
    const before = safetyNumber(ada.publicKey, bo.publicKey);
    const random = seededRandom(3);
    let list = verifyDeviceList(signDeviceList(ada, { version: 1, issuedAt: 1, devices: [] }), ada.publicKey);
    for (let n = 0; n < MAX_DEVICES; n++) {
      const id: DeviceId = generateDeviceId(random);
      const key = generateDeviceKey(random).publicKey;
      list = verifyDeviceList(signDeviceList(ada, withDeviceAdded(list, { id, key }, n)), ada.publicKey, list.version);
      // What a contact computes from the verified list it holds: the list's account, never a device key.
      expect(safetyNumber(list.account, bo.publicKey)).toBe(before);
      expect(safetyNumber(key, bo.publicKey)).not.toBe(before);
    }
    list = verifyDeviceList(signDeviceList(ada, withDeviceRemoved(list, list.devices[0]!.id, 99)), ada.publicKey, list.version);
    expect(safetyNumber(list.account, bo.publicKey)).toBe(before);
  });
});
