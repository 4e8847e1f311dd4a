/**
 * Receiving a group message (a `group.env` deposited by `send.multi`, docs/PROTOCOL.md §17.6):
 *
 *   - a sender that is no longer a member is taken only when the group version its message
 *     carries is one at which it was a member (it sent before its removal reached it);
 *   - it decodes, its seal's tag names a group we hold and the seal opens under that group's
 *     key (`unsealable` otherwise, group-seal.ts), and its sender is a member of it while we are one
 *     (else dropped: `malformed`, `not_member`, `not_member_self`); a tag that names none of
 *     our groups is HELD until the change that adds us brings the group (it may overtake
 *     it: the two travel apart), then opened in arrival order (group-repair.ts);
 *   - the sender device's record decrypts it (group-cipher.ts): a bad signature, a counter
 *     already read (`replayed`), a jump too far ahead, a failed tag are dropped and counted;
 *     a chain we do not hold yet is HELD and its key asked for (group-repair.ts);
 *   - a `group.act` (a reply, edit, delete for everyone or reaction) is judged by
 *     group-actions.ts, under the same membership rule; an action commits with the record
 *     and the dedup mark, and is applied (or held for its target) in that transaction;
 *   - the sender's advanced record, the message row and the envelope's dedup mark commit in
 *     ONE transaction (a second copy of the envelope commits nothing); only then is the
 *     envelope acknowledged (the caller's `ack` after this resolves) and a delivery
 *     receipt sent to the sender device.
 *
 * Every drop is `groups.drop{reason}`; nothing dropped is ever shown.
 */
import { bytesEqual, fromHex, toHex } from '../bytes.ts';
import { groupSealKeys, openGroupBox, type GroupSealKeys } from '../groups/group-seal.ts';
import { CryptoError, NoSenderKeyError } from '../crypto/index.ts';
import { groupDecrypt } from '../groups/group-cipher.ts';
import { EMPTY_SENDER_KEY_RECORD, deserializeSenderKeyRecord, serializeSenderKeyRecord } from '../groups/sender-key-record.ts';
import { parseSenderKeyMessage } from '../groups/sender-key-message.ts';
import type { GroupRecord, MessageRecord } from '../store/index.ts';
import { decodeGroupFrame, encodeGroupFrame } from '../wire/group-content.ts';
import { isWireError } from '../wire/index.ts';
import { isMember, membershipOf, wasMemberAt } from './group-membership.ts';
import { hold, holdBeforeGroup } from './group-repair.ts';
import { groupActContent, type GroupActReceived } from './group-actions.ts';
import { ME } from '../store/message-actions.ts';
import { dropped, meOf, memberKeyRow, SINGLE_DEVICE, type GroupContext, type MemberDevice } from './group-ports.ts';

export type Received = 'committed' | 'duplicate' | 'held' | 'dropped';

/**
 * One group envelope from the relay; resolves once its outcome is durable (then it may be
 * acknowledged). `heldBefore`: the id of the row it was held under before its group
 * arrived (group-repair.ts `holdBeforeGroup`), consumed by whatever this commits.
 */
export async function receiveGroupEnvelope(ctx: GroupContext, envelopeId: string, body: Uint8Array, heldBefore?: string): Promise<Received> {
  const done = heldBefore ? { heldDone: [heldBefore] } : {};
  let outer;
  try {
    outer = decodeGroupFrame(body, ['group.sealed'], { metrics: ctx.metrics });
  } catch (err) {
    dropped(ctx, 'malformed', { detail: isWireError(err) ? err.reason : 'unknown' });
    if (heldBefore) await ctx.store.commit(done);
    return 'dropped';
  }
  if (outer.t !== 'group.sealed') return 'dropped';
  // The tag names the group to its members only; none of ours: a group whose change adding
  // us has not arrived yet (held until it does), or one that is not for us (expires).
  let keys: GroupSealKeys | undefined;
  let groupId = '';
  for (const g of await ctx.store.listGroups()) {
    const k = groupSealKeys(fromHex(g.id));
    if (bytesEqual(k.tag, outer.tag)) {
      keys = k;
      groupId = g.id;
      break;
    }
  }
  if (!keys) return heldBefore ? 'held' : holdBeforeGroup(ctx, outer.tag, body, envelopeId);
  let env;
  try {
    env = decodeGroupFrame(await openGroupBox(keys, outer.box, ctx.crypto), ['group.env'], { metrics: ctx.metrics });
  } catch {
    return drop(ctx, 'unsealable', envelopeId, done);
  }
  if (env.t !== 'group.env' || toHex(env.group) !== groupId) return drop(ctx, 'unsealable', envelopeId, done);
  const sender: MemberDevice = { account: toHex(env.from), device: env.dev.length ? toHex(env.dev) : SINGLE_DEVICE };
  return openGroupMessage(ctx, groupId, sender, env.msg, envelopeId, heldBefore, true);
}

/**
 * Decrypts and commits one sender-key message of `sender` (an envelope, or one held before).
 * `heldId`: the held row this consumes (removed in the same commit). `fromEnvelope`: it comes from
 * an envelope (perhaps one held before its group), not from a row held for its key, so a
 * missing key holds it rather than leaving it where it is (`fromEnvelope`).
 */
