/**
 * The link protocol's pure part (docs/PROTOCOL.md §13.6). An existing device offers a
 * one-time link: a 32-byte secret, valid LINK_TTL_MS = 10 minutes, usable once. Both sides
 * derive from the secret a channel id (where they meet on the relay; the relay sees only
 * that id) and a MAC key. The new device answers with its device id and device key under
 * a MAC; the existing device accepts it at most once, before expiry, and only with a valid
 * MAC, and then signs the new device list. Each refusal is a typed error and changes
 * nothing; accepting returns the next state, which the caller persists BEFORE it signs.
 */
import { bytesEqual, concatBytes, fromBase64Url, toBase64Url, utf8 } from '../bytes.ts';
import { isValidIdentityKey } from '../crypto/identity.ts';
import { hkdfSha256, hmacSha256 } from '../crypto/kdf.ts';
import { SecretBytes } from '../crypto/redacted.ts';
import type { Random } from '../random.ts';
import { DEVICE_ID_BYTES, IDENTITY_KEY_BYTES, type DeviceEntry } from '../wire/index.ts';
import { isDeviceName } from './device-name.ts';
import { ForeignLinkError, LinkExpiredError, LinkTamperedError, LinkUsedError, MalformedLinkError } from './link-errors.ts';

/** How long a link may be used. */
export const LINK_TTL_MS = 10 * 60 * 1000;
export const LINK_SECRET_BYTES = 32;
export const LINK_CHANNEL_BYTES = 16;
export const LINK_MAC_BYTES = 32;
export const LINK_FORMAT_VERSION = 1;
/** The text form: this prefix, then base64url(version ‖ secret ‖ uint64be expiresAt). */
export const LINK_PREFIX = 'petrel-link:';

const KEYS_INFO = utf8('Petrel_Link_v1');
const REQUEST_LABEL = utf8('Petrel_LinkRequest');
const LINK_PAYLOAD_BYTES = 1 + LINK_SECRET_BYTES + 8;

/** What both sides derive from a link secret. */
export interface LinkKeys {
  /** Where the two devices meet on the relay (public). */
  readonly channel: Uint8Array;
  /** Authenticates the new device's request. */
  readonly macKey: SecretBytes;
}

export function deriveLinkKeys(secret: SecretBytes): LinkKeys {
  const okm = hkdfSha256(secret.expose(), new Uint8Array(32), KEYS_INFO, LINK_CHANNEL_BYTES + 32);
  return { channel: okm.slice(0, LINK_CHANNEL_BYTES), macKey: new SecretBytes(okm.slice(LINK_CHANNEL_BYTES)) };
}

/** The existing device's side of one link. */
export type LinkOfferState =
  | { readonly status: 'offered'; readonly secret: SecretBytes; readonly channel: Uint8Array; readonly expiresAt: number }
  | { readonly status: 'used'; readonly channel: Uint8Array; readonly expiresAt: number; readonly device: DeviceEntry };

/** A fresh link offer, valid until now + LINK_TTL_MS. */
export function createLinkOffer(random: Random, now: number): Extract<LinkOfferState, { status: 'offered' }> {
  const secret = new SecretBytes(random.bytes(LINK_SECRET_BYTES));
  return { status: 'offered', secret, channel: deriveLinkKeys(secret).channel, expiresAt: now + LINK_TTL_MS };
}

/** The link text to show (and put in the QR code). It carries the secret: show it only to the user. */
export function formatLink(offer: Extract<LinkOfferState, { status: 'offered' }>): string {
  const payload = new Uint8Array(LINK_PAYLOAD_BYTES);
  payload[0] = LINK_FORMAT_VERSION;
  payload.set(offer.secret.expose(), 1);
  new DataView(payload.buffer).setBigUint64(1 + LINK_SECRET_BYTES, BigInt(offer.expiresAt));
  return LINK_PREFIX + toBase64Url(payload);
}

/** What the new device reads from a link. */
export interface ParsedLink {
  readonly secret: SecretBytes;
  readonly expiresAt: number;
  readonly keys: LinkKeys;
}

