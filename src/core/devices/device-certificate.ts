/**
 * Device certificates (docs/PROTOCOL.md §13.2): the account identity IK vouches that a
 * device key belongs to one of its devices, sig = Ed25519(IK, "Petrel_DeviceCert" ‖ IK ‖
 * device id ‖ device key). The relay checks the chain when a device authenticates.
 */
import { bytesEqual } from '../bytes.ts';
import { isValidIdentityKey, verifySignature, type Identity } from '../crypto/identity.ts';
import { DEVICE_ID_BYTES, IDENTITY_KEY_BYTES, SIGNATURE_BYTES, deviceCertificatePayload, type DeviceCertificate } from '../wire/index.ts';
import type { DeviceId } from './device-id.ts';
import { DeviceCertificateSignatureError, ForeignDeviceCertificateError, MalformedDeviceCertificateError } from './errors.ts';

/** Signs a certificate for `deviceKey` (the device's Ed25519 public key) as device `deviceId` of `account`. */
export function issueDeviceCertificate(account: Identity, deviceId: DeviceId, deviceKey: Uint8Array): DeviceCertificate {
  if (!isValidIdentityKey(deviceKey)) throw new MalformedDeviceCertificateError('device key is not a strict Ed25519 public key');
  const sig = account.sign(deviceCertificatePayload(account.publicKey, deviceId, deviceKey));
  return { account: account.publicKey.slice(), id: deviceId.slice(), key: deviceKey.slice(), sig };
}

/**
 * Checks that `cert` was issued by `account` (the identity we know) for its device key.
 * Throws MalformedDeviceCertificateError, ForeignDeviceCertificateError or
 * DeviceCertificateSignatureError; returns the certificate otherwise.
 */
export function verifyDeviceCertificate(cert: DeviceCertificate, account: Uint8Array): DeviceCertificate {
  const wellFormed =
    cert.account instanceof Uint8Array &&
    cert.account.length === IDENTITY_KEY_BYTES &&
    cert.id instanceof Uint8Array &&
    cert.id.length === DEVICE_ID_BYTES &&
    cert.key instanceof Uint8Array &&
    cert.sig instanceof Uint8Array &&
    cert.sig.length === SIGNATURE_BYTES &&
    isValidIdentityKey(cert.key);
  if (!wellFormed) throw new MalformedDeviceCertificateError('not a device certificate');
  if (!bytesEqual(cert.account, account)) throw new ForeignDeviceCertificateError('certificate issued by another account');
  if (!verifySignature(account, deviceCertificatePayload(account, cert.id, cert.key), cert.sig)) {
    throw new DeviceCertificateSignatureError('the account identity did not sign this certificate');
  }
  return cert;
}
