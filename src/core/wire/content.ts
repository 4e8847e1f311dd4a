/**
 * Content frames: what travels INSIDE the end-to-end encryption (the plaintext of an
 * envelope body). Same canonical CBOR and defensive decoding as the transport frames,
 * with their own size limit and types; a content frame is never a transport frame.
 */
import { MAX_ACK_IDS, MAX_CONTENT_BYTES, MAX_PROFILE_NAME_BYTES, MAX_RTC_DATA_BYTES, MAX_TEXT_BYTES, MESSAGE_ID_BYTES } from './limits.ts';
import {
  ATTACHMENT_DIGEST_BYTES,
  ATTACHMENT_KEY_BYTES,
  MAX_ATTACHMENT_MIME_BYTES,
  MAX_ATTACHMENT_NAME_BYTES,
  MAX_ATTACHMENT_PLAINTEXT_BYTES,
  MAX_ATTACHMENT_PREVIEW_BYTES,
} from './attachment-layout.ts';
import { BLOB_ID_BYTES } from './blob-request-auth.ts';
import { arrayOf, bytesMax, bytesN, oneOf, struct, text, uintSafe, type StructSchema } from './schema.ts';
import { decodeVersioned, encodeVersioned, type DecodeOptions } from './versioned-codec.ts';
import { WireError } from './wire-error.ts';

/** A chat message. `ts` is the sender's clock in ms since the epoch. */
export interface MsgContent { readonly t: 'msg'; readonly id: Uint8Array; readonly ts: number; readonly text: string }
/** Delivery/read receipts for message ids. */
export interface ReceiptContent { readonly t: 'receipt'; readonly kind: 'delivered' | 'read'; readonly ids: readonly Uint8Array[] }
/** WebRTC signaling payload (SDP or ICE candidate as JSON text), end-to-end encrypted. */
export interface RtcContent { readonly t: 'rtc'; readonly kind: 'offer' | 'answer' | 'ice' | 'bye'; readonly data: string }

/** The sender's display name, sent once when a session starts (the recipient otherwise knows only a key). */
export interface ProfileContent { readonly t: 'profile'; readonly name: string }

/**
 * A file sent as an attachment (docs/PROTOCOL.md §14.6): the message carries what the
 * recipient needs to fetch and open the blob — its relay id, the per-file key, the file's
 * size, the blob's SHA-256 — plus the name and type to show and an optional tiny preview
 * (≤ 2 KiB, e.g. a blurred thumbnail) to show until the file is downloaded. `text` is an
 * optional caption. Like `msg`, it gets delivery and read receipts by `id`.
 */
export interface FileContent {
  readonly t: 'file';
  readonly id: Uint8Array;
  readonly ts: number;
  readonly text?: string;
  readonly blob: Uint8Array;
  readonly key: Uint8Array;
  readonly size: number;
  readonly digest: Uint8Array;
  readonly mime: string;
  readonly name: string;
  readonly preview?: Uint8Array;
}

export type Content = MsgContent | ReceiptContent | RtcContent | ProfileContent | FileContent;
export type ContentType = Content['t'];

export const CONTENT_SCHEMAS: Readonly<Record<ContentType, StructSchema>> = {
  msg: struct({ id: bytesN(MESSAGE_ID_BYTES), ts: uintSafe, text: text(MAX_TEXT_BYTES) }),
  receipt: struct({ kind: oneOf('delivered', 'read'), ids: arrayOf(bytesN(MESSAGE_ID_BYTES), MAX_ACK_IDS) }),
  rtc: struct({ kind: oneOf('offer', 'answer', 'ice', 'bye'), data: text(MAX_RTC_DATA_BYTES) }),
  profile: struct({ name: text(MAX_PROFILE_NAME_BYTES) }),
  file: struct(
    {
      id: bytesN(MESSAGE_ID_BYTES),
      ts: uintSafe,
      text: text(MAX_TEXT_BYTES),
      blob: bytesN(BLOB_ID_BYTES),
      key: bytesN(ATTACHMENT_KEY_BYTES),
      size: { kind: 'uint', max: MAX_ATTACHMENT_PLAINTEXT_BYTES },
      digest: bytesN(ATTACHMENT_DIGEST_BYTES),
      mime: text(MAX_ATTACHMENT_MIME_BYTES),
      name: text(MAX_ATTACHMENT_NAME_BYTES),
      preview: bytesMax(MAX_ATTACHMENT_PREVIEW_BYTES),
    },
    ['text', 'preview'],
  ),
};

function schemaOf(t: string): StructSchema | undefined {
  return Object.hasOwn(CONTENT_SCHEMAS, t) ? CONTENT_SCHEMAS[t as ContentType] : undefined;
}

export function encodeContent(content: Content): Uint8Array {
  const t: unknown = (content as { t?: unknown } | null)?.t;
  const schema = typeof t === 'string' ? schemaOf(t) : undefined;
  if (!schema || typeof t !== 'string') throw new WireError('unknown_type', 'unknown content type');
  return encodeVersioned(t, content, schema);
}

export function decodeContent(bytes: Uint8Array, opts?: DecodeOptions): Content {
  return decodeVersioned<Content>(bytes, MAX_CONTENT_BYTES, (t) => schemaOf(t), opts);
}
