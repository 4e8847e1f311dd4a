/**
 * What the two devices say to each other inside a link channel's `link.data` frames
 * (docs/PROTOCOL.md §13.6). The relay carries these bytes opaquely; each end decodes them
 * here (canonical CBOR, the frame codec's rules; the decoder throws only WireError):
 *
 *   new → existing   link.request {dev: {id, key, name?}, mac}   the request under the link's MAC
 *   existing → new   link.start   {eph}                   the transfer's ephemeral X25519 key
 *   existing → new   link.chunk   {seq, last, box}        one sealed transfer chunk
 *   existing → new   link.refused {why}                   the request was refused (nothing changed)
 *
 * The channel id is in the frame (`ch`), so it is not repeated here.
 */
import { DEVICE_ID_BYTES, MAX_DEVICE_NAME_BYTES } from './device-list.ts';
import { IDENTITY_KEY_BYTES, MAX_LINK_DATA_BYTES, X25519_PUBLIC_KEY_BYTES } from './limits.ts';
import { bool, bytesMax, bytesN, oneOf, struct, text, uint32, type StructSchema } from './schema.ts';
import { decodeVersioned, encodeVersioned, type DecodeOptions } from './versioned-codec.ts';

/** Why the existing device refused a request: the link errors' kinds, and a full device list. */
export const LINK_REFUSALS = ['link_expired', 'link_used', 'link_tampered', 'foreign_link', 'too_many_devices', 'failed'] as const;
export type LinkRefusal = (typeof LINK_REFUSALS)[number];

export type LinkChannelMessage =
  | { readonly t: 'link.request'; readonly dev: { readonly id: Uint8Array; readonly key: Uint8Array; readonly name?: string }; readonly mac: Uint8Array }
  | { readonly t: 'link.start'; readonly eph: Uint8Array }
  | { readonly t: 'link.chunk'; readonly seq: number; readonly last: boolean; readonly box: Uint8Array }
  | { readonly t: 'link.refused'; readonly why: LinkRefusal };

const SCHEMAS: Readonly<Record<LinkChannelMessage['t'], StructSchema>> = {
  'link.request': struct({ dev: struct({ id: bytesN(DEVICE_ID_BYTES), key: bytesN(IDENTITY_KEY_BYTES), name: text(MAX_DEVICE_NAME_BYTES) }, ['name']), mac: bytesN(32) }),
  'link.start': struct({ eph: bytesN(X25519_PUBLIC_KEY_BYTES) }),
  'link.chunk': struct({ seq: uint32, last: bool, box: bytesMax(MAX_LINK_DATA_BYTES - 64) }),
  'link.refused': struct({ why: oneOf(...LINK_REFUSALS) }),
};

export function encodeLinkChannelMessage(message: LinkChannelMessage): Uint8Array {
  return encodeVersioned(message.t, message, SCHEMAS[message.t]);
}

export function decodeLinkChannelMessage(bytes: Uint8Array, opts?: DecodeOptions): LinkChannelMessage {
  return decodeVersioned<LinkChannelMessage>(bytes, MAX_LINK_DATA_BYTES, (t) => (Object.hasOwn(SCHEMAS, t) ? SCHEMAS[t as LinkChannelMessage['t']] : undefined), opts);
}
