import { ACTION_WINDOW_MS, MAX_EDITS } from '../store/message-actions.ts';
import type { MessageRecord } from '../store/records.ts';
import type { MessageView } from './messenger-api.ts';

/** What the UI shows of a stored message: the one mapping every reader of the store uses. `now` decides what may still be edited. */
export function messageView(m: MessageRecord, now: number): MessageView {
  const own = m.direction === 'out' && !m.deleted && now - m.sentAt <= ACTION_WINDOW_MS;
  return {
    id: m.id,
    contactId: m.contactId,
    direction: m.direction,
    text: m.body,
    at: m.direction === 'in' ? (m.receivedAt ?? m.sentAt) : m.sentAt,
    status: m.status,
    ...(m.failure ? { failure: m.failure } : {}),
    ...(m.queuedElsewhere ? { queuedElsewhere: true as const } : {}),
    ...(m.system ? { system: true as const } : {}),
    ...(m.via ? { via: m.via } : {}),
    ...(m.attachment
      ? { attachment: { name: m.attachment.name, mime: m.attachment.mime, size: m.attachment.size, ...(m.attachment.preview ? { preview: m.attachment.preview } : {}) } }
      : {}),
    ...(m.quote ? { quote: { id: m.quote.id, text: m.quote.text } } : {}),
    ...(m.versions ? { versions: m.versions.map((v) => ({ text: v.text, at: v.at })) } : {}),
    ...(m.deleted ? { deleted: true as const } : {}),
    ...(m.deviceReceipts && m.direction === 'out'
      ? { deviceReceipts: Object.entries(m.deviceReceipts).map(([device, r]) => ({ device, status: r.status, at: r.at })) }
      : {}),
    ...(m.failedDevices?.length && m.direction === 'out' ? { failedDevices: [...m.failedDevices] } : {}),
    ...(m.failedAccountCopy && m.direction === 'out' ? { failedAccountCopy: true as const } : {}),
    ...(m.reactions?.length ? { reactions: m.reactions.map((r) => ({ emoji: r.emoji, mine: r.by === 'me' })) } : {}),
    ...(own && !m.attachment && (m.versions?.length ?? 1) <= MAX_EDITS ? { canEdit: true as const } : {}),
    ...(own ? { canDeleteForEveryone: true as const } : {}),
  };
}
