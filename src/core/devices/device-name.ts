/**
 * Device names (docs/PROTOCOL.md §13.3): what each device of an account is called in the
 * Linked devices view, a message's Details and a contact's "added a device" line. A name is
 * part of the device's entry in the signed device list, so only the account (any of its
 * devices) can set it, and every contact sees the same one. Plain text, trimmed, 1..64
 * bytes of UTF-8; the default is the browser and system the device runs (`Chromium on Linux`).
 */
import { utf8 } from '../bytes.ts';
import { MAX_DEVICE_NAME_BYTES } from '../wire/index.ts';

/** A device name that is empty after trimming, too long, or not well-formed text. */
export class InvalidDeviceNameError extends Error {
  readonly kind = 'invalid_device_name';
  override readonly name = 'InvalidDeviceNameError';
}

/** Is `name` a device name as stored and signed (already trimmed, 1..64 bytes, no control characters)? */
export function isDeviceName(name: unknown): name is string {
  return typeof name === 'string' && name === name.trim() && name.length > 0 && utf8(name).length <= MAX_DEVICE_NAME_BYTES && !/[\p{Cc}\p{Cs}]/u.test(name);
}

/** `name` trimmed, or InvalidDeviceNameError when the result is not a device name. */
export function checkedDeviceName(name: unknown): string {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (!isDeviceName(trimmed)) throw new InvalidDeviceNameError(`a device name is 1..${MAX_DEVICE_NAME_BYTES} bytes of text`);
  return trimmed;
}

/** What a device without a name is shown as: its place in the list ("Device 2"). */
export function shownDeviceName(name: string | undefined, index: number): string {
  return name ?? `Device ${index + 1}`;
}
