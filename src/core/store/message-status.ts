/**
 * Message status moves forward only: queued → sent → delivered → read. `failed` (retry
 * budget spent) sits beside `queued`; only a manual retry moves failed → queued. A
 * receipt that proves delivery moves a failed message forward too (the bytes did
 * arrive). Anything else — a late `sent` after `delivered`, a receipt replayed — is a
 * no-op, never an error, because transports and receipts race.
 */
export type MessageStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

const RANK: Readonly<Record<MessageStatus, number>> = { queued: 0, failed: 0, sent: 1, delivered: 2, read: 3 };

/** True when `from` → `to` is a forward move (excludes the manual retry failed → queued). */
export function isForwardStatus(from: MessageStatus, to: MessageStatus): boolean {
  if (to === 'failed') return from === 'queued';
  return RANK[to] > RANK[from];
}

export const MESSAGE_STATUSES: readonly MessageStatus[] = ['queued', 'sent', 'delivered', 'read', 'failed'];
