/**
 * Receive step 3 for a message action (edit, delete for everyone, react): judged before it
 * joins the batch's commit. Malformed (not one emoji, empty text) or refused by the rules
 * against the stored target (not the sender's own, past 24 h, over 10 edits, deleted) — a
 * `MessageActionRefusedError`, logged and counted as `receive.action.refused{reason}`; the
 * envelope is still recorded as processed and nothing else changes. A target not stored
 * yet goes to the store as it is: the store holds it and applies it with its target.
 * The store judges again inside the transaction, on the row as committed.
 */
import type { ContactRecord } from '../store/index.ts';
import { judgeAction, type MessageAction } from '../store/message-actions.ts';
import type { ActionContent } from '../wire/index.ts';
import { actionOf, actionShapeProblem } from './action-content.ts';
import type { MessengerContext } from './context.ts';
import { MessageActionRefusedError } from './errors.ts';

/** The action to commit, or undefined when it is refused (already logged and counted). */
export async function admitReceivedAction(ctx: MessengerContext, contact: ContactRecord, content: ActionContent, now: number): Promise<MessageAction | undefined> {
  const action = actionOf(content, contact.id);
  const refuse = (err: MessageActionRefusedError): undefined => {
    ctx.metrics.inc('receive.action.refused', { reason: err.reason });
    ctx.log.warn('message action refused', { kind: action.kind, reason: err.reason, contact: contact.id.slice(0, 8) });
    return undefined;
  };
  const problem = actionShapeProblem(action);
  if (problem) return refuse(new MessageActionRefusedError('invalid', problem));
  const target = await ctx.store.getMessage(action.target);
  if (!target) {
    ctx.metrics.inc('receive.action.held', { kind: action.kind });
    return action;
  }
  if (target.contactId !== contact.id) return refuse(new MessageActionRefusedError('not_in_chat', 'the message is not in this conversation'));
  const verdict = judgeAction(target, action, now);
  if (!verdict.ok) return refuse(new MessageActionRefusedError(verdict.reason, `the ${action.kind} is refused: ${verdict.reason}`));
  ctx.metrics.inc('receive.action', { kind: action.kind });
  return action;
}
