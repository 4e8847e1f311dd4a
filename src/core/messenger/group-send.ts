/**
 * Sending to a group (docs/PROTOCOL.md §17.6):
 *
 *   1. Our sender chain for the group: a new one when we have none, when a member left or
 *      was removed since it was made (`rotate`), when a device that holds it is no longer a
 *      member device (its account, ours included, unlinked it), after
 *      SENDER_KEY_ROTATE_AFTER_MESSAGES messages or SENDER_KEY_ROTATE_AFTER_MS.
 *   2. Every member device that does not hold the chain yet (a new chain: all of them; an
 *      added member: its devices) gets its distribution over its pairwise session, at the
 *      chain's current iteration — so an added member reads nothing sent before. A device
 *      without a session is not waited for: a session is started, the device is owed the
 *      chain from this message's iteration, and it is handed over once that session has
 *      started (`handOwed`); the message goes to it too, and opens then.
 *   3. ONE sender-key encryption; the message row, our advanced chain and the outbox entry
 *      commit in one transaction; then ONE `send.multi` to every other member device.
 *      Until the relay holds it, the entry stays in the group outbox (`flush` sends it again
 *      under the same envelope id, which the relay stores once per mailbox).
 */
import { groupSealKeys, sealGroupBox } from '../groups/group-seal.ts';
import { fromHex, toHex } from '../bytes.ts';
import { groupEncrypt } from '../groups/group-cipher.ts';
import { SENDER_KEY_ROTATE_AFTER_MESSAGES, SENDER_KEY_ROTATE_AFTER_MS } from '../groups/limits.ts';
import { distributionOf, parseSenderKeyDistribution } from '../groups/sender-key-distribution.ts';
import { deserializeSenderKeyRecord, serializeSenderKeyRecord } from '../groups/sender-key-record.ts';
import { createSenderKeyState, nextMessageKey, receivedSenderKeyState, type SenderKeyState } from '../groups/sender-key-state.ts';
import type { GroupOutboxRecord, GroupRecord, MessageRecord, SenderKeyRow } from '../store/index.ts';
import { encodeGroupFrame } from '../wire/group-content.ts';
import { isMember, membershipOf, memberIds } from './group-membership.ts';
import { addressOf, meOf, ownKeyRow, parseAddress, SINGLE_DEVICE, type GroupContext, type MemberDevice } from './group-ports.ts';
import { InvalidMessageTextError, UnknownGroupError } from './errors.ts';
import { groupQuoteOf, groupReplyFrame } from './group-reply.ts';

/** Our own chain as stored: the state (with its signing seed), and its bookkeeping. */
export interface OwnChain {
  readonly state: SenderKeyState;
  readonly row: SenderKeyRow;
}

/** Longest group message text (UTF-16 code units), as for 1:1 messages. */
export const MAX_GROUP_TEXT = 4_096;

/** Every member device but this one: our other devices and each other member's. */
export async function memberDevices(ctx: GroupContext, accounts: readonly string[]): Promise<MemberDevice[]> {
  const me = meOf(ctx);
  const out: MemberDevice[] = [];
  for (const account of accounts) {
    for (const device of await ctx.ports.devicesOf(account)) {
      if (account === me && (device === ctx.ports.thisDevice || device === SINGLE_DEVICE)) continue;
      out.push({ account, device });
    }
  }
  return out;
}

export async function loadOwnChain(ctx: GroupContext, groupId: string): Promise<OwnChain | undefined> {
  const row = await ctx.store.getSenderKey(ownKeyRow(groupId));
  const state = row && deserializeSenderKeyRecord(row.record).states[0];
  return row?.own && state ? { state, row } : undefined;
}

function freshChain(ctx: GroupContext, groupId: string): OwnChain {
  const now = ctx.clock.now();
  const state = createSenderKeyState(ctx.random, now);
  const origin = distributionOf(fromHex(groupId), state);
  return { state, row: { key: ownKeyRow(groupId), groupId, record: serializeSenderKeyRecord({ states: [state] }), own: { sent: 0, createdAt: now, holders: {}, rotate: false, origin } } };
}

