/**
 * The group inbox (docs/PROTOCOL.md §17.6): group frames that came over a pairwise session
 * (a log, a distribution, a key request, a receipt), written in the SAME transaction as
 * the envelope's session update and dedup mark, before the envelope is acknowledged. The
 * group parts then take each row and remove it; handling is idempotent, so a crash
 * between handling and removal only handles it once more.
 *
 * The rows live in `meta` (already in the receive transaction, so no schema change), one
 * key each: `groupInbox:` ‖ receive time (15 digits) ‖ `:` ‖ position in the batch (6) ‖
 * `:` ‖ session key. Key order is arrival order.
 */
import { InvalidStoreInputError } from './errors.ts';

export const GROUP_INBOX_PREFIX = 'groupInbox:';
/** The first key after every inbox key (`;` follows `:`). */
export const GROUP_INBOX_END = 'groupInbox;';

export interface GroupInboxRow {
  /** The meta key (remove it once handled). */
  readonly key: string;
  /** The pairwise session the frame came over (account, and device for a multi-device one). */
  readonly sessionKey: string;
  readonly frame: Uint8Array;
}

/** A frame of an incoming commit: its inbox key is made by the batch (`groupInboxKey`). */
export interface NewGroupInboxFrame {
  readonly key: string;
  readonly frame: Uint8Array;
}

export function groupInboxKey(receivedAt: number, position: number, sessionKey: string): string {
  return `${GROUP_INBOX_PREFIX}${String(receivedAt).padStart(15, '0')}:${String(position).padStart(6, '0')}:${sessionKey}`;
}

/** The session key an inbox key names, or undefined when the key is not an inbox key. */
export function sessionKeyOfInboxKey(key: string): string | undefined {
  if (!key.startsWith(GROUP_INBOX_PREFIX)) return undefined;
  const parts = key.slice(GROUP_INBOX_PREFIX.length).split(':');
  return parts.length === 3 && /^[0-9a-f]{64}([0-9a-f]{32})?$/u.test(parts[2]!) ? parts[2] : undefined;
}

export function checkGroupInboxFrame(field: string, f: NewGroupInboxFrame): void {
  if (typeof f.key !== 'string' || sessionKeyOfInboxKey(f.key) === undefined) throw new InvalidStoreInputError(`${field}.key`, 'expected a group inbox key');
  if (!(f.frame instanceof Uint8Array)) throw new InvalidStoreInputError(`${field}.frame`, 'expected bytes');
}
