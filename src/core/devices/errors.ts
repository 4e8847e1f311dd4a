/**
 * One error per reason a device list or certificate is refused. Each carries a stable
 * `kind` (the `devices.refused` metric's label); messages never carry key material.
 */
import type { DeviceListRefusal } from '../wire/index.ts';

export type DeviceErrorKind = DeviceListRefusal | 'malformed_certificate' | 'foreign_certificate' | 'bad_certificate_signature';

export abstract class DeviceError extends Error {
  abstract readonly kind: DeviceErrorKind;
}

/** The list's bytes are not a canonical device-list encoding (or the signature is not 64 bytes). */
export class MalformedDeviceListError extends DeviceError {
  readonly kind = 'malformed';
  override readonly name = 'MalformedDeviceListError';
}

/** The list names an account other than the identity we know for it. */
export class ForeignDeviceListError extends DeviceError {
  readonly kind = 'foreign_account';
  override readonly name = 'ForeignDeviceListError';
}

/** The account identity's signature over the list does not verify (strict Ed25519). */
export class DeviceListSignatureError extends DeviceError {
  readonly kind = 'bad_signature';
  override readonly name = 'DeviceListSignatureError';
}

/** More than MAX_DEVICES devices. */
export class TooManyDevicesError extends DeviceError {
  readonly kind = 'too_many_devices';
  override readonly name = 'TooManyDevicesError';
}

/** A device id or device key appears twice. */
export class DuplicateDeviceError extends DeviceError {
  readonly kind = 'duplicate_device';
  override readonly name = 'DuplicateDeviceError';
}

/** The version is not above the one already known: a replayed or out-of-date list. */
export class StaleDeviceListError extends DeviceError {
  readonly kind = 'stale';
  override readonly name = 'StaleDeviceListError';
}

/** A certificate that is not the right fields of the right lengths. */
export class MalformedDeviceCertificateError extends DeviceError {
  readonly kind = 'malformed_certificate';
  override readonly name = 'MalformedDeviceCertificateError';
}

/** A certificate issued for another account than the one expected. */
export class ForeignDeviceCertificateError extends DeviceError {
  readonly kind = 'foreign_certificate';
  override readonly name = 'ForeignDeviceCertificateError';
}

/** The account identity's signature over the certificate does not verify. */
export class DeviceCertificateSignatureError extends DeviceError {
  readonly kind = 'bad_certificate_signature';
  override readonly name = 'DeviceCertificateSignatureError';
}

/** The error for a relay-or-client refusal reason of a device list. */
export function deviceListError(refusal: DeviceListRefusal, detail: string): DeviceError {
  switch (refusal) {
    case 'malformed':
      return new MalformedDeviceListError(detail);
    case 'foreign_account':
      return new ForeignDeviceListError(detail);
    case 'bad_signature':
      return new DeviceListSignatureError(detail);
    case 'too_many_devices':
      return new TooManyDevicesError(detail);
    case 'duplicate_device':
      return new DuplicateDeviceError(detail);
    case 'stale':
      return new StaleDeviceListError(detail);
  }
}
