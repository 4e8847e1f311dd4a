/**
 * Receive step 3, content: what a decrypted envelope says, added to its commit.
 *
 *   msg      a message row, and a delivery receipt owed to the sender
 *   reply    the same, the row keeping the quoted message's id and excerpt
 *   edit, delete, react
 *            the sender's action on a message, judged (receive-action.ts) and applied to
 *            its row in the same commit — or held there until the row arrives
 *   fallback a kind this version does not know, with a fallback text: shown as a message
 *   file     the same, the row keeping the file's descriptor (blob id, key, digest, name,
 *            type, size, preview) so it can be fetched later; the caption is the body
 *   receipt  forward-only status moves of our messages to the sender
 *   rtc      a WebRTC signal, handed to the direct path after the commit
 *   group    a group frame from a member device, handed to the group parts after the commit
 *   retry    the contact's device asks for envelopes it could not decrypt: the copies we
 *            kept go out again with the commit (session-repair.ts)
 *   profile  the sender's name — only for a contact we had no name for (`unnamed`): a
 *            name the user saw in an invite stays. A name that an existing contact with
 *            another key already has is not silently a second "Bob" (key-change.ts): it
 *            stays its own contact, flagged, and sending to it is blocked.
 *
 * A message from a contact whose conversation was deleted (`removed`) makes it a message
 * request again. (A blocked contact's envelopes never get here: receive-pipeline.ts.)
 *
 * Content that does not decode is counted (by the decoder) and dropped: the session has
 * advanced, the key is spent, and the envelope is recorded as processed.
 */
import { toHex } from '../bytes.ts';
import type { ContactRecord } from '../store/index.ts';
import { deviceOfSessionKey } from '../store/session-key.ts';
import type { TransportName } from '../transport/index.ts';
import { decodeContent, isWireError, type Content } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import { claimedContact } from './key-change.ts';
import type { BatchDraft, CommitDraft, SessionWork } from './receive-batch.ts';
import { admitReceivedAction } from './receive-action.ts';

/** The decoded content, or undefined (logged) when it does not decode. */
export function decodeReceived(ctx: MessengerContext, plaintext: Uint8Array, envelopeId: string): Content | undefined {
  try {
    return decodeContent(plaintext, { metrics: ctx.metrics });
  } catch (err) {
    ctx.log.warn('undecodable content dropped', { id: envelopeId, reason: isWireError(err) ? err.reason : 'unknown' });
    return undefined;
  }
}

/** Content kinds that put a row in the conversation: what makes someone listed nowhere a message request. */
const WRITES_TO_US: ReadonlySet<Content['t']> = new Set(['msg', 'file', 'reply', 'fallback']);

export async function applyContent(
  ctx: MessengerContext,
  batch: BatchDraft,
  draft: CommitDraft,
  received: { readonly contact: ContactRecord; readonly sessions: SessionWork; readonly content: Content; readonly via: TransportName },
): Promise<void> {
  const { content } = received;
  let { contact } = received;
  // Someone listed nowhere writes to us 1:1 — a stranger (who added us from our invite, or a
  // group member who is not our contact), or a contact whose conversation the user
  // deleted: from this message on it is a request.
  if (WRITES_TO_US.has(content.t) && contact.listing === 'removed') {
    contact = { ...contact, listing: 'request' };
    batch.putContact(draft, contact);
  }
  switch (content.t) {
    case 'msg':
      batch.message(draft, { id: toHex(content.id), contactId: contact.id, body: content.text, sentAt: content.ts, via: received.via }, content.id, received.sessions);
      return;
    case 'file':
      ctx.metrics.inc('receive.attachment');
      batch.message(
        draft,
        {
          id: toHex(content.id),
          contactId: contact.id,
          body: content.text ?? '',
          sentAt: content.ts,
          via: received.via,
          attachment: {
            blobId: toHex(content.blob),
            key: content.key,
            digest: content.digest,
            size: content.size,
            mime: content.mime,
            name: content.name,
            ...(content.preview ? { preview: content.preview } : {}),
          },
        },
        content.id,
        received.sessions,
      );
      return;
    case 'reply':
      batch.message(
        draft,
        { id: toHex(content.id), contactId: contact.id, body: content.text, sentAt: content.ts, via: received.via, quote: { id: toHex(content.to), text: content.quote } },
        content.id,
        received.sessions,
      );
      return;
    case 'fallback':
      // A kind this version does not know, shown by the plain text it carries for us (§11.2).
      ctx.metrics.inc('receive.fallback');
      ctx.log.info('unknown content kind shown by its fallback text', { kind: content.kind.slice(0, 32) });
      batch.message(draft, { id: toHex(content.id), contactId: contact.id, body: content.text, sentAt: content.ts, via: received.via }, content.id, received.sessions);
      return;
    case 'edit':
    case 'delete':
    case 'react': {
      const action = await admitReceivedAction(ctx, contact, content, batch.now);
      if (action) draft.action = action;
      return;
    }
    case 'receipt': {
      // From one device of a multi-device contact: its state is kept per device (device-receipts.ts).
      const device = deviceOfSessionKey(received.sessions.contactId);
      batch.receipt(
        draft,
        content.ids.map((id) => ({ messageId: toHex(id), status: content.kind, ...(device !== undefined ? { device } : {}) })),
      );
      return;
    }
    case 'rtc': {
      // For the channel to the one device that sent it (its session key names it).
      const device = deviceOfSessionKey(received.sessions.contactId);
      batch.signal({ contactId: contact.id, ...(device !== undefined ? { device } : {}) }, content);
      return;
    }
    case 'group':
      // A member who is not a contact writes first with a group frame: it stays out of the
      // list and the requests (a group member, PROTOCOL.md §17.6) until it writes 1:1.
      if (contact.listing === 'request' && contact.unnamed) batch.putContact(draft, { ...contact, listing: 'removed' });
      batch.groupFrame(draft, received.sessions.contactId, content.frame);
      return;
    case 'profile': {
      const name = content.name.trim();
      if (!name) return;
      if (!contact.unnamed) {
        // A named contact renamed itself (profile-update.ts): its own name follows, the same
        // name again changes nothing, and a local name the user gave it still shows instead.
        if (name === contact.displayName) return;
        batch.putContact(draft, { ...contact, displayName: name });
        ctx.metrics.inc('contacts.profile_updated');
        return;
      }
      const claimed = claimedContact(batch.allContacts(), name, contact.identityKey);
      const { unnamed: _unnamed, ...named } = contact;
      batch.putContact(draft, { ...named, displayName: name, ...(claimed ? { possibleKeyChangeOf: { contactId: claimed.id, detectedAt: batch.now, acknowledged: false } } : {}) });
      if (claimed) {
        ctx.metrics.inc('contacts.claimed_name');
        ctx.log.warn('new contact claims the name of an existing one with another key', { contact: contact.id.slice(0, 8), claims: claimed.id.slice(0, 8) });
      }
      return;
    }
    case 'retry':
      // The contact's device could not decrypt these envelopes of ours: send them again (session-repair.ts).
      await batch.retryRequested(received.sessions, contact.id, content.ids);
      return;
    case 'sent':
    case 'seen':
      // Only our own devices send transcripts and read marks (receive-own-device.ts); from a contact it means nothing.
      ctx.metrics.inc('receive.transcript_refused');
      ctx.log.warn('transcript from a contact dropped', { contact: contact.id.slice(0, 8) });
      return;
    default: {
      // Every content type the decoder accepts is handled above; a new one must be too.
      const unhandled: never = content;
      return unhandled;
    }
  }
}
