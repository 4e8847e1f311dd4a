/**
 * Group frames that arrive over a member device's pairwise session (the session says which
 * account and device sent them), docs/PROTOCOL.md §17.6:
 *
 *   group.log      changes into the group's log, resolved; new system lines; a removal or
 *                  leave flags our chain for rotation. A group whose log does not name us
 *                  is not kept (a stranger cannot plant groups on us). Messages of the group
 *                  that came before it are opened then (group-repair.ts).
 *   group.skd      the sender device's chain into its record, then its held messages opened
 *   group.keyreq   a member device asks for our chain: it gets it at the iteration it was
 *                  first given it, or at the current one when it never had it; a non-member
 *                  gets nothing
 *   group.receipt  a member's delivered/read moves our message's `memberStatus` forward
 */
import { fromHex, toHex } from '../bytes.ts';
import { CryptoError } from '../crypto/index.ts';
import { parseSenderKeyDistribution } from '../groups/sender-key-distribution.ts';
import { deserializeSenderKeyRecord, EMPTY_SENDER_KEY_RECORD, processDistribution, serializeSenderKeyRecord } from '../groups/sender-key-record.ts';
import type { GroupRecord, MessageRecord, SenderKeyRow } from '../store/index.ts';
import { decodeGroupFrame, encodeGroupFrame, type GroupFrame } from '../wire/group-content.ts';
import { isWireError } from '../wire/index.ts';
import { isMember, membershipOf, takeChanges } from './group-membership.ts';
import { addressOf, dropped, meOf, memberKeyRow, ownKeyRow, type GroupContext, type MemberDevice } from './group-ports.ts';
import { releaseBeforeGroup, releaseHeld } from './group-repair.ts';
import { distributionAt, loadOwnChain, rankOf, weakest, withHanded } from './group-send.ts';

export async function receiveGroupControl(ctx: GroupContext, from: MemberDevice, bytes: Uint8Array): Promise<void> {
  let frame: GroupFrame;
  try {
    frame = decodeGroupFrame(bytes, ['group.log', 'group.skd', 'group.keyreq', 'group.receipt'], { metrics: ctx.metrics });
  } catch (err) {
    dropped(ctx, 'malformed', { detail: isWireError(err) ? err.reason : 'unknown' });
    return;
  }
  switch (frame.t) {
    case 'group.log':
      return takeLog(ctx, toHex(frame.group), frame.changes, Object.fromEntries(frame.names.map((n) => [toHex(n.ik), n.name])));
    case 'group.skd':
      return takeDistribution(ctx, toHex(frame.group), from, frame.dist);
    case 'group.keyreq':
      return answerKeyRequest(ctx, toHex(frame.group), from, frame.chain);
    case 'group.receipt':
      return takeReceipt(ctx, toHex(frame.group), from, frame.kind, frame.ids.map(toHex));
    default:
      return;
  }
}

async function takeLog(ctx: GroupContext, groupId: string, changes: Parameters<typeof takeChanges>[2], names: Record<string, string>): Promise<void> {
  const now = ctx.clock.now();
  const known = await ctx.store.getGroup(groupId);
  const record: GroupRecord = known ?? { id: groupId, changes: [], applied: [], names: {}, nextOrder: 1, lastActivityAt: now, createdAt: now };
  const out = takeChanges(ctx, record, changes, names);
  const me = meOf(ctx);
  if (!known && !isMember(out.after, me)) {
    dropped(ctx, 'group_without_us');
    return;
  }
  const senderKeys: SenderKeyRow[] = [];
  if (out.rotate) {
    const own = await ctx.store.getSenderKey(ownKeyRow(groupId));
    if (own?.own) senderKeys.push({ ...own, own: { ...own.own, rotate: true } });
  }
  await ctx.store.commit({ groups: [out.record], messages: out.lines, senderKeys });
  if (out.lines.length) ctx.metrics.inc('groups.change', { op: 'received' }, out.lines.length);
  // Messages that overtook the change adding us (group-repair.ts) open now, after its lines.
  if (isMember(out.after, me)) await releaseBeforeGroup(ctx, groupId);
}

