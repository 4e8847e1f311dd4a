/**
 * A device's own Ed25519 key: it authenticates the device to the relay (its mailbox and
 * prekeys are the device's own) and is what the account identity certifies. It is an
 * Ed25519 key pair like the identity (same strict rules, same redaction), but never the
 * account identity: losing a device key loses that device, not the account.
 */
import { generateIdentity, identityFromSeed, type Identity } from '../crypto/identity.ts';
import type { Random } from '../random.ts';

export type DeviceKey = Identity;

export function generateDeviceKey(random: Random): DeviceKey {
  return generateIdentity(random);
}

export function deviceKeyFromSeed(seed: Uint8Array): DeviceKey {
  return identityFromSeed(seed);
}
