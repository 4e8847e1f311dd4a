/**
 * The user's message actions (docs/PROTOCOL.md §11.2): edit and delete for everyone (our
 * own messages, within 24 h, at most 10 edits), react (one emoji per person per message;
 * an empty emoji removes ours), and delete for me (this device only, nothing is sent).
 *
 * An action is judged by the same rules the receiver applies, encrypted once, and committed
 * with its effect on our own row in ONE transaction (session, row, outbox entry) — or,
 * before a session exists, queued as a waiting job behind the message it changes. The
 * caller's `id` is the action's id and its envelope id: a resent command finds the action
 * already applied (the edit in the row's versions, the same reaction, the row deleted) and
 * does nothing.
 */
import { fromHex, toHex } from '../bytes.ts';
import type { MessageRecord } from '../store/index.ts';
import { judgeAction, ME, type MessageAction } from '../store/message-actions.ts';
import { encodeContent, mailboxAddress, type ActionContent } from '../wire/index.ts';
import { actionShapeProblem, fallbackText } from './action-content.ts';
import type { MessengerContext } from './context.ts';
import { assertCanSend } from './contact-state.ts';
import { MessageActionRefusedError, UnknownContactError } from './errors.ts';
import type { ActionOptions } from './messenger-api.ts';
import { messageBody } from './message-text-limit.ts';
import { isAccountTarget } from './device-routing.ts';
import { enqueueActionFannedOut } from './fan-out-compose.ts';
import { encryptFor } from './session-cipher.ts';
import { decodeSessionSet, encodeSessionSet } from './session-set.ts';

export interface ActionEvents {
  needsSession(contactId: string): void;
  queued(): void;
  changed(): Promise<void>;
}

const ID = /^[0-9a-f]{32}$/u;

export class ActionCommands {
  constructor(
    private readonly ctx: MessengerContext,
    private readonly events: ActionEvents,
  ) {}

  edit(messageId: string, text: string, options: ActionOptions = {}): Promise<void> {
    return this.act(messageId, options, (base) => ({ kind: 'edit', ...base, text: messageBody(text) }));
  }

  deleteForEveryone(messageId: string, options: ActionOptions = {}): Promise<void> {
    return this.act(messageId, options, (base) => ({ kind: 'delete', ...base }));
  }

  react(messageId: string, emoji: string, options: ActionOptions = {}): Promise<void> {
    return this.act(messageId, options, (base) => ({ kind: 'react', ...base, emoji }));
  }

  async deleteForMe(messageId: string): Promise<void> {
    if (!ID.test(messageId)) throw new MessageActionRefusedError('invalid', 'message id must be 32 lowercase hex characters');
    if (await this.ctx.store.deleteMessageLocally(messageId)) this.ctx.metrics.inc('messages.deleted_for_me');
    await this.events.changed();
  }

  private async act(messageId: string, options: ActionOptions, make: (base: { id: string; target: string; by: string; at: number }) => MessageAction): Promise<void> {
    const { ctx } = this;
    if (!ID.test(messageId)) throw new MessageActionRefusedError('invalid', 'message id must be 32 lowercase hex characters');
    if (options.id !== undefined && !ID.test(options.id)) throw new MessageActionRefusedError('invalid', 'action id must be 32 lowercase hex characters');
    const id = options.id ?? toHex(ctx.random.bytes(16));
    const action = make({ id, target: messageId, by: ME, at: ctx.clock.now() });
    const problem = actionShapeProblem(action);
    if (problem) throw new MessageActionRefusedError('invalid', problem);
    const target = await ctx.store.getMessage(messageId);
    if (!target) throw new MessageActionRefusedError('unknown_message', 'no such message');
    const contact = ctx.contacts.byId(target.contactId);
    if (!contact) throw new UnknownContactError(target.contactId);
    // The same gate as a message: an unacknowledged key change, a block or an open request.
    assertCanSend(contact);
    const verdict = judgeAction(target, action, action.at);
    if (!verdict.ok) throw new MessageActionRefusedError(verdict.reason, refusalText(verdict.reason));
    if (!verdict.changed) return;

    const content = encodeContent(contentOf(action, target));
    const mailbox = mailboxAddress(contact.identityKey);
    const pending = await ctx.lane.run(async () => {
      // Linked devices on either side: one copy per device, and a transcript to each of ours (fan-out-compose.ts).
      const targets = ctx.devices ? await ctx.devices.targets(contact.identityKey) : [];
      if (targets.some((t) => !isAccountTarget(t))) return enqueueActionFannedOut(ctx, contact, action, content, targets);
      // A copy to the account mailbox of a contact without a list goes under version 0: if
      // the contact links a device before it is deposited, the relay refuses it (an account
      // with a list reads only device mailboxes) and its devices get it instead (§13.5).
      const unlisted = ctx.devices ? { listVersion: 0 } : {};
      const row = await ctx.store.getSession(contact.id);
      if (!row) {
        // No session yet (the message itself still waits for one): the action waits behind it.
        await ctx.store.commitPendingOutgoing({ action, job: { envelopeId: id, mailbox, plaintext: content, ...unlisted } });
        return true;
      }
      const { set, envelope } = await encryptFor(ctx, decodeSessionSet(row.state), contact.identityKey, content);
      await ctx.store.commitOutgoing({
        sessionUpdate: { contactId: contact.id, expectedVersion: row.version, state: encodeSessionSet(set) },
        action,
        outboxEntry: { envelopeId: id, contactId: contact.id, mailbox, envelope, ...unlisted },
        retain: content,
      });
      return false;
    }).catch(async (err: unknown) => {
      // The same action id committed meanwhile (a command resent by another tab): already done.
      const now = await ctx.store.getMessage(messageId).catch(() => undefined);
      const again = now && judgeAction(now, action, action.at);
      if (again && again.ok && !again.changed) return undefined;
      throw err;
    });
    if (pending === undefined) return;
    ctx.metrics.inc('messages.action', { kind: action.kind });
    if (pending) this.events.needsSession(contact.id);
    this.events.queued();
    await this.events.changed();
  }
}

/** The content frame that carries `action` (on `target`), 1:1 or inside a group's `group.act`. */
export function contentOf(action: MessageAction, target: MessageRecord): ActionContent {
  const base = { id: fromHex(action.id), ts: action.at, to: fromHex(target.id) };
  switch (action.kind) {
    case 'edit':
      return { t: 'edit', ...base, text: action.text, fallback: fallbackText.edit(action.text) };
    case 'delete':
      return { t: 'delete', ...base, fallback: fallbackText.delete() };
    case 'react':
      return { t: 'react', ...base, emoji: action.emoji, fallback: fallbackText.react(action.emoji) };
  }
}

/** A refusal in words, as the sender's commands say it. */
export function refusalText(reason: string): string {
  switch (reason) {
    case 'not_author':
      return 'only your own messages can be edited or deleted for everyone';
    case 'too_late':
      return 'messages can be edited or deleted for everyone only within 24 hours of sending';
    case 'too_many_edits':
      return 'a message can be edited at most 10 times';
    case 'deleted':
      return 'the message was deleted';
    default:
      return `refused: ${reason}`;
  }
}
