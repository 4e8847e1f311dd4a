/**
 * The user's commands about messages: `send` (validate, then compose.ts queues it durably:
 * encrypted with the session, or waiting for one) and `retry` (every failed copy of a
 * message back to queued, whatever its best status). Both then tell their caller what to do next (`MessageEvents`: start a session,
 * wake the outbox, refresh the view).
 */
import { fromHex, toHex } from '../bytes.ts';
import type { OutboxRecord, Quote } from '../store/index.ts';
import { mailboxAddress } from '../wire/index.ts';
import { quoteExcerpt } from './action-content.ts';
import { enqueueOutgoing } from './compose.ts';
import type { MessengerContext } from './context.ts';
import { assertCanSend } from './contact-state.ts';
import { InvalidMessageTextError, MessageActionRefusedError, UnknownContactError } from './errors.ts';
import { outgoingContent } from './message-content.ts';
import { MAX_MESSAGE_TEXT_BYTES, messageBody, messageTextBytes } from './message-text-limit.ts';
import type { SendOptions } from './messenger-api.ts';
import { STAGES } from '../stage-trace.ts';

export interface MessageEvents {
  /** Messages to this contact wait for a session. */
  needsSession(contactId: string): void;
  /** The outbox has work; `head`: the new entry, its contact's head of line, ready to hand to a transport now. */
  queued(head?: OutboxRecord): void;
  /** What the views show changed. */
  changed(): Promise<void>;
}

export class MessageCommands {
  constructor(
    private readonly ctx: MessengerContext,
    private readonly events: MessageEvents,
  ) {}

  async send(contactId: string, text: string, options: SendOptions = {}): Promise<void> {
    const { ctx } = this;
    ctx.trace?.mark(STAGES.sendCommand);
    // An id from the caller makes the command idempotent (the keypress journal resends it after a reload).
    if (options.id !== undefined) {
      if (!/^[0-9a-f]{32}$/u.test(options.id)) throw new InvalidMessageTextError('message id must be 32 lowercase hex characters');
      if (await ctx.store.getMessage(options.id)) return;
    }
    const body = messageBody(text);
    if (!body.trim()) throw new InvalidMessageTextError('message is empty');
    if (messageTextBytes(body) > MAX_MESSAGE_TEXT_BYTES) throw new InvalidMessageTextError(`message is longer than ${MAX_MESSAGE_TEXT_BYTES} bytes`);
    const contact = ctx.contacts.byId(contactId);
    if (!contact) throw new UnknownContactError(contactId);
    assertCanSend(contact);
    const quote = options.replyTo === undefined ? undefined : await this.quoteOf(contactId, options.replyTo);
    const id = options.id !== undefined ? fromHex(options.id) : ctx.random.bytes(16);
    const sentAt = ctx.clock.now();
    const enqueued = await enqueueOutgoing(ctx, {
      contactId,
      contactKey: contact.identityKey,
      mailbox: mailboxAddress(contact.identityKey),
      id: toHex(id),
      body,
      sentAt,
      ...(quote ? { quote } : {}),
      content: outgoingContent({ id: toHex(id), sentAt, body, ...(quote ? { quote } : {}) }),
    }).catch(async (err: unknown) => {
      // The same id committed meanwhile (another tab's drain, a retried command): already done.
      if (options.id !== undefined && (await ctx.store.getMessage(options.id).catch(() => undefined))) return undefined;
      throw err;
    });
    if (!enqueued) return;
    ctx.trace?.mark(STAGES.sendCommitted);
    ctx.metrics.inc('messages.composed');
    if (enqueued.pending) this.events.needsSession(contactId);
    this.events.queued(enqueued.head);
    await this.events.changed();
  }

  /** The quote of a reply: the quoted message (of this conversation) and an excerpt of what it shows. */
  private async quoteOf(contactId: string, replyTo: string): Promise<Quote> {
    if (!/^[0-9a-f]{32}$/u.test(replyTo)) throw new InvalidMessageTextError('the replied-to id must be 32 lowercase hex characters');
    const quoted = await this.ctx.store.getMessage(replyTo);
    if (!quoted || quoted.contactId !== contactId) throw new MessageActionRefusedError('unknown_message', 'the message replied to is not in this conversation');
    if (quoted.deleted) throw new MessageActionRefusedError('deleted', 'the message replied to was deleted');
    return { id: quoted.id, text: quoteExcerpt(quoted.body || quoted.attachment?.name || '') };
  }

  /**
   * Every failed copy of the message goes again, in one store commit, whatever its best
   * status (delivered to one device of a contact, never sent to another); nothing already
   * sent is resent. Idempotent: with no failed copy left it changes nothing.
   */
  async retry(messageId: string): Promise<void> {
    const { ctx } = this;
    const m = await ctx.store.getMessage(messageId);
    // The store refuses an unknown message or one not ours, typed, changing nothing.
    const requeued = await ctx.store.retry(messageId, ctx.clock.now());
    ctx.metrics.inc('messages.retried', { outcome: requeued ? 'requeued' : 'nothing_failed' });
    if (!m || (!requeued && m.status !== 'failed')) return;
    // A copy that failed before its session existed waits for one again.
    this.events.needsSession(m.contactId);
    this.events.queued();
    await this.events.changed();
  }
}
