/**
 * Linked devices, as the wire and the relay see them (docs/PROTOCOL.md §13): device ids,
 * device certificates, the signed device list and the per-device mailbox address. The
 * account is its identity key IK; each device has its own Ed25519 device key, and IK
 * signs both the certificate of each device and the list of all of them.
 *
 * The verdict on a signed list is here, once, with the signature check injected: the
 * client passes the core's strict Ed25519 verify, the relay its OpenSSL one (the same
 * strict rule, tests/crypto/ed25519-strict.test.ts), so both refuse exactly the same lists.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesEqual, concatBytes, toHex, utf8 } from '../bytes.ts';
import { IDENTITY_KEY_BYTES, NONCE_BYTES, SIGNATURE_BYTES } from './limits.ts';
import { arrayOf, bytesMax, bytesN, struct, text, uintSafe, uint32 } from './schema.ts';
import { decodeVersioned, encodeVersioned, type DecodeOptions } from './versioned-codec.ts';
import { WireError } from './wire-error.ts';

/** A device id: 16 random bytes, chosen by the device when it is created. */
export const DEVICE_ID_BYTES = 16;
/** Most devices one account may have (the 11th is refused). */
export const MAX_DEVICES = 10;
/**
 * Most entries the device-list decoder reads before refusing the encoding as malformed;
 * a well-formed list longer than MAX_DEVICES decodes and is refused as `too_many_devices`.
 */
export const MAX_DEVICE_LIST_ENTRIES = 64;
/** A device's name (e.g. "Chromium on Linux"): at most this many bytes of UTF-8. */
export const MAX_DEVICE_NAME_BYTES = 64;
/** Largest encoded device-list body (64 entries of ~60 bytes and a full name each fit). */
export const MAX_DEVICE_LIST_BYTES = 12 * 1024;

export const DEVICE_LIST_LABEL = 'Petrel_DeviceList';
export const DEVICE_CERT_LABEL = 'Petrel_DeviceCert';
export const DEVICE_AUTH_LABEL = 'Petrel_DeviceAuth';
export const DEVICE_MAILBOX_LABEL = 'Petrel_DeviceMailbox';

/** One device of an account: its id, its Ed25519 device key (32 bytes) and, when it has one, its name. */
export interface DeviceEntry {
  readonly id: Uint8Array;
  readonly key: Uint8Array;
  /** What the device is called (1..MAX_DEVICE_NAME_BYTES of UTF-8), signed with the list; absent: unnamed. */
  readonly name?: string;
}

/** What the account identity signs: the whole set of its devices at one version. */
export interface DeviceListBody {
  /** The account identity key IK (Ed25519 public, 32 bytes). */
  readonly account: Uint8Array;
  /** Strictly increasing per account; a list is accepted only above the version already known. */
  readonly version: number;
  /** When the list was signed, ms since the epoch (informative: ordering is by `version`). */
  readonly issuedAt: number;
  readonly devices: readonly DeviceEntry[];
}

/** The encoded body exactly as signed, and Ed25519(IK, "Petrel_DeviceList" ‖ body). */
export interface SignedDeviceList {
  readonly body: Uint8Array;
  readonly sig: Uint8Array;
}

/** A device's certificate: Ed25519(IK, "Petrel_DeviceCert" ‖ IK ‖ device id ‖ device key). */
export interface DeviceCertificate {
  readonly account: Uint8Array;
  readonly id: Uint8Array;
  readonly key: Uint8Array;
  readonly sig: Uint8Array;
}

export const deviceEntrySchema = struct({ id: bytesN(DEVICE_ID_BYTES), key: bytesN(IDENTITY_KEY_BYTES), name: text(MAX_DEVICE_NAME_BYTES) }, ['name']);
const deviceListBodySchema = struct({
  account: bytesN(IDENTITY_KEY_BYTES),
  version: uint32,
  issuedAt: uintSafe,
  devices: arrayOf(deviceEntrySchema, MAX_DEVICE_LIST_ENTRIES),
});
export const signedDeviceListSchema = struct({ body: bytesMax(MAX_DEVICE_LIST_BYTES), sig: bytesN(SIGNATURE_BYTES) });
export const deviceCertificateSchema = struct({
  account: bytesN(IDENTITY_KEY_BYTES),
  id: bytesN(DEVICE_ID_BYTES),
  key: bytesN(IDENTITY_KEY_BYTES),
  sig: bytesN(SIGNATURE_BYTES),
});

const DEVICE_LIST_TYPE = 'devices';

/** Canonical CBOR of a device-list body (`{v: 1, t: "devices", ...}`); WireError for a malformed one. */
export function encodeDeviceListBody(body: DeviceListBody): Uint8Array {
  return encodeVersioned(DEVICE_LIST_TYPE, body, deviceListBodySchema);
}

/** Decodes an untrusted device-list body; throws only WireError. */
export function decodeDeviceListBody(bytes: Uint8Array, opts?: DecodeOptions): DeviceListBody {
  const decoded = decodeVersioned<DeviceListBody & { t: string }>(bytes, MAX_DEVICE_LIST_BYTES, (t) => (t === DEVICE_LIST_TYPE ? deviceListBodySchema : undefined), opts);
  const { t: _t, ...body } = decoded;
  return body;
}

