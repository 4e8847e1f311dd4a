import { ed25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from 'node:crypto';
import {
  DEVICE_ID_BYTES,
  deviceAuthPayload,
  deviceCertificatePayload,
  deviceListSignaturePayload,
  deviceMailboxAddress,
  encodeDeviceListBody,
  type DeviceCertificate,
  type DeviceEntry,
  type RelayFrame,
  type SignedDeviceList,
} from '../../../src/core/wire/index.ts';
import type { TestIdentity } from './identity.ts';
import type { TestClient } from './test-client.ts';

/** One device of a test account: its id, its own Ed25519 key, and its certificate from the account (independent of src/core on purpose). */
export interface TestDevice {
  readonly id: Uint8Array;
  readonly seed: Uint8Array;
  readonly key: Uint8Array;
  readonly cert: DeviceCertificate;
  readonly mailbox: Uint8Array;
  readonly entry: DeviceEntry;
}

export function newDevice(account: TestIdentity, certifiedBy: TestIdentity = account): TestDevice {
  const id = new Uint8Array(randomBytes(DEVICE_ID_BYTES));
  const seed = new Uint8Array(randomBytes(32));
  const key = ed25519.getPublicKey(seed);
  const sig = certifiedBy.sign(deviceCertificatePayload(account.ik, id, key));
  return { id, seed, key, cert: { account: account.ik, id, key, sig }, mailbox: deviceMailboxAddress(account.ik, id), entry: { id, key } };
}

/** A device list signed by `signer` (the account itself unless a test forges one). */
export function signedList(account: TestIdentity, version: number, devices: readonly DeviceEntry[], signer: TestIdentity = account): SignedDeviceList {
  const body = encodeDeviceListBody({ account: account.ik, version, issuedAt: Date.now(), devices });
  return { body, sig: signer.sign(deviceListSignaturePayload(body)) };
}

let nextRid = 1_000_000;
export const rid = () => nextRid++;

/** Answers the connection's challenge as `device`; resolves with the relay's answer (`ready` or an error). */
export async function authDevice(c: TestClient, device: TestDevice, opts: { sig?: Uint8Array } = {}): Promise<RelayFrame> {
  const challenge = await c.next('challenge');
  c.send({ t: 'auth.device', cert: device.cert, sig: opts.sig ?? ed25519.sign(deviceAuthPayload(challenge.nonce), device.seed) });
  return c.until(() => c.frames.find((f) => f.t === 'ready' || f.t === 'error'), 'ready or error');
}

export async function publishList(c: TestClient, list: SignedDeviceList): Promise<RelayFrame> {
  const r = rid();
  c.send({ t: 'devices.publish', rid: r, list });
  return c.reply(r);
}