async function takeDistribution(ctx: GroupContext, groupId: string, from: MemberDevice, bytes: Uint8Array): Promise<void> {
  let d;
  try {
    d = parseSenderKeyDistribution(bytes);
  } catch {
    dropped(ctx, 'malformed_distribution');
    return;
  }
  if (toHex(d.groupId) !== groupId) {
    dropped(ctx, 'malformed_distribution');
    return;
  }
  // Kept even before the group's log arrives (the two travel apart): messages are judged
  // on membership when they are opened, never on holding a key.
  const key = memberKeyRow(groupId, from);
  const row = await ctx.store.getSenderKey(key);
  let record = EMPTY_SENDER_KEY_RECORD;
  try {
    if (row) record = deserializeSenderKeyRecord(row.record);
  } catch {
    record = EMPTY_SENDER_KEY_RECORD;
  }
  try {
    record = processDistribution(record, d);
  } catch (err) {
    dropped(ctx, err instanceof CryptoError ? err.kind : 'bad_distribution');
    return;
  }
  await ctx.store.commit({ senderKeys: [{ key, groupId, record: serializeSenderKeyRecord(record) }] });
  ctx.metrics.inc('groups.sender_key.received');
  await releaseHeld(ctx, groupId, from);
}

async function answerKeyRequest(ctx: GroupContext, groupId: string, from: MemberDevice, chainId: number): Promise<void> {
  const group = await ctx.store.getGroup(groupId);
  const state = group && membershipOf(group).state;
  if (!state || !isMember(state, from.account) || !isMember(state, meOf(ctx))) {
    dropped(ctx, 'key_request_not_member');
    return;
  }
  const chain = await loadOwnChain(ctx, groupId);
  if (!chain || chain.state.chainId !== chainId) {
    ctx.metrics.inc('groups.key_request.unknown_chain');
    return;
  }
  const address = addressOf(from);
  const given = chain.row.own!.holders[address];
  // A device sent messages without the chain (its key change waited) is owed it from the first of them.
  const owed = chain.row.own!.owed?.[address];
  const at = given ?? owed ?? chain.state.iteration;
  try {
    await ctx.ports.sendOverSession(from, encodeGroupFrame({ t: 'group.skd', group: fromHex(groupId), dist: distributionAt(groupId, chain, at) }));
  } catch {
    // Not handed over (no session: one is being started, whose start hands what the device
    // is owed; or its key change waits for acknowledgement). Not a holder: our next message
    // distributes the chain to it, and it asks again.
    ctx.metrics.inc('groups.key_request.unanswered');
    return;
  }
  ctx.metrics.inc('groups.key_request.answered');
  if (given === undefined) {
    const { [address]: _paid, ...stillOwed } = chain.row.own!.owed ?? {};
    await ctx.store.commit({ senderKeys: [{ ...chain.row, own: withHanded(chain.row.own!, { holders: { ...chain.row.own!.holders, [address]: at }, owed: stillOwed }) }] });
  }
}

async function takeReceipt(ctx: GroupContext, groupId: string, from: MemberDevice, kind: 'delivered' | 'read', ids: readonly string[]): Promise<void> {
  const messages: MessageRecord[] = [];
  for (const id of ids) {
    const row = await ctx.store.getMessage(id);
    if (!row || row.contactId !== groupId || row.direction !== 'out' || !row.memberStatus) continue;
    const current = row.memberStatus[from.account];
    if (current === undefined || rankOf(current) >= rankOf(kind)) continue;
    const memberStatus = { ...row.memberStatus, [from.account]: kind };
    messages.push({ ...row, memberStatus, status: weakest(Object.values(memberStatus), row.status), updatedAt: ctx.clock.now() });
  }
  if (messages.length) await ctx.store.commit({ messages });
}
