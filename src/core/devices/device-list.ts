/**
 * Making signed device lists (docs/PROTOCOL.md §13.3): the account identity signs the
 * canonical CBOR of {account, version, issuedAt, devices}. Every change (a device linked,
 * one unlinked) is a new list with the version one higher; the relay and every contact
 * refuse a list at or below the version they hold.
 */
import { verifySignature, type Identity } from '../crypto/identity.ts';
import {
  MAX_DEVICES,
  deviceListSignaturePayload,
  encodeDeviceListBody,
  firstDuplicateDevice,
  judgeDeviceList,
  UINT32_MAX,
  type DeviceEntry,
  type DeviceListBody,
  type SignedDeviceList,
} from '../wire/index.ts';
import { bytesEqual } from '../bytes.ts';
import { checkedDeviceName, InvalidDeviceNameError, isDeviceName } from './device-name.ts';
import { DuplicateDeviceError, StaleDeviceListError, TooManyDevicesError, deviceListError } from './errors.ts';

export interface DeviceListDraft {
  readonly version: number;
  readonly issuedAt: number;
  readonly devices: readonly DeviceEntry[];
}

/**
 * Signs a device list as `account`. Refuses (typed, nothing signed) a device name that is
 * not one (device-name.ts), more than MAX_DEVICES devices and a device id or key listed twice, so an honest client never emits a list the
 * relay would refuse.
 */
export function signDeviceList(account: Identity, draft: DeviceListDraft): SignedDeviceList {
  const unnamed = draft.devices.findIndex((d) => d.name !== undefined && !isDeviceName(d.name));
  if (unnamed >= 0) throw new InvalidDeviceNameError(`device ${unnamed} has a name that is not 1..64 bytes of trimmed text`);
  if (draft.devices.length > MAX_DEVICES) throw new TooManyDevicesError(`${draft.devices.length} devices; at most ${MAX_DEVICES}`);
  const duplicate = firstDuplicateDevice(draft.devices);
  if (duplicate !== undefined) throw new DuplicateDeviceError(`device ${duplicate} is listed twice`);
  const body = encodeDeviceListBody({ account: account.publicKey, version: draft.version, issuedAt: draft.issuedAt, devices: draft.devices });
  return { body, sig: account.sign(deviceListSignaturePayload(body)) };
}

/** The next version of `current` with `device` added (TooManyDevicesError for the 11th). */
export function withDeviceAdded(current: DeviceListBody, device: DeviceEntry, issuedAt: number): DeviceListDraft {
  return { version: nextVersion(current.version), issuedAt, devices: [...current.devices, device] };
}

/** The next version of `current` without device `deviceId` (unlinking; the same list, one version up, if it was not there). */
export function withDeviceRemoved(current: DeviceListBody, deviceId: Uint8Array, issuedAt: number): DeviceListDraft {
  return { version: nextVersion(current.version), issuedAt, devices: current.devices.filter((d) => !bytesEqual(d.id, deviceId)) };
}

/** The next version of `current` with device `deviceId` called `name` (checked: device-name.ts); UnknownListedDeviceError when it is not listed. */
export function withDeviceRenamed(current: DeviceListBody, deviceId: Uint8Array, name: string, issuedAt: number): DeviceListDraft {
  const checked = checkedDeviceName(name);
  if (!current.devices.some((d) => bytesEqual(d.id, deviceId))) throw new UnknownListedDeviceError('the list does not name this device');
  return { version: nextVersion(current.version), issuedAt, devices: current.devices.map((d) => (bytesEqual(d.id, deviceId) ? { id: d.id, key: d.key, name: checked } : d)) };
}

/** A rename for a device the list does not name. */
export class UnknownListedDeviceError extends Error {
  readonly kind = 'unknown_device';
  override readonly name = 'UnknownListedDeviceError';
}

function nextVersion(version: number): number {
  if (version >= UINT32_MAX) throw new StaleDeviceListError('the device-list version is exhausted; reset the identity');
  return version + 1;
}

/**
 * Verifies a signed device list for the account we know (`account`, and the version we
 * hold, if any) with the strict Ed25519 rule. Returns the list or throws the error of the
 * first refusal: MalformedDeviceListError, ForeignDeviceListError,
 * DeviceListSignatureError, TooManyDevicesError, DuplicateDeviceError, StaleDeviceListError.
 */
export function verifyDeviceList(signed: SignedDeviceList, account: Uint8Array, knownVersion?: number): DeviceListBody {
  const verdict = judgeDeviceList(signed, knownVersion === undefined ? { account } : { account, knownVersion }, verifySignature);
  if (!verdict.ok) throw deviceListError(verdict.refusal, verdict.detail);
  return verdict.list;
}
