import type { MessageRecord } from '../store/records.ts';
import type { MessageView } from './messenger-api.ts';

/** What the UI shows of a stored message: the one mapping every reader of the store uses. */
export function messageView(m: MessageRecord): MessageView {
  return {
    id: m.id,
    contactId: m.contactId,
    direction: m.direction,
    text: m.body,
    at: m.direction === 'in' ? (m.receivedAt ?? m.sentAt) : m.sentAt,
    status: m.status,
    ...(m.failure ? { failure: m.failure } : {}),
    ...(m.via ? { via: m.via } : {}),
    ...(m.attachment
      ? { attachment: { name: m.attachment.name, mime: m.attachment.mime, size: m.attachment.size, ...(m.attachment.preview ? { preview: m.attachment.preview } : {}) } }
      : {}),
  };
}