function due(ctx: GroupContext, chain: OwnChain | undefined): boolean {
  const own = chain?.row.own;
  if (!chain || !own) return true;
  return own.rotate || own.sent >= SENDER_KEY_ROTATE_AFTER_MESSAGES || ctx.clock.now() - own.createdAt >= SENDER_KEY_ROTATE_AFTER_MS;
}

/**
 * Does a device that is no longer a member device hold our chain? A device its account
 * unlinked (one of ours, or a member's) keeps every chain it was handed, so the chain is
 * replaced before our next message, as after a removal. A holder listed as the account's
 * only device (SINGLE_DEVICE, from before it had a list) is that account's first device:
 * it gets a listed address when the account links another, and is no reason to rotate.
 */
function heldByFormerDevice(chain: OwnChain, current: ReadonlySet<string>): boolean {
  return Object.keys(chain.row.own!.holders).some((a) => !current.has(a) && parseAddress(a).device !== SINGLE_DEVICE);
}

/** Our chain's distribution at `iteration` (derived from the chain's start; never before it). */
export function distributionAt(groupId: string, chain: OwnChain, iteration: number): Uint8Array {
  const origin = parseSenderKeyDistribution(chain.row.own!.origin);
  let s = receivedSenderKeyState(origin.chainId, origin.iteration, origin.chainKey, origin.signingPublic);
  while (s.iteration < iteration) s = nextMessageKey(s).state;
  return distributionOf(fromHex(groupId), s);
}

/** Who holds our chain, and who is owed it from an earlier iteration (SenderKeyRow.own). */
export interface Handed {
  readonly holders: Record<string, number>;
  readonly owed: Record<string, number>;
}

/**
 * Hands our chain to every target that does not hold it; returns the holders afterwards.
 * A device owed the chain from an earlier iteration gets it at that one (the messages it
 * was sent without the chain open too). Nothing here waits for a session: a device without
 * one (a session is being started for it), or that we could not reach otherwise, stays
 * out, owed from the current iteration (`keep`: the message about to be sent goes to it
 * too). It is handed over when its session has started or its key change is acknowledged
 * (`handOwed`), or when it asks for the key on our message's arrival (group-repair.ts).
 */
export async function distribute(ctx: GroupContext, groupId: string, chain: OwnChain, targets: readonly MemberDevice[], keep = true): Promise<Handed> {
  const holders: Record<string, number> = { ...chain.row.own!.holders };
  const owed: Record<string, number> = { ...(chain.row.own!.owed ?? {}) };
  const current = encodeGroupFrame({ t: 'group.skd', group: fromHex(groupId), dist: distributionOf(fromHex(groupId), chain.state) });
  for (const t of targets) {
    const a = addressOf(t);
    if (a in holders) continue;
    const from = owed[a];
    try {
      await ctx.ports.sendOverSession(t, from === undefined ? current : encodeGroupFrame({ t: 'group.skd', group: fromHex(groupId), dist: distributionAt(groupId, chain, from) }));
      holders[a] = from ?? chain.state.iteration;
      delete owed[a];
      ctx.metrics.inc('groups.sender_key.distributed');
    } catch (err) {
      if (keep && from === undefined) {
        owed[a] = chain.state.iteration;
        ctx.metrics.inc('groups.sender_key.owed');
      }
      ctx.log.warn('sender key not handed to a member device', { to: a.slice(0, 8), error: err instanceof Error ? err.name : 'unknown' });
    }
  }
  return { holders, owed };
}

/** Our chain's bookkeeping with these holders and owed entries (no `owed` field when none is owed). */
export function withHanded(own: NonNullable<SenderKeyRow['own']>, handed: Handed): NonNullable<SenderKeyRow['own']> {
  const { owed: _before, ...rest } = own;
  return Object.keys(handed.owed).length ? { ...rest, holders: handed.holders, owed: handed.owed } : { ...rest, holders: handed.holders };
}

