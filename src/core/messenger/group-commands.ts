/**
 * The user's group commands (docs/PROTOCOL.md §17.4, §17.6): create, add, remove, leave,
 * rename. Each signs ONE change on the head of the group's resolved log, applies it locally
 * through the same resolution every member runs (group-log.ts), commits the log, the
 * system line and — for a removal or leave — the rotation of our chain in one
 * transaction, and then sends the change to the member devices over their pairwise
 * sessions: new members get the whole log, the others the new change, and a removed
 * member gets its removal (so it sees it) and nothing after it. A member device without a
 * session yet is not waited for: its frames wait for the session durably in the outbox
 * (group-wiring.ts `sendPairwise`), so a command never holds the group lane for one.
 */
import { fromHex, toHex } from '../bytes.ts';
import { MAX_GROUP_MEMBERS } from '../groups/limits.ts';
import type { GroupRecord, SenderKeyRow } from '../store/index.ts';
import type { SignedGroupChange } from '../wire/group-change.ts';
import { encodeGroupFrame, MAX_GROUP_FRAME_BYTES, MAX_LOG_FRAME_CHANGES, MAX_LOG_FRAME_NAMES } from '../wire/group-content.ts';
import { GroupTooLargeError, InvalidMessageTextError, NotGroupAdminError, UnknownContactError, UnknownGroupError } from './errors.ts';
import { isAdmin, isMember, memberIds, membershipOf, signChange, takeChanges } from './group-membership.ts';
import { memberDevices } from './group-send.ts';
import { meOf, ownKeyRow, type GroupContext } from './group-ports.ts';

const ACCOUNT_ID = /^[0-9a-f]{64}$/u;
const GROUP_ID = /^[0-9a-f]{32}$/u;

export function checkedGroupName(name: string): string {
  const n = typeof name === 'string' ? name.trim() : '';
  if (!n || [...n].length > 64) throw new InvalidMessageTextError('a group name is 1..64 characters');
  return n;
}

function checkedMembers(ctx: GroupContext, ids: readonly string[]): string[] {
  if (!Array.isArray(ids)) throw new UnknownContactError('members must be a list of contact ids');
  const unique = [...new Set(ids)];
  for (const id of unique) if (typeof id !== 'string' || !ACCOUNT_ID.test(id) || !ctx.ports.isContact(id) || id === meOf(ctx)) throw new UnknownContactError('not one of our contacts');
  return unique;
}

/**
 * Names we tell members (for the members who are not their contacts): ours and our
 * contacts' own (profile) names, never the names the user gave them here.
 */
function namesFor(ctx: GroupContext, accounts: readonly string[]): { ik: Uint8Array; name: string }[] {
  const out = [{ ik: ctx.identity.publicKey, name: ctx.ports.ownName() }];
  for (const a of accounts) {
    const name = a === meOf(ctx) ? undefined : ctx.ports.profileName(a);
    if (name) out.push({ ik: fromHex(a), name });
  }
  return out.filter((n) => n.name);
}

/**
 * The changes, then the names, in frames that each fit a pairwise content. The names ride
 * in the last frame of changes as far as they fit (a member then sees the group with its
 * members' names at once, never "Member 1a2b…" for a moment; a small group is one frame);
 * the rest follow in frames of names alone, after the changes, so the group is known first.
 */
export function logFrames(groupId: string, changes: readonly SignedGroupChange[], names: readonly { ik: Uint8Array; name: string }[]): Uint8Array[] {
  const group = fromHex(groupId);
  const frames: Uint8Array[] = [];
  const budget = MAX_GROUP_FRAME_BYTES - 512;
  let batch: SignedGroupChange[] = [];
  let size = 0;
  for (const c of changes) {
    const cost = c.body.length + c.sig.length + 16;
    if (batch.length && (batch.length >= MAX_LOG_FRAME_CHANGES || size + cost > budget)) {
      frames.push(encodeGroupFrame({ t: 'group.log', group, changes: batch, names: [] }));
      batch = [];
      size = 0;
    }
    batch.push(c);
    size += cost;
  }
  // Names fill what the last frame of changes has left, then frames of their own, each
  // within the same byte budget (400 names of 128 bytes would not fit one frame).
  const utf8 = new TextEncoder();
  let pending: { ik: Uint8Array; name: string }[] = [];
  for (const n of names) {
    // The name's bytes, its key, and their CBOR map with its two keys (a few bytes spare).
    const cost = n.ik.length + utf8.encode(n.name).length + 16;
    if (pending.length >= MAX_LOG_FRAME_NAMES || size + cost > budget) {
      frames.push(encodeGroupFrame({ t: 'group.log', group, changes: batch, names: pending }));
      batch = [];
      pending = [];
      size = 0;
    }
    pending.push(n);
    size += cost;
  }
  if (batch.length || pending.length) frames.push(encodeGroupFrame({ t: 'group.log', group, changes: batch, names: pending }));
  return frames;
}

