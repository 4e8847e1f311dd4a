/**
 * Device names (src/core/devices/device-name.ts, issue 16): what a name may be, that it is
 * signed with the device list (a changed name does not verify), that a rename is the list's
 * next version under the same rules, that a link request's name is under the link's MAC,
 * the "added a device" line naming the device, and the browser's default name.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.ts';
import { signDeviceList, UnknownListedDeviceError, verifyDeviceList, withDeviceAdded, withDeviceRenamed } from '../../src/core/devices/device-list.ts';
import { checkedDeviceName, InvalidDeviceNameError, isDeviceName, shownDeviceName } from '../../src/core/devices/device-name.ts';
import { DeviceListSignatureError, StaleDeviceListError, TooManyDevicesError } from '../../src/core/devices/errors.ts';
import { acceptLinkRequest, buildLinkRequest, createLinkOffer, formatLink, parseLink } from '../../src/core/devices/link-offer.ts';
import { LinkTamperedError } from '../../src/core/devices/link-errors.ts';
import { deviceChangeText } from '../../src/core/messenger/device-change-lines.ts';
import { decodeDeviceListBody, decodeLinkChannelMessage, encodeDeviceListBody, encodeLinkChannelMessage, MAX_DEVICE_LIST_BYTES, MAX_DEVICES } from '../../src/core/wire/index.ts';
import { defaultDeviceName } from '../../src/platform/default-device-name.ts';
import { device, devices, identity } from './fixtures.ts';

const ada = identity(1);
const T0 = 1_700_000_000_000;

describe('device names', () => {
  it('a name is trimmed text of 1..64 bytes without control characters; anything else is refused, typed', () => {
    expect(checkedDeviceName('  Chromium on Linux ')).toBe('Chromium on Linux');
    expect(checkedDeviceName('é'.repeat(32))).toBe('é'.repeat(32)); // 64 bytes
    for (const bad of ['', '   ', 'é'.repeat(33), 'a\u0000b', 'line\nbreak', 'lone \ud800', 42, undefined, null]) {
      expect(() => checkedDeviceName(bad)).toThrow(InvalidDeviceNameError);
    }
    expect(isDeviceName(' padded')).toBe(false);
    expect(shownDeviceName(undefined, 1)).toBe('Device 2');
    expect(shownDeviceName('Work laptop', 1)).toBe('Work laptop');
  });

  it('is signed with the list: named entries verify, a changed name does not, and the wire keeps unnamed entries as they were', () => {
    const named = signDeviceList(ada, { version: 1, issuedAt: T0, devices: [{ ...device(1), name: 'Chromium on Linux' }, device(2)] });
    const list = verifyDeviceList(named, ada.publicKey);
    expect(list.devices.map((d) => d.name)).toEqual(['Chromium on Linux', undefined]);
    // The same list with another name in it, under the old signature: refused.
    const forged = encodeDeviceListBody({ ...list, devices: [{ ...list.devices[0]!, name: 'Evil laptop' }, list.devices[1]!] });
    expect(() => verifyDeviceList({ body: forged, sig: named.sig }, ada.publicKey)).toThrow(DeviceListSignatureError);
    // An unnamed list encodes exactly as before names existed (no name key).
    const plain = signDeviceList(ada, { version: 1, issuedAt: T0, devices: [device(1)] });
    expect('name' in decodeDeviceListBody(plain.body).devices[0]!).toBe(false);
    // Ten devices with a full-length name each fit the list's size limit; an 11th is still refused.
    const full = devices(MAX_DEVICES).map((d, i) => ({ ...d, name: `${i}`.padEnd(64, 'x') }));
    expect(signDeviceList(ada, { version: 1, issuedAt: T0, devices: full }).body.length).toBeLessThan(MAX_DEVICE_LIST_BYTES);
    expect(() => signDeviceList(ada, { version: 1, issuedAt: T0, devices: [...full, { ...device(50), name: 'one more' }] })).toThrow(TooManyDevicesError);
    // A name that is not one is never signed.
    expect(() => signDeviceList(ada, { version: 1, issuedAt: T0, devices: [{ ...device(1), name: ' ' }] })).toThrow(InvalidDeviceNameError);
  });

  it('a rename is the next version of the list, this device only; the old version is then stale; unknown device or bad name: refused, nothing made', () => {
    const v1 = verifyDeviceList(signDeviceList(ada, { version: 1, issuedAt: T0, devices: [device(1), device(2)] }), ada.publicKey);
    const draft = withDeviceRenamed(v1, device(2).id, '  Work laptop ', T0 + 1);
    expect(draft.version).toBe(2);
    expect(draft.devices.map((d) => d.name)).toEqual([undefined, 'Work laptop']);
    const v2 = signDeviceList(ada, draft);
    expect(verifyDeviceList(v2, ada.publicKey, 1).devices[1]!.name).toBe('Work laptop');
    expect(() => verifyDeviceList(v2, ada.publicKey, 2)).toThrow(StaleDeviceListError);
    expect(() => withDeviceRenamed(v1, device(9).id, 'x', T0)).toThrow(UnknownListedDeviceError);
    expect(() => withDeviceRenamed(v1, device(2).id, '', T0)).toThrow(InvalidDeviceNameError);
    // A device added with its name keeps it.
    expect(withDeviceAdded(v1, { ...device(3), name: 'Firefox on Windows' }, T0).devices[2]!.name).toBe('Firefox on Windows');
  });

  it("a link request's name is under the link's MAC: the name the existing device signs is the one the new device sent", () => {
    const offer = createLinkOffer(seededRandom(3), T0);
    const parsed = parseLink(formatLink(offer), T0 + 1);
    const request = buildLinkRequest(parsed, { ...device(7), name: 'Chromium on Linux' });
    // Over the wire and back.
    const wire = decodeLinkChannelMessage(encodeLinkChannelMessage({ t: 'link.request', dev: request.device, mac: request.mac }));
    expect(wire.t === 'link.request' && wire.dev.name).toBe('Chromium on Linux');
    expect(() => acceptLinkRequest(offer, { ...request, device: { ...request.device, name: 'Renamed on the way' } }, T0 + 2)).toThrow(LinkTamperedError);
    expect(() => acceptLinkRequest(offer, { ...request, device: { id: request.device.id, key: request.device.key } }, T0 + 2)).toThrow(LinkTamperedError);
    // A name that is not one, even under a good MAC: refused as malformed.
    const bad = buildLinkRequest(parsed, { ...device(7), name: 'tab\there' });
    expect(() => acceptLinkRequest(offer, bad, T0 + 2)).toThrow(LinkTamperedError);
    expect(acceptLinkRequest(offer, request, T0 + 2).device.name).toBe('Chromium on Linux');
  });

  it("the chat line names the added devices when the list names them, and keeps its words otherwise", () => {
    expect(deviceChangeText('Ada', 'added', 1)).toBe('Ada added a device');
    expect(deviceChangeText('Ada', 'added', 1, ['Chromium on Linux'])).toBe('Ada added a device: Chromium on Linux');
    expect(deviceChangeText('Ada', 'added', 2, ['Phone', 'Laptop'])).toBe('Ada added 2 devices: Phone, Laptop');
    expect(deviceChangeText('', 'removed', 1)).toBe('This contact removed a device');
  });

  it("the browser's default name: browser on system, from client hints or the user agent", () => {
    const debianChromium = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
    expect(defaultDeviceName({ userAgent: debianChromium, userAgentData: { brands: [{ brand: 'Chromium' }, { brand: 'Not_A Brand' }], platform: 'Linux' } })).toBe('Chromium on Linux');
    expect(defaultDeviceName({ userAgentData: { brands: [{ brand: 'Not)A;Brand' }, { brand: 'Google Chrome' }, { brand: 'Chromium' }], platform: 'Windows' } })).toBe('Google Chrome on Windows');
    expect(defaultDeviceName({ userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0' })).toBe('Firefox on Windows');
    expect(defaultDeviceName({ userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1' })).toBe('Safari on iOS');
    expect(defaultDeviceName({ userAgent: debianChromium })).toBe('Chrome on Linux');
    expect(defaultDeviceName(undefined)).toBe('Browser');
    expect(isDeviceName(defaultDeviceName({ userAgent: 'x'.repeat(500) }))).toBe(true);
  });
});
