/**
 * Receiving from another device of our own account (docs/PROTOCOL.md §13.5): it sends us
 * `seen{to, ids}` (messages of that conversation it read: read here too, the unread count
 * down) and "sent transcripts" (`sent{to, content}`), what it sent to a contact, which this device stores as an outgoing message of that contact's conversation
 * with status `sent` — once (the store keeps a message id it already has as it is) — and
 * action transcripts (an inner edit, delete or reaction), applied as ours, and retry
 * requests for transcripts it could not read (answered from the kept copies, §12.8). A
 * transcript for a contact this device does not know, or anything else from our own
 * devices, is counted and dropped (the envelope is still recorded as processed). Group
 * frames (a change we made there, our sender key, a key request) go to the group inbox as a
 * member device's do (PROTOCOL.md §17.6).
 */
import { toHex } from '../bytes.ts';
import type { NewIncomingMessage } from '../store/index.ts';
import { judgeAction, ME, type MessageAction } from '../store/message-actions.ts';
import { decodeContent, isWireError, type ActionContent, type Content } from '../wire/index.ts';
import { actionOf, actionShapeProblem } from './action-content.ts';
import type { MessengerContext } from './context.ts';
import type { BatchDraft, CommitDraft, SessionWork } from './receive-batch.ts';

export async function applyOwnDeviceContent(ctx: MessengerContext, batch: BatchDraft, draft: CommitDraft, content: Content, sessions: SessionWork): Promise<void> {
  if (content.t === 'retry') {
    // Our other device could not read transcripts we sent it: the kept copies go again (§12.8).
    await batch.retryRequested(sessions, toHex(ctx.identity.publicKey), content.ids);
    return;
  }
  if (content.t === 'seen') {
    // Read on another device of ours: those messages are read here too (no receipt: that device sent it).
    const contact = batch.contactByKey(content.to);
    if (contact) draft.readElsewhere = { contactId: contact.id, messageIds: content.ids.map(toHex) };
    return;
  }
  if (content.t === 'group') {
    // A group frame from another device of ours (a group change we made there, our sender
    // key, a key request): into the group inbox like a member's, under our account and that device.
    batch.groupFrame(draft, sessions.contactId, content.frame);
    return;
  }
  if (content.t === 'profile') {
    // Renamed on another device of ours (profile-update.ts): the identity row takes the name.
    const name = content.name.trim();
    if (name) draft.ownDisplayName = name;
    ctx.metrics.inc('devices.own_profile_received');
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
  const inner = decodeInner(ctx, content.content);
  if (inner && (inner.t === 'edit' || inner.t === 'delete' || inner.t === 'react')) {
    const action = await admitOwnAction(ctx, contact.id, inner);
    if (action) {
      draft.action = action;
      draft.ownActionIn = contact.id;
    }
    return;
  }
  const message = inner && transcriptMessage(contact.id, inner);
  if (!message) {
    ctx.metrics.inc('devices.transcript_dropped', { reason: 'content' });
    return;
  }
  draft.transcript = message;
  ctx.metrics.inc('devices.transcript_received');
}

function decodeInner(ctx: MessengerContext, bytes: Uint8Array): Content | undefined {
  try {
    return decodeContent(bytes, { metrics: ctx.metrics });
  } catch (err) {
    ctx.log.warn('undecodable transcript content dropped', { reason: isWireError(err) ? err.reason : 'unknown' });
    return undefined;
  }
}

/**
 * An action transcript: our edit, delete or reaction made on another device, applied here
 * as ours by the same rules (judged again by the store in the commit). A target in another
 * conversation, or a malformed or refused action, is counted and changes nothing; a target
 * not stored yet is held by the store until it arrives (as a contact's action is).
 */
async function admitOwnAction(ctx: MessengerContext, contactId: string, inner: ActionContent): Promise<MessageAction | undefined> {
  const action = actionOf(inner, ME);
  const refuse = (reason: string): undefined => {
    ctx.metrics.inc('devices.transcript_dropped', { reason: `action_${reason}` });
    return undefined;
  };
  if (actionShapeProblem(action)) return refuse('invalid');
  const target = await ctx.store.getMessage(action.target);
  if (target && target.contactId !== contactId) return refuse('not_in_chat');
  if (target) {
    const verdict = judgeAction(target, action, ctx.clock.now());
    if (!verdict.ok) return refuse(verdict.reason);
  }
  ctx.metrics.inc('devices.action_transcript_received', { kind: action.kind });
  return action;
}

/** The message row a transcript's inner content describes (`msg`, `file` or `reply`). */
function transcriptMessage(contactId: string, inner: Content): NewIncomingMessage | undefined {
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
