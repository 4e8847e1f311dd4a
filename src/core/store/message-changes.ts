/**
 * Changes to stored messages after they were written: an action (edit, delete for everyone,
 * reaction) applied to its row, with the conversation's preview following it; and delete
 * for me. Used inside the send, receive and local-delete transactions.
 */
import type { BackendTx } from './backend.ts';
import { DELETED_TEXT } from './message-actions.ts';
import type { ConversationRecord, MessageRecord } from './records.ts';

/** The conversation after `row` changed: its preview follows when it shows that message. */
export function previewAfterChange(conv: ConversationRecord | undefined, row: MessageRecord): ConversationRecord | undefined {
  if (!conv?.lastMessage || conv.lastMessage.messageId !== row.id) return undefined;
  const text = row.deleted ? DELETED_TEXT : row.body;
  if (conv.lastMessage.text === text) return undefined;
  return { ...conv, lastMessage: { ...conv.lastMessage, text } };
}

/** Delete for me: the row goes; the conversation's preview and unread count follow. */
export async function applyLocalDelete(tx: BackendTx, messageId: string): Promise<boolean> {
  const messages = tx.table('messages');
  const conversations = tx.table('conversations');
  const row = await messages.get(messageId);
  if (!row) return false;
  const conv = await conversations.get(row.contactId);
  const writes: Promise<void>[] = [messages.delete(messageId)];
  if (conv) {
    const wasUnread = row.direction === 'in' && row.status !== 'read' && conv.unread > 0;
    const { lastMessage, ...rest } = conv;
    const next: ConversationRecord = {
      ...(lastMessage?.messageId === messageId ? rest : conv),
      unread: wasUnread ? conv.unread - 1 : conv.unread,
    };
    writes.push(conversations.put(next));
  }
  await Promise.all(writes);
  return true;
}

/** Most later rows of the conversation searched for replies quoting a deleted message. */
export const QUOTE_SCAN_LIMIT = 1_000;

/**
 * Delete for everyone removes the text everywhere, including the excerpts replies quoted:
 * the replies after `deleted` in its conversation (the newest QUOTE_SCAN_LIMIT of them)
 * keep the quote's id, with its text emptied. Runs in the delete's transaction.
 */
export async function blankQuotesOf(tx: BackendTx, deleted: readonly MessageRecord[]): Promise<void> {
  const messages = tx.table('messages');
  for (const row of deleted) {
    const later = await messages.query({ index: 'byConversation', lower: [row.contactId, row.order], upper: [row.contactId, Infinity], limit: QUOTE_SCAN_LIMIT });
    await Promise.all(later.filter((m) => m.quote?.id === row.id && m.quote.text !== '').map((m) => messages.put({ ...m, quote: { id: row.id, text: '' } })));
  }
}