export async function openGroupMessage(ctx: GroupContext, groupId: string, sender: MemberDevice, message: Uint8Array, envelopeId: string, heldId?: string, fromEnvelope = !heldId): Promise<Received> {
  const group = await ctx.store.getGroup(groupId);
  const done = heldId ? { heldDone: [heldId] } : {};
  if (!group) {
    dropped(ctx, 'unknown_group');
    if (heldId) await ctx.store.commit(done);
    return 'dropped';
  }
  const state = membershipOf(group).state;
  if (!isMember(state, meOf(ctx))) return drop(ctx, 'not_member_self', envelopeId, done);
  // A sender who is not a member now may have sent before its removal: judged on the
  // version the message carries, once it is open (below).
  const memberNow = isMember(state, sender.account);
  if (sender.account === meOf(ctx) && sender.device === ctx.ports.thisDevice) return drop(ctx, 'own_echo', envelopeId, done);

  const key = memberKeyRow(groupId, sender);
  const row = await ctx.store.getSenderKey(key);
  let record = EMPTY_SENDER_KEY_RECORD;
  try {
    if (row) record = deserializeSenderKeyRecord(row.record);
  } catch {
    // A damaged record reads nothing; a fresh distribution replaces it.
    record = EMPTY_SENDER_KEY_RECORD;
  }
  let opened;
  try {
    opened = await groupDecrypt(record, fromHex(groupId), message, ctx.crypto);
  } catch (err) {
    // A non-member's chain we do not hold: nothing to judge its version by.
    if (err instanceof NoSenderKeyError && !memberNow) return drop(ctx, 'not_member', envelopeId, done);
    if (err instanceof NoSenderKeyError && fromEnvelope) {
      // A row held before its group is replaced by this one (same id), in one commit.
      return hold(ctx, groupId, sender, message, envelopeId, done);
    }
    if (err instanceof NoSenderKeyError) return 'held'; // still waiting: the held row stays
    const reason = err instanceof CryptoError ? err.kind : 'undecryptable';
    return drop(ctx, reason === 'duplicate_message' ? 'replayed' : reason, envelopeId, done);
  }
  const senderKeys = [{ key, groupId, record: serializeSenderKeyRecord(opened.record) }];
  let content;
  try {
    content = decodeGroupFrame(opened.plaintext, ['group.msg', 'group.act'], { metrics: ctx.metrics });
  } catch {
    // The key is spent: the advanced record commits, the message is not shown.
    dropped(ctx, 'malformed_content');
    await ctx.store.commit({ senderKeys, dedup: { envelopeId, at: ctx.clock.now() }, ...done });
    return 'dropped';
  }
  if (content.t !== 'group.msg' && content.t !== 'group.act') return 'dropped';
  if (!memberNow && !(content.gv <= state!.version && wasMemberAt(membershipOf(group), content.gv, sender.account))) {
    // The key is spent either way: the advanced record commits, the message is not shown.
    dropped(ctx, 'not_member');
    await ctx.store.commit({ senderKeys, dedup: { envelopeId, at: ctx.clock.now() }, ...done });
    return 'dropped';
  }
  if (!memberNow) ctx.metrics.inc('groups.receive.before_removal');
  const now = ctx.clock.now();
  const fresh = await ctx.store.getGroup(groupId);
  const g: GroupRecord = fresh ?? group;
  const own = sender.account === meOf(ctx);
  // A reply, edit, delete or reaction (group-actions.ts); ours from another device is ours here too.
  const said: GroupActReceived = content.t === 'group.msg' ? { kind: 'row', id: content.id, ts: content.ts, text: content.text } : await groupActContent(ctx, groupId, own ? ME : sender.account, content.content, now);
  if (!said || said.kind === 'action') {
    const outcome = await ctx.store.commit({ senderKeys, dedup: { envelopeId, at: now }, ...done, ...(said ? { actions: [{ groupId, action: said.action }], now } : {}) });
    if (outcome === 'duplicate') return 'duplicate';
    return said ? 'committed' : 'dropped';
  }
  const row2: MessageRecord = {
    id: toHex(said.id),
    contactId: groupId,
    direction: own ? 'out' : 'in',
    body: said.text,
    sentAt: said.ts,
    receivedAt: now,
    order: g.nextOrder,
    status: own ? 'sent' : 'delivered',
    updatedAt: now,
    ...(own ? {} : { senderId: sender.account }),
    ...(said.quote ? { quote: said.quote } : {}),
  };
  const existing = await ctx.store.getMessage(row2.id);
  const outcome = await ctx.store.commit({
    senderKeys,
    ...(existing ? {} : { messages: [row2], groups: [{ ...g, nextOrder: g.nextOrder + 1, lastActivityAt: now }] }),
    dedup: { envelopeId, at: now },
    now,
    ...done,
  });
  if (outcome === 'duplicate') return 'duplicate';
  ctx.metrics.inc('groups.receive');
  if (!own && !existing) {
    const receipt = encodeGroupFrame({ t: 'group.receipt', group: fromHex(groupId), kind: 'delivered', ids: [said.id] });
    void ctx.ports.sendPairwise(sender, receipt).catch(() => undefined);
  }
  return 'committed';
}

async function drop(ctx: GroupContext, reason: string, envelopeId: string, done: { heldDone?: string[] }): Promise<Received> {
  dropped(ctx, reason);
  await ctx.store.commit({ dedup: { envelopeId, at: ctx.clock.now() }, ...done }).catch(() => undefined);
  return 'dropped';
}

/** The header of a sender-key message (chain and iteration), or undefined when it does not parse. */
export function headerOf(message: Uint8Array): { chainId: number; iteration: number } | undefined {
  try {
    const m = parseSenderKeyMessage(message);
    return { chainId: m.chainId, iteration: m.iteration };
  } catch {
    return undefined;
  }
}
