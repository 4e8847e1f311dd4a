/**
 * What a device link carries (docs/PROTOCOL.md §13.6), one record per sealed chunk: the
 * account first (identity seed, name, the signed device list that names the new device),
 * then contacts, the groups we are in (each group's log as the `group.log` frames a member
 * device gets over its pairwise session), history in records that each fit one chunk (each
 * conversation's, then each group's), then `link.end` with the totals, so a transfer cut short is never taken for a whole one. Canonical CBOR with the
 * frame codec's rules; the decoder throws only WireError.
 */
import { IDENTITY_KEY_BYTES, MAX_PROFILE_NAME_BYTES, MAX_TEXT_BYTES, MESSAGE_ID_BYTES } from './limits.ts';
import { signedDeviceListSchema, type SignedDeviceList } from './device-list.ts';
import { GROUP_ID, MAX_GROUP_FRAME_BYTES } from './group-content.ts';
import { arrayOf, bool, bytesMax, bytesN, oneOf, struct, text, uintSafe, type StructSchema } from './schema.ts';
import { decodeVersioned, encodeVersioned, type DecodeOptions } from './versioned-codec.ts';

/** Largest record (the link channel's chunk size, `MAX_LINK_CHUNK_BYTES`). */
export const MAX_LINK_RECORD_BYTES = 64 * 1024;
/** Most contacts or messages in one record. */
export const MAX_LINK_RECORD_ITEMS = 256;

export interface LinkAccountRecord {
  readonly t: 'link.account';
  readonly seed: Uint8Array;
  readonly name: string;
  readonly list: SignedDeviceList;
  /** The account's settings as short text pairs (messenger/account-settings.ts); absent when none are set. */
  readonly settings?: readonly LinkSetting[];
}
export interface LinkSetting {
  readonly k: string;
  readonly v: string;
}
/** Most settings in a link, and their longest key and value (UTF-8 bytes). */
export const MAX_LINK_SETTINGS = 32;
export const MAX_LINK_SETTING_KEY_BYTES = 64;
export const MAX_LINK_SETTING_VALUE_BYTES = 256;
export interface LinkContact {
  readonly ik: Uint8Array;
  readonly name: string;
  readonly verified: boolean;
  readonly addedAt: number;
}
export interface LinkContactsRecord {
  readonly t: 'link.contacts';
  readonly contacts: readonly LinkContact[];
}
export interface LinkMessage {
  readonly id: Uint8Array;
  readonly dir: 'in' | 'out';
  readonly text: string;
  readonly sentAt: number;
  readonly status: 'queued' | 'sent' | 'delivered' | 'read' | 'failed';
}
export interface LinkMessagesRecord {
  readonly t: 'link.messages';
  /** The contact (its identity key) whose conversation these messages are, oldest first. */
  readonly ik: Uint8Array;
  readonly messages: readonly LinkMessage[];
}
/** One `group.log` frame of a group we are in (wire/group-content.ts), as a member device would get it. */
export interface LinkGroupRecord {
  readonly t: 'link.group';
  readonly frame: Uint8Array;
}
/** One message of a group conversation: `from` (the author's identity key) on incoming ones only. */
export interface LinkGroupMessage {
  readonly id: Uint8Array;
  readonly dir: 'in' | 'out';
  readonly from?: Uint8Array;
  readonly text: string;
  readonly sentAt: number;
  readonly status: 'queued' | 'sent' | 'delivered' | 'read' | 'failed';
}
export interface LinkGroupMessagesRecord {
  readonly t: 'link.groupMessages';
  /** The group (its 16-byte id), whose log came before in `link.group` records; messages oldest first. */
  readonly g: Uint8Array;
  readonly messages: readonly LinkGroupMessage[];
}
export interface LinkEndRecord {
  readonly t: 'link.end';
  readonly contacts: number;
  readonly messages: number;
}
export type LinkRecord = LinkAccountRecord | LinkContactsRecord | LinkGroupRecord | LinkMessagesRecord | LinkGroupMessagesRecord | LinkEndRecord;