async function send(ctx: GroupContext, groupId: string, accounts: readonly string[], changes: readonly SignedGroupChange[], names: { ik: Uint8Array; name: string }[]): Promise<void> {
  const devices = await memberDevices(ctx, accounts);
  const frames = logFrames(groupId, changes, names);
  for (const d of devices) {
    for (const frame of frames) {
      try {
        await ctx.ports.sendPairwise(d, frame);
      } catch {
        ctx.metrics.inc('groups.change.unsent');
        break;
      }
    }
  }
}

/** Applies our own signed change; rejects when the resolution does not take it (a concurrent change won). */
async function apply(ctx: GroupContext, record: GroupRecord, change: SignedGroupChange): Promise<GroupRecord> {
  const out = takeChanges(ctx, record, [change]);
  const senderKeys: SenderKeyRow[] = [];
  if (out.rotate) {
    const own = await ctx.store.getSenderKey(ownKeyRow(record.id));
    if (own?.own) senderKeys.push({ ...own, own: { ...own.own, rotate: true } });
  }
  await ctx.store.commit({ groups: [out.record], messages: out.lines, senderKeys });
  ctx.metrics.inc('groups.change', { op: 'local' });
  return out.record;
}

export async function createGroup(ctx: GroupContext, name: string, ids: readonly string[], groupId?: string): Promise<string> {
  const n = checkedGroupName(name);
  if (Array.isArray(ids) && new Set(ids).size + 1 > MAX_GROUP_MEMBERS) throw new GroupTooLargeError(`a group has at most ${MAX_GROUP_MEMBERS} members`);
  const members = checkedMembers(ctx, ids);
  if (members.length === 0) throw new GroupTooLargeError('a group needs at least one other member');
  const id = groupId && GROUP_ID.test(groupId) ? groupId : toHex(ctx.random.bytes(16));
  if (await ctx.store.getGroup(id)) return id; // the same command again
  const me = meOf(ctx);
  const change = signChange(ctx, fromHex(id), undefined, 'create', { name: n, members: [me, ...members].map(fromHex) });
  const now = ctx.clock.now();
  const empty: GroupRecord = { id, changes: [], applied: [], names: {}, nextOrder: 1, lastActivityAt: now, createdAt: now };
  const record = await apply(ctx, empty, change);
  await send(ctx, id, [me, ...members], record.changes, namesFor(ctx, [me, ...members]));
  return id;
}

async function adminGroup(ctx: GroupContext, groupId: string): Promise<{ record: GroupRecord; state: NonNullable<ReturnType<typeof membershipOf>['state']> }> {
  const record = typeof groupId === 'string' ? await ctx.store.getGroup(groupId) : undefined;
  const state = record && membershipOf(record).state;
  if (!record || !state || !isMember(state, meOf(ctx))) throw new UnknownGroupError('no such group, or we are no longer a member');
  if (!isAdmin(state, meOf(ctx))) throw new NotGroupAdminError('only an admin may change the group');
  return { record, state };
}

export async function addGroupMembers(ctx: GroupContext, groupId: string, ids: readonly string[]): Promise<void> {
  const { record, state } = await adminGroup(ctx, groupId);
  const fresh = checkedMembers(ctx, ids).filter((a) => !isMember(state, a));
  if (fresh.length === 0) return;
  if (state.members.length + fresh.length > MAX_GROUP_MEMBERS) throw new GroupTooLargeError(`a group has at most ${MAX_GROUP_MEMBERS} members`);
  const change = signChange(ctx, fromHex(groupId), state, 'add', { members: fresh.map(fromHex) });
  const next = await apply(ctx, record, change);
  const old = memberIds(state);
  await send(ctx, groupId, old, [change], namesFor(ctx, fresh));
  await send(ctx, groupId, fresh, next.changes, namesFor(ctx, [...old, ...fresh]));
}

export async function removeGroupMember(ctx: GroupContext, groupId: string, memberId: string): Promise<void> {
  const { record, state } = await adminGroup(ctx, groupId);
  if (memberId === meOf(ctx)) return leaveGroup(ctx, groupId);
  if (!isMember(state, memberId)) throw new UnknownContactError('not a member of this group');
  const change = signChange(ctx, fromHex(groupId), state, 'remove', { members: [fromHex(memberId)] });
  await apply(ctx, record, change);
  // The removed member included: it sees its removal, and nothing sent after it.
  await send(ctx, groupId, memberIds(state), [change], []);
}

export async function leaveGroup(ctx: GroupContext, groupId: string): Promise<void> {
  const record = typeof groupId === 'string' ? await ctx.store.getGroup(groupId) : undefined;
  const state = record && membershipOf(record).state;
  if (!record || !state) throw new UnknownGroupError('no such group');
  if (!isMember(state, meOf(ctx))) return; // already left or removed
  const change = signChange(ctx, fromHex(groupId), state, 'leave', {});
  await apply(ctx, record, change);
  await send(ctx, groupId, memberIds(state), [change], []);
}

export async function renameGroup(ctx: GroupContext, groupId: string, name: string): Promise<void> {
  const n = checkedGroupName(name);
  const { record, state } = await adminGroup(ctx, groupId);
  if (state.name === n) return;
  const change = signChange(ctx, fromHex(groupId), state, 'rename', { name: n });
  await apply(ctx, record, change);
  await send(ctx, groupId, memberIds(state), [change], []);
}
