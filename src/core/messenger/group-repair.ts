/**
 * Repair of a missing sender key (docs/PROTOCOL.md §17.6). A group message whose chain we
 * do not hold is kept (`groupHeld`), not shown, and we ask its sender device for the key
 * with a `group.keyreq` over the pairwise session. The sender answers a member's request
 * with a `group.skd` of that chain at the iteration the member was first given it (so a
 * member added later still reads nothing from before it joined); a non-member's request
 * is ignored. When a distribution arrives, the sender's held messages are opened in
 * per-sender order (chain as first held, then iteration).
 *
 * Nothing waits forever: the request is repeated every KEY_REQUEST_INTERVAL_MS, at most
 * KEY_REQUEST_MAX times, and a message held longer than HOLD_MAX_MS is dropped
 * (`groups.drop{reason=key_never_came}`) with a line in the chat saying so.
 *
 * A message whose group we do not know yet (it overtook the change that adds us) is held
 * too (`holdBeforeGroup`), whole, and opened once the group arrives (`releaseBeforeGroup`).
 */
import { fromHex, toHex } from '../bytes.ts';
import { groupSealKeys } from '../groups/group-seal.ts';
import type { HeldGroupMessageRecord, MessageRecord } from '../store/index.ts';
import { encodeGroupFrame } from '../wire/group-content.ts';
import { headerOf, openGroupMessage, receiveGroupEnvelope, type Received } from './group-receive.ts';
import { addressOf, dropped, parseAddress, type GroupContext, type MemberDevice } from './group-ports.ts';
import { nameOf } from './group-membership.ts';

export const KEY_REQUEST_INTERVAL_MS = 60_000;
export const KEY_REQUEST_MAX = 5;
export const HOLD_MAX_MS = 24 * 60 * 60 * 1000;
/** Most messages held per group (beyond: dropped as `held_full`). */
export const MAX_HELD_PER_GROUP = 2_000;
/** Most messages held, in all, for groups we do not know yet (beyond: dropped as `unknown_group`). */
export const MAX_HELD_BEFORE_GROUP = 500;
/** How long a message waits for its group to arrive. */
export const HOLD_BEFORE_GROUP_MS = 24 * 60 * 60 * 1000;

/** `done`: a row held before its group that this replaces (same id) or, when dropped, removes. */
export async function hold(ctx: GroupContext, groupId: string, sender: MemberDevice, message: Uint8Array, envelopeId: string, done: { heldDone?: string[] } = {}): Promise<Received> {
  const header = headerOf(message);
  if (!header) {
    dropped(ctx, 'malformed');
    if (done.heldDone) await ctx.store.commit({ dedup: { envelopeId, at: ctx.clock.now() }, ...done });
    return 'dropped';
  }
  const already = await ctx.store.heldOf(groupId);
  if (already.some((h) => h.id === envelopeId)) return 'held';
  if (already.length >= MAX_HELD_PER_GROUP) {
    dropped(ctx, 'held_full');
    await ctx.store.commit({ dedup: { envelopeId, at: ctx.clock.now() }, ...done });
    return 'dropped';
  }
  const now = ctx.clock.now();
  const asked = already.some((h) => h.sender === addressOf(sender) && h.chainId === header.chainId);
  const held: HeldGroupMessageRecord = { id: envelopeId, groupId, sender: addressOf(sender), chainId: header.chainId, iteration: header.iteration, message: message.slice(), heldAt: now, askedAt: now, asks: asked ? 0 : 1 };
  await ctx.store.commit({ held: [held] });
  ctx.metrics.inc('groups.held');
  if (!asked) await ask(ctx, groupId, sender, header.chainId);
  return 'held';
}

/** The held rows' group key for a group we do not know yet, by its seal's tag. */
export const beforeGroupKey = (tag: Uint8Array): string => `tag:${toHex(tag)}`;

/**
 * A group message whose seal's tag names none of our groups: most likely the change that
 * adds us is still on its way (it travels over a pairwise session, the message through
 * `send.multi`, and either may come first). Kept whole, at most MAX_HELD_BEFORE_GROUP in
 * all (beyond: dropped as `unknown_group`), until a group with that tag arrives
 * (`releaseBeforeGroup`) or HOLD_BEFORE_GROUP_MS pass (dropped as `unknown_group`: it was
 * not for us). Nothing is asked for: we cannot tell who sent it.
 */
export async function holdBeforeGroup(ctx: GroupContext, tag: Uint8Array, body: Uint8Array, envelopeId: string): Promise<Received> {
  const all = await ctx.store.allHeld();
  if (all.some((h) => h.id === envelopeId)) return 'held';
  const now = ctx.clock.now();
  if (all.filter((h) => h.beforeGroup).length >= MAX_HELD_BEFORE_GROUP) {
    dropped(ctx, 'unknown_group');
    await ctx.store.commit({ dedup: { envelopeId, at: now } });
    return 'dropped';
  }
  const held: HeldGroupMessageRecord = { id: envelopeId, groupId: beforeGroupKey(tag), beforeGroup: true, sender: '', chainId: 0, iteration: 0, message: body.slice(), heldAt: now, askedAt: now, asks: 0 };
  await ctx.store.commit({ held: [held] });
  ctx.metrics.inc('groups.held', { before: 'group' });
  return 'held';
}

