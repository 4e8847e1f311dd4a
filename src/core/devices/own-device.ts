/**
 * This device of the account (docs/PROTOCOL.md §13.1–13.2): its device id, its own Ed25519
 * device key and the certificate the account identity IK issued for it. Made once per
 * device and kept in storage; the device key authenticates this device to the relay
 * (`auth.device`) once the account has published a device list naming it.
 *
 * Stored form (fixed layout, one meta value):
 *   version 1 (1 byte) ‖ device id (16) ‖ device key seed (32) ‖ certificate sig (64)
 * The account and the device public key are derived again on load, and the certificate is
 * verified against the account identity: a row that does not fit the identity it is
 * stored with is refused (MalformedOwnDeviceError), never used.
 */
import { concatBytes } from '../bytes.ts';
import type { Identity } from '../crypto/identity.ts';
import type { Random } from '../random.ts';
import { DEVICE_ID_BYTES, SIGNATURE_BYTES, deviceMailboxAddress, type DeviceCertificate, type DeviceEntry } from '../wire/index.ts';
import { issueDeviceCertificate, verifyDeviceCertificate } from './device-certificate.ts';
import { generateDeviceId, type DeviceId } from './device-id.ts';
import { deviceKeyFromSeed, generateDeviceKey, type DeviceKey } from './device-key.ts';
import { DeviceError } from './errors.ts';

const FORMAT_V1 = 1;
const SEED_BYTES = 32;
const STORED_BYTES = 1 + DEVICE_ID_BYTES + SEED_BYTES + SIGNATURE_BYTES;

/** A stored own-device row that is not one, or not this account's. */
export class MalformedOwnDeviceError extends Error {
  override readonly name = 'MalformedOwnDeviceError';
}

export interface OwnDevice {
  readonly id: DeviceId;
  readonly key: DeviceKey;
  readonly cert: DeviceCertificate;
  /** This device's own mailbox: SHA-256("Petrel_DeviceMailbox" ‖ IK ‖ id). */
  readonly mailbox: Uint8Array;
}

/** A new device of `account`: fresh id and device key, certified by the account identity. */
export function createOwnDevice(account: Identity, random: Random): OwnDevice {
  return ownDevice(account, generateDeviceId(random), generateDeviceKey(random));
}

/** This device, with the id and device key it made before it had the account (a linked device), certified by `account`. */
export function ownDeviceFor(account: Identity, id: DeviceId, key: DeviceKey): OwnDevice {
  return ownDevice(account, id, key);
}

/** The entry this device has in the account's device list. */
export function ownDeviceEntry(device: OwnDevice): DeviceEntry {
  return { id: device.id, key: device.key.publicKey };
}

export function encodeOwnDevice(device: OwnDevice): Uint8Array {
  return concatBytes(Uint8Array.of(FORMAT_V1), device.id, device.key.exportSeed(), device.cert.sig);
}

/** Reads a stored own-device row for `account`; MalformedOwnDeviceError if it is not one or not this account's. */
export function decodeOwnDevice(bytes: Uint8Array, account: Identity): OwnDevice {
  if (!(bytes instanceof Uint8Array) || bytes.length !== STORED_BYTES || bytes[0] !== FORMAT_V1) throw new MalformedOwnDeviceError('not an own-device record');
  const id = bytes.slice(1, 1 + DEVICE_ID_BYTES) as DeviceId;
  const key = deviceKeyFromSeed(bytes.slice(1 + DEVICE_ID_BYTES, 1 + DEVICE_ID_BYTES + SEED_BYTES));
  const sig = bytes.slice(1 + DEVICE_ID_BYTES + SEED_BYTES);
  const cert = { account: account.publicKey.slice(), id, key: key.publicKey.slice(), sig };
  try {
    verifyDeviceCertificate(cert, account.publicKey);
  } catch (err) {
    if (err instanceof DeviceError) throw new MalformedOwnDeviceError(`stored device certificate refused: ${err.kind}`);
    throw err;
  }
  return { id, key, cert, mailbox: deviceMailboxAddress(account.publicKey, id) };
}

function ownDevice(account: Identity, id: DeviceId, key: DeviceKey): OwnDevice {
  const cert = issueDeviceCertificate(account, id, key.publicKey);
  return { id, key, cert, mailbox: deviceMailboxAddress(account.publicKey, id) };
}
