/**
 * Message actions in a group (docs/PROTOCOL.md §17.6): reply, edit, delete for everyone
 * and react, each a 1:1 content frame (§11, with its `fallback`) carried as a group
 * message — a `group.act{gv, content}` under our sender key, one encryption and one
 * `send.multi` to every member device, our own other devices included (they apply it as
 * ours: that is their transcript).
 *
 * Sending: the action is judged by the rules the members apply (`judgeAction` with the
 * group as the conversation: only the author edits or deletes for everyone, within 24 h,
 * at most 10 edits; anyone reacts, one emoji per person), then our advanced chain, the
 * action's effect on our row and the outbox entry commit in ONE transaction; the store
 * judges it again there (group-action-commit.ts). The caller's `id` is the action's id and
 * its envelope id: a resent command finds it applied and does nothing.
 *
 * Receiving (`groupActContent`, called by group-receive.ts once the sender's membership is
 * judged, so a removed member's actions are dropped like its messages): a reply is a row
 * with its quote; an edit, delete or reaction is judged and counted here, and applied (or
 * held until its target comes) in the receive's commit; a content kind this version does
 * not know shows its fallback text as a message; anything else is dropped and counted.
 */
import { toHex } from '../bytes.ts';
import type { Quote } from '../store/index.ts';
import { judgeAction, ME, type MessageAction } from '../store/message-actions.ts';
import { decodeContent, encodeContent, type Content } from '../wire/index.ts';
import { encodeGroupFrame } from '../wire/group-content.ts';
import { actionOf, actionShapeProblem } from './action-content.ts';
import { contentOf, refusalText } from './action-commands.ts';
import { MessageActionRefusedError, UnknownGroupError } from './errors.ts';
import { isMember, membershipOf } from './group-membership.ts';
import { addressOf, dropped, meOf, type GroupContext } from './group-ports.ts';
import { deliver, MAX_GROUP_TEXT, sealForMembers } from './group-send.ts';

export type GroupActionMaker = (base: { id: string; target: string; by: string; at: number }) => MessageAction;

/** Our edit, delete for everyone or reaction on a message of a group; committed, then deposited. */
export async function sendGroupAction(ctx: GroupContext, messageId: string, actionId: string, make: GroupActionMaker): Promise<void> {
  const action = make({ id: actionId, target: messageId, by: ME, at: ctx.clock.now() });
  const problem = actionShapeProblem(action) ?? (action.kind === 'edit' && action.text.length > MAX_GROUP_TEXT ? `a group message is at most ${MAX_GROUP_TEXT} characters` : undefined);
  if (problem) throw new MessageActionRefusedError('invalid', problem);
  const target = await ctx.store.getMessage(messageId);
  if (!target) throw new MessageActionRefusedError('unknown_message', 'no such message');
  const groupId = target.contactId;
  const group = await ctx.store.getGroup(groupId);
  const state = group && membershipOf(group).state;
  if (!group || !isMember(state, meOf(ctx))) throw new UnknownGroupError('no such group, or we are no longer a member');
  const verdict = judgeAction(target, action, action.at, groupId);
  if (!verdict.ok) throw new MessageActionRefusedError(verdict.reason, refusalText(verdict.reason));
  if (!verdict.changed) return; // the command again: already applied
  const content = encodeContent(contentOf(action, target));
  const plaintext = encodeGroupFrame({ t: 'group.act', gv: state!.version, content });
  const { body, senderKey, targets } = await sealForMembers(ctx, group, plaintext);
  const now = ctx.clock.now();
  const outbox = { messageId: actionId, groupId, body, to: targets.map(addressOf), createdAt: now };
  await ctx.store.commit({ senderKeys: [senderKey], outbox: [outbox], actions: [{ groupId, action }], now });
  ctx.metrics.inc('groups.action', { kind: action.kind });
  await deliver(ctx, outbox);
}

/** What a received `group.act` adds: a row (a reply, or a fallback text), an action, or nothing (dropped, counted). */
export type GroupActReceived =
  | { readonly kind: 'row'; readonly id: Uint8Array; readonly ts: number; readonly text: string; readonly quote?: Quote }
  | { readonly kind: 'action'; readonly action: MessageAction }
  | undefined;

/** The content inside a received `group.act` from `by` (a member's account id, or ME for our other device), judged at `now`. */
export async function groupActContent(ctx: GroupContext, groupId: string, by: string, bytes: Uint8Array, now: number): Promise<GroupActReceived> {
  let content: Content;
  try {
    content = decodeContent(bytes, { metrics: ctx.metrics });
  } catch {
    dropped(ctx, 'malformed_content');
    return undefined;
  }
  switch (content.t) {
    case 'reply':
      return { kind: 'row', id: content.id, ts: content.ts, text: content.text, quote: { id: toHex(content.to), text: content.quote } };
    case 'fallback':
      // A kind this version does not know: its words, as a message (§11's fallback rule).
      ctx.metrics.inc('groups.receive.fallback', { kind: content.kind.slice(0, 32) });
      return { kind: 'row', id: content.id, ts: content.ts, text: content.text };
    case 'edit':
    case 'delete':
    case 'react':
      return admitGroupAction(ctx, groupId, actionOf(content, by), now);
    default:
      dropped(ctx, 'unsupported_content', { kind: content.t });
      return undefined;
  }
}

async function admitGroupAction(ctx: GroupContext, groupId: string, action: MessageAction, now: number): Promise<GroupActReceived> {
  const refuse = (reason: string): undefined => {
    ctx.metrics.inc('groups.action.refused', { reason });
    ctx.log.warn('group message action refused', { kind: action.kind, reason });
    return undefined;
  };
  if (actionShapeProblem(action)) return refuse('invalid');
  const target = await ctx.store.getMessage(action.target);
  if (!target) {
    // Its message is still on its way (another sender's chain, or held for a key): held by the store.
    ctx.metrics.inc('groups.action.held', { kind: action.kind });
    return { kind: 'action', action };
  }
  if (target.contactId !== groupId) return refuse('not_in_chat');
  const verdict = judgeAction(target, action, now, groupId);
  if (!verdict.ok) return refuse(verdict.reason);
  ctx.metrics.inc('groups.action.received', { kind: action.kind });
  return { kind: 'action', action };
}
