/**
 * A group's membership as this device knows it: the stored log of signed changes
 * (GroupRecord.changes) resolved by group-log.ts's deterministic rule, and what follows
 * from the changes newly applied — the system lines ("Ada added Bo") and whether our
 * sender chain must be rotated (someone left or was removed).
 */
import { fromHex, toHex } from '../bytes.ts';
import { verifyEd25519Strict } from '../crypto/ed25519-verify.ts';
import { addGroupChange, emptyGroupLog, resolveGroupLog, type GroupLog, type ResolvedGroup } from '../groups/group-log.ts';
import { applyGroupChange, type GroupState } from '../groups/group-state.ts';
import type { GroupRecord, MessageRecord } from '../store/index.ts';
import { encodeGroupChangeBody, groupChangeId, groupChangeSignaturePayload, type GroupChangeBody, type GroupOp, type SignedGroupChange } from '../wire/group-change.ts';
import { meOf, type GroupContext } from './group-ports.ts';

export interface Membership {
  readonly log: GroupLog;
  readonly resolved: ResolvedGroup;
  readonly state: GroupState | undefined;
}

export function logOf(record: GroupRecord): GroupLog {
  let log = emptyGroupLog(fromHex(record.id));
  for (const c of record.changes) {
    const v = addGroupChange(log, c, verifyEd25519Strict);
    if (v.ok) log = v.log;
  }
  return log;
}

export function membershipOf(record: GroupRecord): Membership {
  const log = logOf(record);
  const resolved = resolveGroupLog(log);
  return { log, resolved, state: resolved.state };
}

export const isMember = (state: GroupState | undefined, account: string): boolean => !!state?.members.some((m) => toHex(m.account) === account);
export const isAdmin = (state: GroupState | undefined, account: string): boolean => !!state?.members.some((m) => m.admin && toHex(m.account) === account);
export const memberIds = (state: GroupState | undefined): string[] => (state?.members ?? []).map((m) => toHex(m.account));

/**
 * Whether `account` was a member in the resolved state at `version` (replays the resolved
 * chain up to it). False for a version the chain does not reach.
 */
export function wasMemberAt(m: Membership, version: number, account: string): boolean {
  const byId = new Map([...m.log.changes.values()].map((c) => [toHex(c.id), c]));
  let state: GroupState | undefined;
  for (const id of m.resolved.applied) {
    const c = byId.get(toHex(id));
    if (!c) return false;
    const verdict = applyGroupChange(state, c.body, c.id);
    if (!verdict.ok) return false;
    state = verdict.state;
    if (state.version === version) return isMember(state, account);
    if (state.version > version) return false;
  }
  return false;
}

/** Signs a change of ours on the state's head (or a `create`). */
export function signChange(ctx: GroupContext, group: Uint8Array, state: GroupState | undefined, op: GroupOp, extra: { name?: string; members?: readonly Uint8Array[] }): SignedGroupChange {
  const body: GroupChangeBody = {
    group,
    version: state ? state.version + 1 : 0,
    parent: state ? state.head : new Uint8Array(32),
    author: ctx.identity.publicKey,
    issuedAt: ctx.clock.now(),
    op,
    ...(extra.name !== undefined ? { name: extra.name } : {}),
    ...(extra.members ? { members: extra.members } : {}),
  };
  const bytes = encodeGroupChangeBody(body);
  return { body: bytes, sig: ctx.identity.sign(groupChangeSignaturePayload(bytes)) };
}

export const changeIdOf = (c: SignedGroupChange): string => toHex(groupChangeId(c.body));

/** A member's name as we show it: "You", the contact's name, the name its author gave, or a short key. */
export function nameOf(ctx: GroupContext, record: Pick<GroupRecord, 'names'>, account: string): string {
  if (account === meOf(ctx)) return 'You';
  return ctx.ports.contactName(account) ?? record.names[account] ?? `Member ${account.slice(0, 8)}`;
}

export interface Outcome {
  /** The record with the new changes and the applied list brought up to date. */
  readonly record: GroupRecord;
  readonly before: GroupState | undefined;
  readonly after: GroupState | undefined;
  /** System lines for the changes applied since the record's last `applied`. */
  readonly lines: MessageRecord[];
  /** Someone left or was removed: our chain is rotated before our next message. */
  readonly rotate: boolean;
}

/**
 * Takes `incoming` changes into the record's log (refused ones counted and skipped), resolves,
 * and says what the newly applied changes mean.
 */
export function takeChanges(ctx: GroupContext, record: GroupRecord, incoming: readonly SignedGroupChange[], names: Readonly<Record<string, string>> = {}): Outcome {
  const beforeState = membershipOf(record).state;
  let log = logOf(record);
  const changes = [...record.changes];
  for (const c of incoming) {
    const v = addGroupChange(log, c, verifyEd25519Strict);
    if (!v.ok) {
      ctx.metrics.inc('groups.drop', { reason: `change_${v.refusal}` });
      continue;
    }
    if (v.added) changes.push({ body: c.body.slice(), sig: c.sig.slice() });
    log = v.log;
  }
  const resolved = resolveGroupLog(log);
  const applied = resolved.applied.map(toHex);
  const known = new Set(record.applied);
  const merged = { ...record.names, ...names };
  const now = ctx.clock.now();
  let order = record.nextOrder;
  let rotate = false;
  const lines: MessageRecord[] = [];
  // A concurrent change may have replaced one we applied: lines are said once per change id.
  for (const id of applied) {
    if (known.has(id)) continue;
    const c = log.changes.get(id);
    if (!c) continue;
    if (c.body.op === 'remove' || c.body.op === 'leave') rotate = true;
    const text = lineFor(ctx, { names: merged }, c.body);
    lines.push({ id: id.slice(0, 32), contactId: record.id, direction: 'in', body: text, sentAt: c.body.issuedAt, receivedAt: now, order: order++, status: 'read', updatedAt: now, system: true });
  }
  const next: GroupRecord = { ...record, changes, applied: [...record.applied, ...applied.filter((id) => !known.has(id))], names: merged, nextOrder: order, lastActivityAt: lines.length ? now : record.lastActivityAt };
  return { record: next, before: beforeState, after: resolved.state, lines, rotate };
}

function lineFor(ctx: GroupContext, record: Pick<GroupRecord, 'names'>, body: GroupChangeBody): string {
  const who = nameOf(ctx, record, toHex(body.author));
  const targets = (body.members ?? []).map((m) => nameOf(ctx, record, toHex(m)));
  switch (body.op) {
    case 'create':
      return `${who} created the group`;
    case 'add':
      return `${who} added ${targets.join(', ')}`;
    case 'remove':
      return `${who} removed ${targets.join(', ')}`;
    case 'leave':
      return `${who} left`;
    case 'rename':
      return `${who} renamed the group to ${body.name ?? ''}`;
    case 'promote':
      return `${who} made ${targets.join(', ')} an admin`;
    case 'demote':
      return `${who} made ${targets.join(', ')} no longer an admin`;
  }
}
