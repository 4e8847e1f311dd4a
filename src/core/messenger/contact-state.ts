/**
 * What the user's choices about a contact mean for sending and receiving: blocked (nothing
 * goes out, its messages are dropped on arrival), a message request (it wrote to us first
 * and is not accepted yet: no replies, no read receipts), removed (its conversation was
 * deleted: its next message makes it a request again).
 */
import type { ContactRecord } from '../store/index.ts';
import { ContactBlockedError, KeyChangeUnacknowledgedError, MessageRequestPendingError } from './errors.ts';
import { sendBlocked } from './key-change.ts';

/** The name the user sees: their own local name for the contact, else the contact's. */
export function shownName(c: ContactRecord): string {
  return c.localName ?? c.displayName;
}

export function isRequest(c: ContactRecord): boolean {
  return c.listing === 'request';
}

/** Throws the typed reason why nothing may be queued for `c` now, if any. */
export function assertCanSend(c: ContactRecord): void {
  if (sendBlocked(c)) throw new KeyChangeUnacknowledgedError(`${shownName(c)}'s safety number changed: acknowledge it before sending`);
  if (c.blocked) throw new ContactBlockedError(`${shownName(c)} is blocked: unblock them to send`);
  if (isRequest(c) || c.listing === 'removed') throw new MessageRequestPendingError(`accept ${shownName(c) || 'this contact'}'s message request before replying`);
}

/** Read receipts go only to accepted, unblocked contacts whose key the user accepted. */
export function sendsReadReceipts(c: ContactRecord): boolean {
  return !c.blocked && c.listing === undefined && !sendBlocked(c);
}
