/**
 * What members of a group send each other (docs/PROTOCOL.md §17.6), besides the signed
 * changes themselves (group-change.ts):
 *
 * Pairwise, inside a member device's Double Ratchet session (so the sender's account and
 * device are authenticated by the session):
 *   group.log     signed changes of one group (a new member gets the whole log, the others
 *                 the new change), with the names the author knows its members by
 *   group.skd     our sender chain for the group (a sender-key distribution, §17.3)
 *   group.keyreq  "I hold a message of your chain `chain` and not its key": the answer is a
 *                 group.skd of the sender's current chain, sent only to a member
 *   group.receipt delivered/read of group messages, member to author
 *
 * To every member device at once (one `send.multi` body):
 *   group.sealed  {tag, box}: the group seal (groups/group-seal.ts) around a group.env, so
 *                 the relay sees neither sender nor group
 *   group.env     {group, from (account), dev (16 bytes, or empty for a single-device
 *                 account), msg: the sender-key message (§17.2)}, only inside the seal
 *
 * and the plaintext inside a sender-key message:
 *   group.msg     {id, ts, text, gv: the group-state version the sender held when it sent}
 *   group.act     {gv, content: a 1:1 content frame (content.ts): a reply, edit, delete or
 *                 react, or a later kind that carries `fallback`}: message actions in a
 *                 group; a member that does not know the content kind shows its fallback
 *
 * Every decoder throws only WireError.
 */
import { MAX_GROUP_CHANGE_BYTES, type SignedGroupChange } from './group-change.ts';
import { IDENTITY_KEY_BYTES, MAX_CONTENT_BYTES, SIGNATURE_BYTES } from './limits.ts';
import { arrayOf, bytesMax, bytesN, oneOf, struct, text, uint32, uintSafe } from './schema.ts';
import { decodeVersioned, encodeVersioned, type DecodeOptions } from './versioned-codec.ts';

/** Changes one group.log frame carries at most (a log longer than this goes in several frames). */
export const MAX_LOG_FRAME_CHANGES = 64;
/** Names one group.log frame carries at most. */
export const MAX_LOG_FRAME_NAMES = 400;
/**
 * Largest group frame: it travels inside a pairwise `group` content (MAX_CONTENT_BYTES), so
 * a log is cut into frames that fit (group-commands.ts) — a 1,000-member create alone is ~35 KB.
 */
export const MAX_GROUP_FRAME_BYTES = MAX_CONTENT_BYTES - 1_024;
/** Largest sender-key message inside a group.env (the plaintext limit and the header, signature and tag). */
const MAX_SENDER_KEY_MESSAGE_BYTES = 64 * 1024;
/** A group id on the wire (16 bytes). */
export const GROUP_ID = bytesN(16);
const MESSAGE_ID = bytesN(16);

export type GroupFrame =
  | { readonly t: 'group.log'; readonly group: Uint8Array; readonly changes: readonly SignedGroupChange[]; readonly names: readonly { readonly ik: Uint8Array; readonly name: string }[] }
  | { readonly t: 'group.skd'; readonly group: Uint8Array; readonly dist: Uint8Array }
  | { readonly t: 'group.keyreq'; readonly group: Uint8Array; readonly chain: number }
  | { readonly t: 'group.receipt'; readonly group: Uint8Array; readonly kind: 'delivered' | 'read'; readonly ids: readonly Uint8Array[] }
  | { readonly t: 'group.sealed'; readonly tag: Uint8Array; readonly box: Uint8Array }
  | { readonly t: 'group.env'; readonly group: Uint8Array; readonly from: Uint8Array; readonly dev: Uint8Array; readonly msg: Uint8Array }
  | { readonly t: 'group.msg'; readonly id: Uint8Array; readonly ts: number; readonly text: string; readonly gv: number }
  | { readonly t: 'group.act'; readonly gv: number; readonly content: Uint8Array };

const signedChange = struct({ body: bytesMax(MAX_GROUP_CHANGE_BYTES), sig: bytesN(SIGNATURE_BYTES) });

const SCHEMAS = {
  'group.log': struct({
    group: GROUP_ID,
    changes: arrayOf(signedChange, MAX_LOG_FRAME_CHANGES),
    names: arrayOf(struct({ ik: bytesN(IDENTITY_KEY_BYTES), name: text(128) }), MAX_LOG_FRAME_NAMES),
  }),
  'group.skd': struct({ group: GROUP_ID, dist: bytesMax(128) }),
  'group.keyreq': struct({ group: GROUP_ID, chain: uint32 }),
  'group.receipt': struct({ group: GROUP_ID, kind: oneOf('delivered', 'read'), ids: arrayOf(MESSAGE_ID, 1_000) }),
  'group.sealed': struct({ tag: bytesN(16), box: bytesMax(MAX_GROUP_FRAME_BYTES - 64) }),
  'group.env': struct({ group: GROUP_ID, from: bytesN(IDENTITY_KEY_BYTES), dev: bytesMax(16), msg: bytesMax(MAX_SENDER_KEY_MESSAGE_BYTES) }),
  'group.msg': struct({ id: MESSAGE_ID, ts: uintSafe, text: text(MAX_SENDER_KEY_MESSAGE_BYTES - 1_024), gv: uintSafe }),
  'group.act': struct({ gv: uintSafe, content: bytesMax(MAX_SENDER_KEY_MESSAGE_BYTES - 1_024) }),
} as const;

type Kind = GroupFrame['t'];

export function encodeGroupFrame(frame: GroupFrame): Uint8Array {
  return encodeVersioned(frame.t, frame, SCHEMAS[frame.t]);
}

/** Decodes an untrusted group frame; `only` limits the kinds accepted (others are a WireError). */
export function decodeGroupFrame(bytes: Uint8Array, only?: readonly Kind[], opts?: DecodeOptions): GroupFrame {
  return decodeVersioned<GroupFrame>(
    bytes,
    MAX_GROUP_FRAME_BYTES,
    (t) => (t in SCHEMAS && (!only || only.includes(t as Kind)) ? SCHEMAS[t as Kind] : undefined),
    opts,
  );
}