/**
 * `account` can be sent to now (its key change was acknowledged, or a session with one of
 * its devices has started): its devices owed our chain in any group (messages we sent them
 * while it waited) get it now, at the iteration they are owed from, so those messages open
 * as a 1:1 message that waited would be sent. Each group's holders commit after its
 * distributions are queued; a device not reached stays owed (tried again on the next start
 * or send, or answered on its key request). Returns how many were handed.
 */
export async function handOwed(ctx: GroupContext, account: string): Promise<number> {
  let handed = 0;
  for (const group of await ctx.store.listGroups()) {
    const state = membershipOf(group).state;
    if (!isMember(state, meOf(ctx)) || !isMember(state, account)) continue;
    const chain = await loadOwnChain(ctx, group.id);
    const owed = chain?.row.own!.owed;
    if (!chain || !owed) continue;
    const targets = (await memberDevices(ctx, [account])).filter((t) => addressOf(t) in owed);
    if (!targets.length) continue;
    const after = await distribute(ctx, group.id, chain, targets, false);
    handed += Object.keys(owed).length - Object.keys(after.owed).length;
    await ctx.store.commit({ senderKeys: [{ ...chain.row, own: withHanded(chain.row.own!, after) }] });
  }
  if (handed) ctx.metrics.inc('groups.sender_key.owed_handed', {}, handed);
  return handed;
}

/** `replyTo`: a reply (group-actions.ts), sent as a `group.act` around a `reply` content. */
export async function sendGroupMessage(ctx: GroupContext, groupId: string, text: string, id: Uint8Array, replyTo?: string): Promise<string> {
  if (typeof text !== 'string' || !text.trim() || text.length > MAX_GROUP_TEXT) throw new InvalidMessageTextError(`a group message is 1..${MAX_GROUP_TEXT} characters`);
  const messageId = toHex(id);
  const existing = await ctx.store.getMessage(messageId);
  if (existing) return messageId; // the command again with the same id: queued once
  const group = await ctx.store.getGroup(groupId);
  const state = group && membershipOf(group).state;
  const me = meOf(ctx);
  if (!group || !isMember(state, me)) throw new UnknownGroupError('no such group, or we are no longer a member');
  const others = memberIds(state).filter((a) => a !== me);
  const now = ctx.clock.now();
  // The group version we send under: a member who applied our removal first still takes it (group-receive.ts).
  const quote = replyTo === undefined ? undefined : await groupQuoteOf(ctx, groupId, replyTo);
  const plaintext = quote ? groupReplyFrame(id, now, text, quote, state!.version) : encodeGroupFrame({ t: 'group.msg', id, ts: now, text, gv: state!.version });
  const { body, senderKey: row, targets } = await sealForMembers(ctx, group, plaintext);
  const message: MessageRecord = {
    id: messageId,
    contactId: groupId,
    direction: 'out',
    body: text,
    sentAt: now,
    order: group.nextOrder,
    status: 'queued',
    updatedAt: now,
    memberStatus: Object.fromEntries(others.map((a) => [a, 'queued' as const])),
    ...(quote ? { quote } : {}),
  };
  const outbox: GroupOutboxRecord = { messageId, groupId, body, to: targets.map(addressOf), createdAt: now };
  const nextGroup: GroupRecord = { ...group, nextOrder: group.nextOrder + 1, lastActivityAt: now };
  await ctx.store.commit({ groups: [nextGroup], senderKeys: [row], messages: [message], outbox: [outbox] });
  ctx.metrics.inc('groups.send');
  await deliver(ctx, outbox);
  return messageId;
}

/**
 * `plaintext` (a group.msg or group.act) sealed for every member device of `group` but this
 * one: our chain (new or rotated when due) handed to the devices that lack it, ONE
 * sender-key encryption, the group seal around it. Returns the `send.multi` body, our
 * advanced chain row (to commit with what the send changes) and the devices it goes to.
 */