/** Reads a link text; MalformedLinkError for anything else, LinkExpiredError past its expiry (by this device's clock). */
export function parseLink(text: string, now: number): ParsedLink {
  if (typeof text !== 'string' || !text.startsWith(LINK_PREFIX)) throw new MalformedLinkError('not a Petrel device link');
  let payload: Uint8Array;
  try {
    payload = fromBase64Url(text.slice(LINK_PREFIX.length).trim());
  } catch {
    throw new MalformedLinkError('the link is not base64url');
  }
  if (payload.length !== LINK_PAYLOAD_BYTES) throw new MalformedLinkError('the link has the wrong length');
  if (payload[0] !== LINK_FORMAT_VERSION) throw new MalformedLinkError(`unknown link version ${payload[0]}`);
  const expiresAt = Number(new DataView(payload.buffer, payload.byteOffset).getBigUint64(1 + LINK_SECRET_BYTES));
  if (!Number.isSafeInteger(expiresAt)) throw new MalformedLinkError('the link has an impossible expiry');
  if (now >= expiresAt) throw new LinkExpiredError('this link has expired; make a new one on your other device');
  const secret = new SecretBytes(payload.slice(1, 1 + LINK_SECRET_BYTES));
  return { secret, expiresAt, keys: deriveLinkKeys(secret) };
}

/** The new device's request: its id and device key, for the channel, under the link's MAC. */
export interface LinkRequest {
  readonly channel: Uint8Array;
  readonly device: DeviceEntry;
  readonly mac: Uint8Array;
}

/** HMAC over label ‖ channel ‖ id ‖ key (fixed lengths) ‖ the name's UTF-8 (last, so unambiguous; none: nothing). */
function requestMac(macKey: SecretBytes, channel: Uint8Array, device: DeviceEntry): Uint8Array {
  return hmacSha256(macKey.expose(), concatBytes(REQUEST_LABEL, channel, device.id, device.key, utf8(device.name ?? '')));
}

export function buildLinkRequest(link: ParsedLink, device: DeviceEntry): LinkRequest {
  return { channel: link.keys.channel, device, mac: requestMac(link.keys.macKey, link.keys.channel, device) };
}

/**
 * The existing device accepts a request, in this order: a request for another link is
 * ForeignLinkError; a used link LinkUsedError; past expiry LinkExpiredError; a request
 * whose fields are not the right lengths or whose MAC does not verify LinkTamperedError.
 * Returns the 'used' state (persist it, then sign the new device list with `device`).
 */
export function acceptLinkRequest(state: LinkOfferState, request: LinkRequest, now: number): Extract<LinkOfferState, { status: 'used' }> {
  if (!(request.channel instanceof Uint8Array) || !bytesEqual(request.channel, state.channel)) throw new ForeignLinkError('this request is for another link');
  if (state.status === 'used') throw new LinkUsedError('this link was already used to link a device');
  if (now >= state.expiresAt) throw new LinkExpiredError('this link has expired');
  const { device, mac } = request;
  const wellFormed =
    device?.id instanceof Uint8Array &&
    device.id.length === DEVICE_ID_BYTES &&
    device.key instanceof Uint8Array &&
    device.key.length === IDENTITY_KEY_BYTES &&
    mac instanceof Uint8Array &&
    mac.length === LINK_MAC_BYTES &&
    (device.name === undefined || isDeviceName(device.name));
  if (!wellFormed) throw new LinkTamperedError('the link request is malformed');
  if (!isValidIdentityKey(device.key)) throw new LinkTamperedError('the device key is not a strict Ed25519 key');
  const { macKey } = deriveLinkKeys(state.secret);
  if (!bytesEqual(requestMac(macKey, state.channel, device), mac)) throw new LinkTamperedError('the link request does not carry this link\'s secret');
  return { status: 'used', channel: state.channel, expiresAt: state.expiresAt, device: { id: device.id.slice(), key: device.key.slice(), ...(device.name !== undefined ? { name: device.name } : {}) } };
}
