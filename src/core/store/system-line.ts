/**
 * A line about a conversation, not a message ("Ada added a device", docs/PROTOCOL.md §13.5):
 * appended after what the conversation holds, in one transaction with the conversation's
 * next order key, as an incoming row that is already read (it raises no unread count and
 * is never sent or receipted). The conversation's preview and activity time stay as they are.
 */
import type { BackendTx } from './backend.ts';
import type { ConversationRecord, MessageRecord } from './records.ts';
import type { StoreName } from './schema.ts';

export interface SystemLine {
  /** Hex of a fresh 16-byte id. */
  readonly id: string;
  readonly contactId: string;
  readonly text: string;
  readonly at: number;
}

export const SYSTEM_LINE_STORES: readonly StoreName[] = ['messages', 'conversations'];

export async function applySystemLine(tx: BackendTx, line: SystemLine, now: number): Promise<void> {
  const messages = tx.table('messages');
  const conversations = tx.table('conversations');
  const [held, existing] = await Promise.all([conversations.get(line.contactId), messages.get(line.id)]);
  if (existing) return;
  const conv: ConversationRecord = held ?? { contactId: line.contactId, unread: 0, lastActivityAt: 0, nextOrder: 0 };
  const row: MessageRecord = {
    id: line.id,
    contactId: line.contactId,
    direction: 'in',
    body: line.text,
    sentAt: line.at,
    receivedAt: line.at,
    order: conv.nextOrder,
    status: 'read',
    system: true,
    updatedAt: now,
  };
  await Promise.all([messages.put(row), conversations.put({ ...conv, nextOrder: conv.nextOrder + 1 })]);
}