export async function sealForMembers(ctx: GroupContext, group: GroupRecord, plaintext: Uint8Array): Promise<{ body: Uint8Array; senderKey: SenderKeyRow; targets: MemberDevice[] }> {
  const groupId = group.id;
  const targets = await memberDevices(ctx, memberIds(membershipOf(group).state));
  const current = new Set(targets.map(addressOf));
  let chain = await loadOwnChain(ctx, groupId);
  const unlinkedHolder = !!chain && heldByFormerDevice(chain, current);
  if (!chain || due(ctx, chain) || unlinkedHolder) {
    if (chain) ctx.metrics.inc('groups.sender_key.rotated', unlinkedHolder ? { reason: 'device_unlinked' } : undefined);
    chain = freshChain(ctx, groupId);
  }
  // Members who left keep no holder (or owed) entry: were one re-added, it gets the chain anew.
  const kept = (r: Readonly<Record<string, number>> | undefined) => Object.fromEntries(Object.entries(r ?? {}).filter(([a]) => current.has(a)));
  chain = { ...chain, row: { ...chain.row, own: { ...chain.row.own!, holders: kept(chain.row.own!.holders), owed: kept(chain.row.own!.owed) } } };
  const { holders, owed } = await distribute(ctx, groupId, chain, targets);

  const sealed = await groupEncrypt(chain.state, fromHex(groupId), plaintext, ctx.crypto);
  const env = encodeGroupFrame({ t: 'group.env', group: fromHex(groupId), from: ctx.identity.publicKey, dev: ctx.ports.thisDevice === SINGLE_DEVICE ? new Uint8Array(0) : fromHex(ctx.ports.thisDevice), msg: sealed.message });
  // Sealed: the relay sees neither who sent it nor which group (group-seal.ts).
  const keys = groupSealKeys(fromHex(groupId));
  const body = encodeGroupFrame({ t: 'group.sealed', tag: keys.tag, box: await sealGroupBox(keys, env, ctx.crypto, ctx.random) });
  const senderKey: SenderKeyRow = { ...chain.row, record: serializeSenderKeyRecord({ states: [sealed.state] }), own: { ...withHanded(chain.row.own!, { holders, owed }), sent: chain.row.own!.sent + 1 } };
  return { body, senderKey, targets };
}

/** Deposits one committed group send; on success the entry goes and the row (and each member) says `sent`. */
export async function deliver(ctx: GroupContext, entry: GroupOutboxRecord): Promise<boolean> {
  try {
    if (entry.to.length) await ctx.ports.sendMulti(fromHex(entry.messageId), entry.to.map(parseAddress), entry.body);
  } catch (err) {
    ctx.metrics.inc('groups.send.deferred');
    ctx.log.info('group send waits for the relay', { error: err instanceof Error ? err.name : 'unknown' });
    return false;
  }
  const row = await ctx.store.getMessage(entry.messageId);
  const messages: MessageRecord[] = [];
  if (row && row.status === 'queued') {
    const memberStatus = Object.fromEntries(Object.entries(row.memberStatus ?? {}).map(([a, s]) => [a, s === 'queued' ? ('sent' as const) : s]));
    messages.push({ ...row, status: weakest(Object.values(memberStatus), 'sent'), memberStatus, updatedAt: ctx.clock.now() });
  }
  await ctx.store.commit({ outboxDone: [entry.messageId], messages });
  return true;
}

const RANK = { failed: 0, queued: 1, sent: 2, delivered: 3, read: 4 } as const;

/** The weakest of the members' statuses (`fallback` when there are none). */
export function weakest(statuses: readonly (keyof typeof RANK)[], fallback: keyof typeof RANK): keyof typeof RANK {
  if (!statuses.length) return fallback;
  return statuses.reduce((a, b) => (RANK[b] < RANK[a] ? b : a));
}

export function rankOf(s: keyof typeof RANK): number {
  return RANK[s];
}
