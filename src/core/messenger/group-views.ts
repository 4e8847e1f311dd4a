/**
 * What the UI sees of groups (messenger-api.ts GroupView, and group rows as MessageView),
 * and marking a group's messages read (read receipts go to each sender's devices).
 */
import { fromHex, toHex } from '../bytes.ts';
import type { MessageRecord } from '../store/index.ts';
import { encodeGroupFrame } from '../wire/group-content.ts';
import type { GroupMemberView, GroupView, MessageView } from './messenger-api.ts';
import { isMember, memberIds, membershipOf, nameOf } from './group-membership.ts';
import { weakest } from './group-send.ts';
import { messageView } from './message-view.ts';
import { DELETED_TEXT, ME } from '../store/message-actions.ts';
import { meOf, type GroupContext } from './group-ports.ts';

export async function groupViews(ctx: GroupContext): Promise<GroupView[]> {
  const me = meOf(ctx);
  const out: { view: GroupView; at: number }[] = [];
  const keyChanges = ctx.ports.keyChanges();
  for (const g of await ctx.store.listGroups()) {
    const state = membershipOf(g).state;
    if (!state) continue;
    const members: GroupMemberView[] = state.members
      .map((m) => {
        const id = toHex(m.account);
        const keyChanged = id !== me && keyChanges.has(id);
        return { id, name: id === me ? 'You' : nameOf(ctx, g, id), admin: m.admin, ...(id === me ? { me: true as const } : {}), ...(keyChanged ? { keyChanged: true as const } : {}) };
      })
      .sort((a, b) => Number(b.admin) - Number(a.admin) || a.name.localeCompare(b.name));
    const rows = await ctx.store.messagesOf(g.id);
    const last = [...rows].reverse().find((r) => !r.system) ?? rows[rows.length - 1];
    const unread = rows.filter((r) => r.direction === 'in' && !r.system && r.status !== 'read').length;
    const view: GroupView = {
      id: g.id,
      name: state.name,
      members,
      admin: state.members.some((m) => m.admin && toHex(m.account) === me),
      ...(isMember(state, me) ? {} : { left: true as const }),
      ...(last ? { lastMessage: { text: last.deleted ? DELETED_TEXT : last.body, at: last.sentAt, direction: last.direction } } : {}),
      unread,
    };
    out.push({ view, at: g.lastActivityAt });
  }
  return out.sort((a, b) => b.at - a.at).map((o) => o.view);
}

export async function groupMessageViews(ctx: GroupContext, groupId: string): Promise<MessageView[]> {
  const g = await ctx.store.getGroup(groupId);
  if (!g) return [];
  const state = membershipOf(g).state;
  const members = new Set(memberIds(state));
  const now = ctx.clock.now();
  const canAct = isMember(state, meOf(ctx));
  return (await ctx.store.messagesOf(groupId)).map((r) => viewOf(ctx, g, r, members, now, canAct));
}

function viewOf(ctx: GroupContext, g: Parameters<typeof nameOf>[1], r: MessageRecord, members: ReadonlySet<string>, now: number, canAct: boolean): MessageView {
  // A member who left or was removed no longer holds our message's status down.
  const current = r.memberStatus ? Object.entries(r.memberStatus).filter(([id]) => members.has(id)) : [];
  const status = r.memberStatus && r.status !== 'failed' ? weakest(current.map(([, s]) => s), r.status) : r.status;
  // The 1:1 mapping (quote, versions, deleted, what may be edited), then what a group adds.
  const { canEdit, canDeleteForEveryone, reactions: _r, ...base } = messageView(r, now);
  return {
    ...base,
    status,
    // Once we left or were removed, nothing can be sent: no edit, no delete for everyone.
    ...(canAct && canEdit ? { canEdit } : {}),
    ...(canAct && canDeleteForEveryone ? { canDeleteForEveryone } : {}),
    ...(r.reactions?.length ? { reactions: r.reactions.map((x) => (x.by === ME ? { emoji: x.emoji, mine: true } : { emoji: x.emoji, mine: false, name: nameOf(ctx, g, x.by) })) } : {}),
    ...(r.senderId ? { senderId: r.senderId, senderName: nameOf(ctx, g, r.senderId) } : {}),
    ...(r.memberStatus ? { memberStatus: current.map(([id, s]) => ({ id, name: nameOf(ctx, g, id), status: s })) } : {}),
  };
}

/** Marks incoming rows read (all, or up to `upTo`) and tells each sender's devices. */
export async function markGroupRead(ctx: GroupContext, groupId: string, upTo?: string): Promise<void> {
  const rows = await ctx.store.messagesOf(groupId);
  const limit = upTo ? rows.find((r) => r.id === upTo)?.order : undefined;
  const now = ctx.clock.now();
  const read = rows.filter((r) => r.direction === 'in' && !r.system && r.status !== 'read' && (limit === undefined || r.order <= limit));
  if (!read.length) return;
  await ctx.store.commit({ messages: read.map((r) => ({ ...r, status: 'read' as const, updatedAt: now })) });
  const bySender = new Map<string, string[]>();
  for (const r of read) if (r.senderId) bySender.set(r.senderId, [...(bySender.get(r.senderId) ?? []), r.id]);
  for (const [account, ids] of bySender) {
    const frame = encodeGroupFrame({ t: 'group.receipt', group: fromHex(groupId), kind: 'read', ids: ids.slice(0, 1_000).map(fromHex) });
    for (const device of await ctx.ports.devicesOf(account)) await ctx.ports.sendPairwise({ account, device }, frame).catch(() => undefined);
  }
}
