/** Device ids: DEVICE_ID_BYTES random bytes, chosen once by each device (docs/PROTOCOL.md §13.1). */
import type { Random } from '../random.ts';
import { DEVICE_ID_BYTES } from '../wire/index.ts';

declare const deviceIdBrand: unique symbol;
/** A device id: exactly DEVICE_ID_BYTES bytes. */
export type DeviceId = Uint8Array & { readonly [deviceIdBrand]: true };

export function isDeviceId(value: unknown): value is DeviceId {
  return value instanceof Uint8Array && value.length === DEVICE_ID_BYTES;
}

/** A fresh random device id (128 bits: two devices of one account never collide in practice). */
export function generateDeviceId(random: Random): DeviceId {
  const id = random.bytes(DEVICE_ID_BYTES);
  if (!isDeviceId(id)) throw new RangeError('random source returned the wrong length');
  return id;
}
