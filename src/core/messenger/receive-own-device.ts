/**
 * Receiving from another device of our own account (docs/PROTOCOL.md §13.5): it sends us
 * `seen{to, ids}` (messages of that conversation it read: read here too, the unread count
 * down) and "sent transcripts" (`sent{to, content}`), what it sent to a contact, which this device stores as an outgoing message of that contact's conversation
 * with status `sent` — once (the store keeps a message id it already has as it is). A
 * transcript for a contact this device does not know, or anything else from our own
 * devices, is counted and dropped (the envelope is still recorded as processed).
 */
import { toHex } from '../bytes.ts';
import type { NewIncomingMessage } from '../store/index.ts';
import { decodeContent, isWireError, type Content } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import type { BatchDraft, CommitDraft } from './receive-batch.ts';

export function applyOwnDeviceContent(ctx: MessengerContext, batch: BatchDraft, draft: CommitDraft, content: Content): void {
  if (content.t === 'seen') {
    // Read on another device of ours: those messages are read here too (no receipt: that device sent it).
    const contact = batch.contactByKey(content.to);
    if (contact) draft.readElsewhere = { contactId: contact.id, messageIds: content.ids.map(toHex) };
    return;
  }
  if (content.t !== 'sent') {
    ctx.metrics.inc('devices.own_content_dropped', { kind: content.t });
    return;
  }
  const contact = batch.contactByKey(content.to);
  if (!contact) {
    ctx.metrics.inc('devices.transcript_dropped', { reason: 'unknown_contact' });
    ctx.log.info('transcript for a contact this device does not know dropped');
    return;
  }
  const message = transcriptMessage(ctx, contact.id, content.content);
  if (!message) {
    ctx.metrics.inc('devices.transcript_dropped', { reason: 'content' });
    return;
  }
  draft.transcript = message;
  ctx.metrics.inc('devices.transcript_received');
}

/** The message row a transcript's inner content describes (`msg`, `file` or `reply`). */
function transcriptMessage(ctx: MessengerContext, contactId: string, bytes: Uint8Array): NewIncomingMessage | undefined {
  let inner: Content;
  try {
    inner = decodeContent(bytes, { metrics: ctx.metrics });
  } catch (err) {
    ctx.log.warn('undecodable transcript content dropped', { reason: isWireError(err) ? err.reason : 'unknown' });
    return undefined;
  }
  switch (inner.t) {
    case 'msg':
      return { id: toHex(inner.id), contactId, body: inner.text, sentAt: inner.ts };
    case 'reply':
      return { id: toHex(inner.id), contactId, body: inner.text, sentAt: inner.ts, quote: { id: toHex(inner.to), text: inner.quote } };
    case 'file':
      return {
        id: toHex(inner.id),
        contactId,
        body: inner.text ?? '',
        sentAt: inner.ts,
        attachment: {
          blobId: toHex(inner.blob),
          key: inner.key,
          digest: inner.digest,
          size: inner.size,
          mime: inner.mime,
          name: inner.name,
          ...(inner.preview ? { preview: inner.preview } : {}),
        },
      };
    default:
      return undefined;
  }
}