const SCHEMAS: Readonly<Record<LinkRecord['t'], StructSchema>> = {
  'link.account': struct(
    {
      seed: bytesN(32),
      name: text(MAX_PROFILE_NAME_BYTES),
      list: signedDeviceListSchema,
      settings: arrayOf(struct({ k: text(MAX_LINK_SETTING_KEY_BYTES), v: text(MAX_LINK_SETTING_VALUE_BYTES) }), MAX_LINK_SETTINGS),
    },
    ['settings'],
  ),
  'link.contacts': struct({
    contacts: arrayOf(struct({ ik: bytesN(IDENTITY_KEY_BYTES), name: text(MAX_PROFILE_NAME_BYTES), verified: bool, addedAt: uintSafe }), MAX_LINK_RECORD_ITEMS),
  }),
  'link.messages': struct({
    ik: bytesN(IDENTITY_KEY_BYTES),
    messages: arrayOf(
      struct({ id: bytesN(MESSAGE_ID_BYTES), dir: oneOf('in', 'out'), text: text(MAX_TEXT_BYTES), sentAt: uintSafe, status: oneOf('queued', 'sent', 'delivered', 'read', 'failed') }),
      MAX_LINK_RECORD_ITEMS,
    ),
  }),
  'link.group': struct({ frame: bytesMax(MAX_GROUP_FRAME_BYTES) }),
  'link.groupMessages': struct({
    g: GROUP_ID,
    messages: arrayOf(
      struct(
        {
          id: bytesN(MESSAGE_ID_BYTES),
          dir: oneOf('in', 'out'),
          from: bytesN(IDENTITY_KEY_BYTES),
          text: text(MAX_TEXT_BYTES),
          sentAt: uintSafe,
          status: oneOf('queued', 'sent', 'delivered', 'read', 'failed'),
        },
        ['from'],
      ),
      MAX_LINK_RECORD_ITEMS,
    ),
  }),
  'link.end': struct({ contacts: uintSafe, messages: uintSafe }),
};

/** Encodes a record; WireError for a malformed one, RangeError for one that does not fit a chunk. */
export function encodeLinkRecord(record: LinkRecord): Uint8Array {
  const bytes = encodeVersioned(record.t, record, SCHEMAS[record.t]);
  if (bytes.length > MAX_LINK_RECORD_BYTES) throw new RangeError(`a link record is at most ${MAX_LINK_RECORD_BYTES} bytes`);
  return bytes;
}

export function decodeLinkRecord(bytes: Uint8Array, opts?: DecodeOptions): LinkRecord {
  return decodeVersioned<LinkRecord>(bytes, MAX_LINK_RECORD_BYTES, (t) => (Object.hasOwn(SCHEMAS, t) ? SCHEMAS[t as LinkRecord['t']] : undefined), opts);
}

/**
 * One conversation's history as records that each fit a chunk: messages in order, packed
 * greedily (a full-size message, 16 KiB of text, always fits on its own).
 */
export function historyRecords(ik: Uint8Array, messages: readonly LinkMessage[]): LinkMessagesRecord[] {
  return packed(messages, (list) => ({ t: 'link.messages', ik, messages: list }));
}

/** One group's history (`g`: its id) as records that each fit a chunk, packed as `historyRecords`. */
export function groupHistoryRecords(g: Uint8Array, messages: readonly LinkGroupMessage[]): LinkGroupMessagesRecord[] {
  return packed(messages, (list) => ({ t: 'link.groupMessages', g, messages: list }));
}

/**
 * Items packed greedily into records made by `make`, each within the item and byte limits.
 * Each item is measured once: its size in a record of one, less the empty record's, plus a
 * margin for the array header growing.
 */
function packed<M, R extends LinkMessagesRecord | LinkGroupMessagesRecord>(items: readonly M[], make: (list: M[]) => R): R[] {
  const size = (list: M[]) => { const r = make(list); return encodeVersioned(r.t, r, SCHEMAS[r.t]).length; };
  const empty = size([]);
  const base = empty + ARRAY_HEADER_MARGIN;
  const out: R[] = [];
  let batch: M[] = [];
  let bytes = base;
  for (const m of items) {
    const own = size([m]) - empty;
    if (batch.length && (batch.length >= MAX_LINK_RECORD_ITEMS || bytes + own > MAX_LINK_RECORD_BYTES)) {
      out.push(make(batch));
      batch = [];
      bytes = base;
    }
    batch.push(m);
    bytes += own;
  }
  if (batch.length) out.push(make(batch));
  return out;
}

/** A CBOR array header is 1 byte up to 23 items and 3 up to 65535: the most it grows by. */
const ARRAY_HEADER_MARGIN = 2;
