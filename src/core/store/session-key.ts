/**
 * The key of a session row (docs/STORAGE.md, `sessions`): the contact id (64 hex) for the
 * session with a single-device contact — the only form before linked devices, so every
 * stored row keeps its key — or the contact id followed by the device id (32 hex) for the
 * session with one device of a multi-device contact (docs/PROTOCOL.md §13.5).
 */
import { InvalidStoreInputError } from './errors.ts';

const ACCOUNT_KEY = /^[0-9a-f]{64}$/;
const DEVICE_KEY = /^[0-9a-f]{96}$/;
const DEVICE_HEX = /^[0-9a-f]{32}$/;

/** The session key for `contactId` (and one of its devices, hex). */
export function sessionKey(contactId: string, deviceHex?: string): string {
  return deviceHex === undefined ? contactId : contactId + deviceHex;
}

/** The contact a session key belongs to. */
export function contactOfSessionKey(key: string): string {
  return key.slice(0, 64);
}

/** The device (hex) a session key names; undefined for a single-device contact's session. */
export function deviceOfSessionKey(key: string): string | undefined {
  return key.length > 64 ? key.slice(64) : undefined;
}

export function checkSessionKey(field: string, v: unknown): string {
  if (typeof v !== 'string' || !(ACCOUNT_KEY.test(v) || DEVICE_KEY.test(v))) throw new InvalidStoreInputError(field, 'expected a contact id, or a contact id and a device id (hex)');
  return v;
}

export function checkDeviceHex(field: string, v: unknown): string {
  if (typeof v !== 'string' || !DEVICE_HEX.test(v)) throw new InvalidStoreInputError(field, 'expected 32 lower-case hex characters');
  return v;
}
