/**
 * Content frames: what travels INSIDE the end-to-end encryption (the plaintext of an
 * envelope body). Same canonical CBOR and defensive decoding as the transport frames,
 * with their own size limit and types; a content frame is never a transport frame.
 */
import {
  IDENTITY_KEY_BYTES,
  MAX_ACK_IDS,
  MAX_CONTENT_BYTES,
  MAX_FALLBACK_BYTES,
  MAX_PROFILE_NAME_BYTES,
  MAX_QUOTE_BYTES,
  MAX_REACTION_BYTES,
  MAX_RTC_DATA_BYTES,
  MAX_TEXT_BYTES,
  MESSAGE_ID_BYTES,
} from './limits.ts';
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

/**
 * Message actions (docs/PROTOCOL.md §11.2). Each is self-contained: it names its target by
 * message id only (`to`), so it means the same wherever it arrives (the contact's device, or
 * later one of our own devices). Each carries `fallback`: plain text a client that does not
 * know the kind shows instead (the forward-compatibility rule of §11.2). `id` is the
 * action's own id (its idempotency key), `ts` the sender's clock.
 */
/** A message that quotes another: `to` is the quoted message's id, `quote` a short excerpt of it. */
export interface ReplyContent {
  readonly t: 'reply';
  readonly id: Uint8Array;
  readonly ts: number;
  readonly text: string;
  readonly to: Uint8Array;
  readonly quote: string;
  readonly fallback: string;
}
/** The sender's new text for their own message `to`. */
export interface EditContent { readonly t: 'edit'; readonly id: Uint8Array; readonly ts: number; readonly to: Uint8Array; readonly text: string; readonly fallback: string }
/** The sender deletes their own message `to` for everyone. */
export interface DeleteContent { readonly t: 'delete'; readonly id: Uint8Array; readonly ts: number; readonly to: Uint8Array; readonly fallback: string }
/** The sender's reaction to message `to` (one emoji; empty = their reaction is removed). */
export interface ReactContent { readonly t: 'react'; readonly id: Uint8Array; readonly ts: number; readonly to: Uint8Array; readonly emoji: string; readonly fallback: string }

/**
 * A content kind this version does not know, decoded by its common fields only because it
 * carries a `fallback` text (§11.2): shown as a plain message. Never encoded.
 */
export interface FallbackContent { readonly t: 'fallback'; readonly kind: string; readonly id: Uint8Array; readonly ts: number; readonly text: string }

/**
 * A "sent transcript" (docs/PROTOCOL.md §13.5): what one device of an account sent to a
 * contact, for the account's other devices. `to` is the contact's identity key and
 * `content` the encoded `msg`, `file` or `reply` content exactly as the contact got it.
 */
export interface SentContent { readonly t: 'sent'; readonly to: Uint8Array; readonly content: Uint8Array }

/**
 * Read on another device of the account (docs/PROTOCOL.md §13.5): these incoming messages
 * of the conversation with `to` (the contact's identity key) were read there.
 */
export interface SeenContent { readonly t: 'seen'; readonly to: Uint8Array; readonly ids: readonly Uint8Array[] }

/**
 * A group frame between member devices (docs/PROTOCOL.md §17.6: a group's changes, a sender
 * key, a key request, a group receipt), opaque here: `group-content.ts` decodes it.
 */
export interface GroupFrameContent { readonly t: 'group'; readonly frame: Uint8Array }

/** What this version can send. */
export type SendableContent = MsgContent | ReceiptContent | RtcContent | ProfileContent | FileContent | ReplyContent | EditContent | DeleteContent | ReactContent | SentContent | SeenContent | GroupFrameContent;
export type Content = SendableContent | FallbackContent;
export type ContentType = SendableContent['t'];
/** The message actions (they change another message, and carry a fallback). */
export type ActionContent = EditContent | DeleteContent | ReactContent;

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
  reply: struct({
    id: bytesN(MESSAGE_ID_BYTES),
    ts: uintSafe,
    text: text(MAX_TEXT_BYTES),
    to: bytesN(MESSAGE_ID_BYTES),
    quote: text(MAX_QUOTE_BYTES),
    fallback: text(MAX_FALLBACK_BYTES),
  }),
  edit: struct({ id: bytesN(MESSAGE_ID_BYTES), ts: uintSafe, to: bytesN(MESSAGE_ID_BYTES), text: text(MAX_TEXT_BYTES), fallback: text(MAX_FALLBACK_BYTES) }),
  delete: struct({ id: bytesN(MESSAGE_ID_BYTES), ts: uintSafe, to: bytesN(MESSAGE_ID_BYTES), fallback: text(MAX_FALLBACK_BYTES) }),
  react: struct({ id: bytesN(MESSAGE_ID_BYTES), ts: uintSafe, to: bytesN(MESSAGE_ID_BYTES), emoji: text(MAX_REACTION_BYTES), fallback: text(MAX_FALLBACK_BYTES) }),
  sent: struct({ to: bytesN(IDENTITY_KEY_BYTES), content: bytesMax(MAX_CONTENT_BYTES - 256) }),
  seen: struct({ to: bytesN(IDENTITY_KEY_BYTES), ids: arrayOf(bytesN(MESSAGE_ID_BYTES), MAX_ACK_IDS) }),
  group: struct({ frame: bytesMax(MAX_CONTENT_BYTES - 256) }),
};

/**
 * How this version reads a kind it does not know that carries `fallback` (§11.2): its
 * `id`, `ts` and `fallback` are checked as usual; every other field is skipped.
 */
const FALLBACK_SCHEMA: StructSchema = { ...struct({ id: bytesN(MESSAGE_ID_BYTES), ts: uintSafe, fallback: text(MAX_FALLBACK_BYTES) }), open: true };

function schemaOf(t: string): StructSchema | undefined {
  return Object.hasOwn(CONTENT_SCHEMAS, t) ? CONTENT_SCHEMAS[t as ContentType] : undefined;
}

export function encodeContent(content: SendableContent): Uint8Array {
  const t: unknown = (content as { t?: unknown } | null)?.t;
  const schema = typeof t === 'string' ? schemaOf(t) : undefined;
  if (!schema || typeof t !== 'string') throw new WireError('unknown_type', 'unknown content type');
  return encodeVersioned(t, content, schema);
}

export function decodeContent(bytes: Uint8Array, opts?: DecodeOptions): Content {
  const decoded = decodeVersioned<SendableContent | { readonly t: string; readonly id: Uint8Array; readonly ts: number; readonly fallback: string }>(
    bytes,
    MAX_CONTENT_BYTES,
    (t, fields) => schemaOf(t) ?? (fields.has('fallback') ? FALLBACK_SCHEMA : undefined),
    opts,
  );
  if (schemaOf(decoded.t)) return decoded as SendableContent;
  const unknown = decoded as { readonly t: string; readonly id: Uint8Array; readonly ts: number; readonly fallback: string };
  return { t: 'fallback', kind: unknown.t, id: unknown.id, ts: unknown.ts, text: unknown.fallback };
}
