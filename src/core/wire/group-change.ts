/**
 * A change to a group's state, as members exchange it (docs/PROTOCOL.md §16.4). The author
 * signs the body with its account identity key; the signed change travels end-to-end
 * encrypted (inside pairwise or group messages), so the relay never sees it.
 *
 *   body = canonical CBOR {v: 1, t: "group.change", group: bytes16, version: uint32,
 *          parent: bytes32, author: bytes32, issuedAt: uint, op, name?, members?}
 *   sig  = Ed25519(author IK, "Petrel_GroupChange" ‖ body)
 *   id   = SHA-256("Petrel_GroupChangeId" ‖ body)
 *
 * `parent` is the id of the change this one follows (32 zero bytes for `create`, which is
 * version 0); `version` is the parent's plus one.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from '../bytes.ts';
import { IDENTITY_KEY_BYTES, SIGNATURE_BYTES } from './limits.ts';
import { arrayOf, bytesMax, bytesN, oneOf, struct, text, uint32, uintSafe } from './schema.ts';
import { decodeVersioned, encodeVersioned, type DecodeOptions } from './versioned-codec.ts';

export const GROUP_CHANGE_ID_BYTES = 32;
export const GROUP_NAME_MAX_BYTES = 128;
/** Members one change may name (a create or an add of a whole 1,000-member group). */
export const MAX_CHANGE_MEMBERS = 1_000;
/** Largest encoded change body: 1,000 members of 34 bytes and the rest. */
export const MAX_GROUP_CHANGE_BYTES = 40 * 1024;

export const GROUP_CHANGE_LABEL = 'Petrel_GroupChange';
export const GROUP_CHANGE_ID_LABEL = 'Petrel_GroupChangeId';

export type GroupOp = 'create' | 'add' | 'remove' | 'leave' | 'rename' | 'promote' | 'demote';
export const GROUP_OPS: readonly GroupOp[] = ['create', 'add', 'remove', 'leave', 'rename', 'promote', 'demote'];

export interface GroupChangeBody {
  readonly group: Uint8Array;
  readonly version: number;
  readonly parent: Uint8Array;
  /** The author's account identity key. */
  readonly author: Uint8Array;
  readonly issuedAt: number;
  readonly op: GroupOp;
  /** `create` and `rename`: the group's name. */
  readonly name?: string;
  /** `create`: every member (the author included); `add`: the new ones; `remove`, `promote`, `demote`: exactly one. */
  readonly members?: readonly Uint8Array[];
}

export interface SignedGroupChange {
  readonly body: Uint8Array;
  readonly sig: Uint8Array;
}

const GROUP_CHANGE_TYPE = 'group.change';

const groupChangeBodySchema = struct(
  {
    group: bytesN(16),
    version: uint32,
    parent: bytesN(GROUP_CHANGE_ID_BYTES),
    author: bytesN(IDENTITY_KEY_BYTES),
    issuedAt: uintSafe,
    op: oneOf(...GROUP_OPS),
    name: text(GROUP_NAME_MAX_BYTES),
    members: arrayOf(bytesN(IDENTITY_KEY_BYTES), MAX_CHANGE_MEMBERS),
  },
  ['name', 'members'],
);

export const signedGroupChangeSchema = struct({ body: bytesMax(MAX_GROUP_CHANGE_BYTES), sig: bytesN(SIGNATURE_BYTES) });

export function encodeGroupChangeBody(body: GroupChangeBody): Uint8Array {
  return encodeVersioned(GROUP_CHANGE_TYPE, body, groupChangeBodySchema);
}

/** Decodes an untrusted change body; throws only WireError. */
export function decodeGroupChangeBody(bytes: Uint8Array, opts?: DecodeOptions): GroupChangeBody {
  const decoded = decodeVersioned<GroupChangeBody & { t: string }>(bytes, MAX_GROUP_CHANGE_BYTES, (t) => (t === GROUP_CHANGE_TYPE ? groupChangeBodySchema : undefined), opts);
  const { t: _t, ...body } = decoded;
  return body;
}

/** What the author signs: "Petrel_GroupChange" ‖ body. */
export function groupChangeSignaturePayload(body: Uint8Array): Uint8Array {
  return concatBytes(utf8(GROUP_CHANGE_LABEL), body);
}

/** The change's id: SHA-256("Petrel_GroupChangeId" ‖ body). */
export function groupChangeId(body: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8(GROUP_CHANGE_ID_LABEL), body));
}
