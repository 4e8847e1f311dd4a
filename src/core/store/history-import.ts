/**
 * History that arrives with a device link (docs/PROTOCOL.md §13.6): one batch of a
 * conversation's messages, oldest first, appended in one transaction after what the
 * conversation holds, each with the status it had on the other device. A message id
 * already stored is skipped (a repeated batch changes nothing). Imported messages are not
 * unread: the user saw them on the other device. One still queued there is marked
 * `queuedElsewhere` (records.ts): it has no outbox entry here, and its status follows receipts.
 */
import type { BackendTx } from './backend.ts';
import type { ConversationRecord, MessageRecord, MessageStatus } from './records.ts';
import type { StoreName } from './schema.ts';

export interface ImportedMessage {
  /** Hex of the 16-byte message id. */
  readonly id: string;
  readonly direction: 'in' | 'out';
  readonly body: string;
  readonly sentAt: number;
  readonly status: MessageStatus;
}

export const HISTORY_IMPORT_STORES: readonly StoreName[] = ['messages', 'conversations'];
export const IMPORT_DISCARD_STORES: readonly StoreName[] = ['contacts', 'messages', 'conversations'];

export async function applyHistoryImport(tx: BackendTx, contactId: string, batch: readonly ImportedMessage[], now: number): Promise<number> {
  const messages = tx.table('messages');
  const conversations = tx.table('conversations');
  const held = await conversations.get(contactId);
  let conv: ConversationRecord = held ?? { contactId, unread: 0, lastActivityAt: 0, nextOrder: 0 };
  const existing = await Promise.all(batch.map((m) => messages.get(m.id)));
  let written = 0;
  for (const [i, m] of batch.entries()) {
    if (existing[i]) continue;
    const row: MessageRecord = {
      id: m.id,
      contactId,
      direction: m.direction,
      body: m.body,
      sentAt: m.sentAt,
      ...(m.direction === 'in' ? { receivedAt: m.sentAt } : {}),
      order: conv.nextOrder,
      status: m.status,
      ...(m.status === 'failed' ? { failure: 'not sent from the other device' } : {}),
      // Still queued on the device that wrote it: that device sends it, never this one.
      ...(m.status === 'queued' && m.direction === 'out' ? { queuedElsewhere: true as const } : {}),
      updatedAt: now,
    };
    await messages.put(row);
    conv = {
      ...conv,
      lastMessage: { messageId: m.id, text: m.body, at: m.sentAt, direction: m.direction },
      lastActivityAt: Math.max(conv.lastActivityAt, m.sentAt),
      nextOrder: conv.nextOrder + 1,
    };
    written++;
  }
  if (written) await conversations.put(conv);
  return written;
}

/**
 * A link that did not complete leaves nothing: these contacts, their messages and
 * conversations are removed in one transaction (only ever run on a store with no identity).
 */
export async function applyImportDiscard(tx: BackendTx, contactIds: readonly string[]): Promise<void> {
  const contacts = tx.table('contacts');
  const messages = tx.table('messages');
  const conversations = tx.table('conversations');
  for (const id of contactIds) {
    const rows = await messages.query({ index: 'byConversation', lower: [id, -Infinity], upper: [id, Infinity] });
    await Promise.all([...rows.map((m) => messages.delete(m.id)), conversations.delete(id), contacts.delete(id)]);
  }
}