/** Our group `groupId` is known now: the messages held before it are opened, in arrival order. */
export async function releaseBeforeGroup(ctx: GroupContext, groupId: string): Promise<number> {
  const held = await ctx.store.heldOf(beforeGroupKey(groupSealKeys(fromHex(groupId)).tag));
  if (!held.length) return 0;
  held.sort((a, b) => a.heldAt - b.heldAt || (a.id < b.id ? -1 : 1));
  let opened = 0;
  for (const h of held) if ((await receiveGroupEnvelope(ctx, h.id, h.message, h.id)) === 'committed') opened++;
  ctx.metrics.inc('groups.held.released', { before: 'group' }, held.length);
  return opened;
}

/** Queued over the sender device's session (waiting in the outbox for it while it is being started). */
async function ask(ctx: GroupContext, groupId: string, sender: MemberDevice, chainId: number): Promise<void> {
  try {
    await ctx.ports.sendPairwise(sender, encodeGroupFrame({ t: 'group.keyreq', group: fromHex(groupId), chain: chainId }));
    ctx.metrics.inc('groups.key_request.sent');
  } catch {
    ctx.metrics.inc('groups.key_request.unsent');
  }
}

/** A distribution from `sender` arrived: its held messages are opened, in per-sender order. */
export async function releaseHeld(ctx: GroupContext, groupId: string, sender: MemberDevice): Promise<number> {
  const address = addressOf(sender);
  const held = (await ctx.store.heldOf(groupId)).filter((h) => h.sender === address);
  const firstSeen = new Map<number, number>();
  for (const h of held) firstSeen.set(h.chainId, Math.min(firstSeen.get(h.chainId) ?? h.heldAt, h.heldAt));
  held.sort((a, b) => firstSeen.get(a.chainId)! - firstSeen.get(b.chainId)! || a.chainId - b.chainId || a.iteration - b.iteration);
  let opened = 0;
  for (const h of held) {
    const r = await openGroupMessage(ctx, groupId, sender, h.message, h.id, h.id);
    if (r === 'committed') opened++;
  }
  if (opened) ctx.metrics.inc('groups.held.released', {}, opened);
  return opened;
}

/** Asks again for keys still missing and gives up on messages held too long. */
export async function repairTick(ctx: GroupContext): Promise<void> {
  const now = ctx.clock.now();
  const all = await ctx.store.allHeld();
  const asked = new Set<string>();
  const expired: HeldGroupMessageRecord[] = [];
  const again: HeldGroupMessageRecord[] = [];
  const stale: string[] = [];
  for (const h of all) {
    if (h.beforeGroup) {
      if (now - h.heldAt >= HOLD_BEFORE_GROUP_MS) stale.push(h.id);
      continue;
    }
    if (now - h.heldAt >= HOLD_MAX_MS || (h.asks >= KEY_REQUEST_MAX && now - h.askedAt >= KEY_REQUEST_INTERVAL_MS)) {
      expired.push(h);
      continue;
    }
    const k = `${h.groupId}:${h.sender}:${h.chainId}`;
    if (now - h.askedAt >= KEY_REQUEST_INTERVAL_MS && !asked.has(k)) {
      asked.add(k);
      again.push({ ...h, askedAt: now, asks: h.asks + 1 });
      await ask(ctx, h.groupId, parseAddress(h.sender), h.chainId);
    }
  }
  // Held for a group that never came: not for us (no line: there is no chat to put it in).
  for (const id of stale) {
    dropped(ctx, 'unknown_group');
    await ctx.store.commit({ heldDone: [id], dedup: { envelopeId: id, at: now } }).catch(() => undefined);
  }
  if (!expired.length && !again.length) return;
  const lines: MessageRecord[] = [];
  const groups = new Map<string, Awaited<ReturnType<typeof ctx.store.getGroup>>>();
  for (const h of expired) {
    dropped(ctx, 'key_never_came');
    if (!groups.has(h.groupId)) groups.set(h.groupId, await ctx.store.getGroup(h.groupId));
    const g = groups.get(h.groupId);
    if (!g) continue;
    const who = nameOf(ctx, g, parseAddress(h.sender).account);
    lines.push({ id: h.id, contactId: h.groupId, direction: 'in', body: `A message from ${who} could not be decrypted`, sentAt: h.heldAt, receivedAt: now, order: g.nextOrder, status: 'read', updatedAt: now, system: true });
    groups.set(h.groupId, { ...g, nextOrder: g.nextOrder + 1 });
  }
  await ctx.store.commit({
    held: again,
    heldDone: expired.map((h) => h.id),
    messages: lines,
    groups: [...groups.values()].filter((g) => g !== undefined),
    // The expired envelopes are processed: a late copy is a duplicate.
  });
  for (const h of expired) await ctx.store.commit({ dedup: { envelopeId: h.id, at: now } }).catch(() => undefined);
}