/** The bytes IK signs for a device list: "Petrel_DeviceList" ‖ encoded body. */
export function deviceListSignaturePayload(body: Uint8Array): Uint8Array {
  return concatBytes(utf8(DEVICE_LIST_LABEL), body);
}

/** The bytes IK signs for a device certificate: "Petrel_DeviceCert" ‖ IK ‖ device id ‖ device key (fixed lengths). */
export function deviceCertificatePayload(account: Uint8Array, deviceId: Uint8Array, deviceKey: Uint8Array): Uint8Array {
  checkLength(account, IDENTITY_KEY_BYTES, 'account');
  checkLength(deviceId, DEVICE_ID_BYTES, 'id');
  checkLength(deviceKey, IDENTITY_KEY_BYTES, 'key');
  return concatBytes(utf8(DEVICE_CERT_LABEL), account, deviceId, deviceKey);
}

/** The bytes a device signs with its device key to answer a relay challenge: "Petrel_DeviceAuth" ‖ nonce. */
export function deviceAuthPayload(nonce: Uint8Array): Uint8Array {
  checkLength(nonce, NONCE_BYTES, 'nonce');
  return concatBytes(utf8(DEVICE_AUTH_LABEL), nonce);
}

/** A device's own mailbox: SHA-256("Petrel_DeviceMailbox" ‖ IK ‖ device id). Anyone holding the device list can compute it. */
export function deviceMailboxAddress(account: Uint8Array, deviceId: Uint8Array): Uint8Array {
  checkLength(account, IDENTITY_KEY_BYTES, 'account');
  checkLength(deviceId, DEVICE_ID_BYTES, 'id');
  return sha256(concatBytes(utf8(DEVICE_MAILBOX_LABEL), account, deviceId));
}

function checkLength(b: Uint8Array, n: number, field: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new WireError('invalid_field', `${field} must be ${n} bytes`, field);
}

/** Why a device list is refused; each is its own error in the core and its own metric label at the relay. */
export type DeviceListRefusal = 'malformed' | 'foreign_account' | 'bad_signature' | 'too_many_devices' | 'duplicate_device' | 'stale';

export type DeviceListVerdict = { readonly ok: true; readonly list: DeviceListBody } | { readonly ok: false; readonly refusal: DeviceListRefusal; readonly detail: string };

/** An Ed25519 verification by Petrel's strict rule (the core's or the relay's). */
export type StrictVerify = (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;

export interface DeviceListExpectation {
  /** The account identity the list must belong to (and be signed by). */
  readonly account: Uint8Array;
  /** The version already held for this account; the list must be above it. Absent: none held. */
  readonly knownVersion?: number;
}

/**
 * The one verdict on a signed device list, cheapest check first and the signature before
 * anything else in the body is believed: a body that does not decode is `malformed`; one
 * naming another account is `foreign_account`; a signature that does not verify under the
 * expected IK is `bad_signature`; then more than MAX_DEVICES devices, a device id or
 * device key listed twice, and a version not above the known one (`stale`).
 */
export function judgeDeviceList(signed: SignedDeviceList, expected: DeviceListExpectation, verify: StrictVerify): DeviceListVerdict {
  if (!(signed?.body instanceof Uint8Array) || !(signed.sig instanceof Uint8Array) || signed.sig.length !== SIGNATURE_BYTES) {
    return refuse('malformed', 'a signed device list is a body and a 64-byte signature');
  }
  let list: DeviceListBody;
  try {
    list = decodeDeviceListBody(signed.body);
  } catch (err) {
    return refuse('malformed', err instanceof WireError ? err.message : 'undecodable device list');
  }
  if (!bytesEqual(list.account, expected.account)) return refuse('foreign_account', 'the list names another account');
  if (!verify(expected.account, deviceListSignaturePayload(signed.body), signed.sig)) return refuse('bad_signature', 'the account identity did not sign this list');
  if (list.devices.length > MAX_DEVICES) return refuse('too_many_devices', `${list.devices.length} devices; at most ${MAX_DEVICES}`);
  const duplicate = firstDuplicateDevice(list.devices);
  if (duplicate !== undefined) return refuse('duplicate_device', `device ${duplicate} is listed twice`);
  if (expected.knownVersion !== undefined && list.version <= expected.knownVersion) {
    return refuse('stale', `version ${list.version} is not above the known ${expected.knownVersion}`);
  }
  return { ok: true, list };
}

/** The index of the first entry whose id or key an earlier entry already has, or undefined. */
export function firstDuplicateDevice(devices: readonly DeviceEntry[]): number | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < devices.length; i++) {
    const id = `i${toHex(devices[i]!.id)}`;
    const key = `k${toHex(devices[i]!.key)}`;
    if (seen.has(id) || seen.has(key)) return i;
    seen.add(id);
    seen.add(key);
  }
  return undefined;
}

/** The entry for `deviceId` in `list`, or undefined (an unlinked or unknown device). */
export function findDevice(list: DeviceListBody, deviceId: Uint8Array): DeviceEntry | undefined {
  return list.devices.find((d) => bytesEqual(d.id, deviceId));
}

function refuse(refusal: DeviceListRefusal, detail: string): DeviceListVerdict {
  return { ok: false, refusal, detail };
}
