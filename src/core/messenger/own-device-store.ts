/**
 * This device's record in storage (meta `device.self`, docs/STORAGE.md). Made the first
 * time a core starts with an identity — also for accounts created before devices existed:
 * that is their whole migration, one row, nothing else rewritten. Until the account
 * publishes a device list naming this device, the account stays single-device (it
 * authenticates by IK and reads its account mailbox, docs/PROTOCOL.md §13).
 */
import type { Identity } from '../crypto/index.ts';
import { createOwnDevice, decodeOwnDevice, encodeOwnDevice, MalformedOwnDeviceError, type OwnDevice } from '../devices/own-device.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Random } from '../random.ts';
import type { PetrelStore } from '../store/index.ts';

export const META_OWN_DEVICE = 'device.self';

export async function loadOrCreateOwnDevice(deps: { store: PetrelStore; random: Random; metrics: Metrics; log: Logger }, identity: Identity): Promise<OwnDevice> {
  const { store, random, metrics, log } = deps;
  const stored = await store.getMeta(META_OWN_DEVICE);
  if (stored instanceof Uint8Array) {
    try {
      return decodeOwnDevice(stored, identity);
    } catch (err) {
      if (!(err instanceof MalformedOwnDeviceError)) throw err;
      // Not this account's device (or damaged): never used. A fresh one replaces it; while
      // no device list names it, nothing on the relay or at contacts refers to it.
      log.error('stored device record refused; a new device id is made', { error: err.message });
      metrics.inc('devices.own_record_refused');
    }
  }
  const device = createOwnDevice(identity, random);
  await store.setMeta(META_OWN_DEVICE, encodeOwnDevice(device));
  log.info('device record created');
  return device;
}
