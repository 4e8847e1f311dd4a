import fc from 'fast-check';
import { identityFromSeed, type Identity } from '../../src/core/crypto/identity.ts';
import { DEVICE_ID_BYTES, type DeviceEntry } from '../../src/core/wire/index.ts';

/** Deterministic identities (Ed25519 keys from fixed seeds) so failures reproduce. */
export function identity(n: number): Identity {
  return identityFromSeed(new Uint8Array(32).fill(n));
}

/** A device entry with a real, strict Ed25519 device key. */
export function device(n: number): DeviceEntry {
  const id = new Uint8Array(DEVICE_ID_BYTES).fill(n);
  return { id, key: identity(100 + n).publicKey };
}

/** `count` distinct devices. */
export function devices(count: number, from = 1): DeviceEntry[] {
  return Array.from({ length: count }, (_, i) => device(from + i));
}

export const arbDevice: fc.Arbitrary<DeviceEntry> = fc.record({
  id: fc.uint8Array({ minLength: DEVICE_ID_BYTES, maxLength: DEVICE_ID_BYTES }),
  key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
});
