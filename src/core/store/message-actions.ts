/**
 * The rules of message actions (edit, delete for everyone, react; docs/PROTOCOL.md §11.2),
 * as one pure function over a stored message row. The messenger judges an action with it
 * before sending or committing (to refuse it with a typed error and count it), and the
 * store applies it again inside the commit's transaction, on the row as committed, so a
 * race between two batches can never let a forbidden change through.
 */
import type { MessageRecord, Reaction } from './records.ts';

/** Who did it: 'me' (this account) or the contact id of the sender. */
export type ActionAuthor = string;
export const ME: ActionAuthor = 'me';

/** How long after sending a message its author may edit or delete it (sender's clock). */
export const ACTION_WINDOW_MS = 24 * 60 * 60 * 1000;
/** An action dated this far beyond the receiver's clock (or before its target) is still accepted: clocks disagree. */
export const CLOCK_SKEW_MS = 10 * 60 * 1000;
/** Most edits one message can have. */
export const MAX_EDITS = 10;

export type MessageAction =
  | { readonly kind: 'edit'; readonly id: string; readonly target: string; readonly by: ActionAuthor; readonly at: number; readonly text: string }
  | { readonly kind: 'delete'; readonly id: string; readonly target: string; readonly by: ActionAuthor; readonly at: number }
  | { readonly kind: 'react'; readonly id: string; readonly target: string; readonly by: ActionAuthor; readonly at: number; readonly emoji: string };

/**
 * Why an action is refused:
 *   not_author     an edit or delete of a message its sender did not write
 *   not_in_chat    a reaction to a message of another conversation
 *   too_late       more than 24 h after the message was sent (or dated before it)
 *   from_future    dated more than the skew tolerance beyond the receiver's clock
 *   too_many_edits the message has its 10 edits
 *   deleted        the message was deleted for everyone
 */
export type ActionRefusal = 'not_author' | 'not_in_chat' | 'too_late' | 'from_future' | 'too_many_edits' | 'deleted';

export type ActionVerdict =
  | { readonly ok: true; readonly row: MessageRecord; readonly changed: boolean }
  | { readonly ok: false; readonly reason: ActionRefusal };

/** The text a message deleted for everyone shows. */
export const DELETED_TEXT = 'This message was deleted';

/**
 * Whether `by` wrote `row` (ours: outgoing; a contact's: incoming from them in their
 * conversation; a group member's: incoming from them in the group `chat`). A line about the
 * conversation (`system`) has no author.
 */
function authored(row: MessageRecord, by: ActionAuthor, chat: string): boolean {
  if (row.system) return false;
  if (by === ME) return row.direction === 'out';
  return row.direction === 'in' && row.contactId === chat && (row.senderId ?? chat) === by;
}

/**
 * `row` after `action` at `now` (the receiver's or sender's clock), or why it is refused. Never throws.
 * `chat`: the conversation the action came in — the sender's own (1:1, the default) or a
 * group's id (then `by` is the member's account id).
 */
export function judgeAction(row: MessageRecord, action: MessageAction, now: number, chat: string = action.by): ActionVerdict {
  if (action.at > now + CLOCK_SKEW_MS) return { ok: false, reason: 'from_future' };
  if (action.kind === 'react') {
    if (row.system || (action.by !== ME && row.contactId !== chat)) return { ok: false, reason: 'not_in_chat' };
    if (row.deleted) return { ok: false, reason: 'deleted' };
    const others = (row.reactions ?? []).filter((r) => r.by !== action.by);
    const mine = (row.reactions ?? []).find((r) => r.by === action.by);
    // A late copy of an older reaction never replaces a newer one.
    if (mine && mine.at > action.at) return { ok: true, row, changed: false };
    if (mine?.emoji === action.emoji || (!mine && !action.emoji)) return { ok: true, row, changed: false };
    const reactions: Reaction[] = action.emoji ? [...others, { by: action.by, emoji: action.emoji, at: action.at }] : others;
    const { reactions: _old, ...rest } = row;
    return { ok: true, row: { ...rest, ...(reactions.length ? { reactions } : {}), updatedAt: Math.max(row.updatedAt, now) }, changed: true };
  }
  if (!authored(row, action.by, chat)) return { ok: false, reason: 'not_author' };
  if (action.at < row.sentAt - CLOCK_SKEW_MS || action.at > row.sentAt + ACTION_WINDOW_MS) return { ok: false, reason: 'too_late' };
  if (action.kind === 'delete') {
    if (row.deleted) return { ok: true, row, changed: false };
    const { attachment: _a, quote: _q, versions: _v, reactions: _r, ...rest } = row;
    return { ok: true, row: { ...rest, body: '', deleted: true, updatedAt: Math.max(row.updatedAt, now) }, changed: true };
  }
  if (row.deleted) return { ok: false, reason: 'deleted' };
  const versions = row.versions ?? [{ text: row.body, at: row.sentAt }];
  if (versions.some((v) => v.editId === action.id)) return { ok: true, row, changed: false };
  if (versions.length > MAX_EDITS) return { ok: false, reason: 'too_many_edits' };
  // Edits that arrive out of order take their place by the sender's clock; the newest is the text.
  const next = [...versions, { text: action.text, at: Math.max(action.at, row.sentAt), editId: action.id }].sort((a, b) => a.at - b.at);
  return { ok: true, row: { ...row, body: next[next.length - 1]!.text, versions: next, updatedAt: Math.max(row.updatedAt, now) }, changed: true };
}
