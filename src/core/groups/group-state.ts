/**
 * A group's state and the rules a change must pass to apply to it (docs/PROTOCOL.md §16.4).
 * Pure: `applyGroupChange` returns the next state or a typed refusal; it never throws for
 * a change it refuses, and never changes its input.
 *
 * Rules (the author is the account that signed the change):
 *   create   version 0, parent all zeros; the author is among the members; 1 to
 *            MAX_GROUP_MEMBERS members, none twice; the author is the first admin.
 *   add      an admin; the new members are not members yet, none twice; the total stays
 *            within MAX_GROUP_MEMBERS.
 *   remove   an admin; exactly one member, not the author (who leaves instead).
 *   leave    a member; when the last admin leaves, the remaining member with the
 *            smallest identity key (bytewise) becomes admin, so a group is never headless.
 *   rename   an admin; a non-empty name.
 *   promote  an admin; one member who is not an admin.
 *   demote   an admin; one admin, never the last one.
 * Every change but `create` must name the group, follow the state's head (`parent`) and
 * carry the next version.
 */
import { bytesEqual, toHex } from '../bytes.ts';
import type { GroupChangeBody } from '../wire/group-change.ts';
import { GROUP_CHANGE_ID_BYTES } from '../wire/group-change.ts';
import { MAX_GROUP_MEMBERS } from './limits.ts';

export interface GroupMember {
  readonly account: Uint8Array;
  readonly admin: boolean;
}

export interface GroupState {
  readonly group: Uint8Array;
  readonly version: number;
  /** Id of the last change applied (what the next change names as its parent). */
  readonly head: Uint8Array;
  readonly name: string;
  /** In the order they joined. */
  readonly members: readonly GroupMember[];
}

export type GroupChangeRefusal =
  | 'foreign_group'
  | 'wrong_parent'
  | 'wrong_version'
  | 'not_member'
  | 'not_admin'
  | 'too_many_members'
  | 'invalid';

export type GroupChangeVerdict = { readonly ok: true; readonly state: GroupState } | { readonly ok: false; readonly refusal: GroupChangeRefusal; readonly detail: string };

const ZERO_PARENT = new Uint8Array(GROUP_CHANGE_ID_BYTES);

function refuse(refusal: GroupChangeRefusal, detail: string): GroupChangeVerdict {
  return { ok: false, refusal, detail };
}

function memberOf(state: GroupState, account: Uint8Array): GroupMember | undefined {
  return state.members.find((m) => bytesEqual(m.account, account));
}

function hasDuplicates(accounts: readonly Uint8Array[]): boolean {
  return new Set(accounts.map(toHex)).size !== accounts.length;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The state after `change` (whose id is `id`), or why it does not apply to `state` (undefined: no group yet). */
export function applyGroupChange(state: GroupState | undefined, change: GroupChangeBody, id: Uint8Array): GroupChangeVerdict {
  if (change.op === 'create') return applyCreate(state, change, id);
  if (!state) return refuse('wrong_parent', 'a change before the group was created');
  if (!bytesEqual(change.group, state.group)) return refuse('foreign_group', 'the change names another group');
  if (!bytesEqual(change.parent, state.head)) return refuse('wrong_parent', 'the change does not follow this state');
  if (change.version !== state.version + 1) return refuse('wrong_version', `version ${change.version} after ${state.version}`);
  const author = memberOf(state, change.author);
  if (!author) return refuse('not_member', 'the author is not a member');
  const next = (members: readonly GroupMember[], name = state.name): GroupChangeVerdict => ({ ok: true, state: { group: state.group, version: change.version, head: id, name, members } });
  const targets = change.members ?? [];

  if (change.op === 'leave') {
    const rest = state.members.filter((m) => !bytesEqual(m.account, change.author));
    if (rest.length > 0 && !rest.some((m) => m.admin)) {
      const heir = rest.reduce((a, b) => (compareBytes(b.account, a.account) < 0 ? b : a));
      return next(rest.map((m) => (m === heir ? { ...m, admin: true } : m)));
    }
    return next(rest);
  }
  if (!author.admin) return refuse('not_admin', `only an admin may ${change.op}`);
  switch (change.op) {
    case 'add': {
      if (targets.length === 0 || hasDuplicates(targets)) return refuse('invalid', 'add names no member, or one twice');
      if (targets.some((t) => memberOf(state, t))) return refuse('invalid', 'add names someone already a member');
      if (state.members.length + targets.length > MAX_GROUP_MEMBERS) return refuse('too_many_members', `a group has at most ${MAX_GROUP_MEMBERS} members`);
      return next([...state.members, ...targets.map((account) => ({ account: account.slice(), admin: false }))]);
    }
    case 'remove': {
      const target = single(targets);
      if (!target || bytesEqual(target, change.author)) return refuse('invalid', 'remove names exactly one other member');
      if (!memberOf(state, target)) return refuse('invalid', 'remove names someone not a member');
      return next(state.members.filter((m) => !bytesEqual(m.account, target)));
    }
    case 'rename': {
      if (!change.name) return refuse('invalid', 'a group name is not empty');
      return next(state.members, change.name);
    }
    case 'promote':
    case 'demote': {
      const target = single(targets);
      const member = target && memberOf(state, target);
      if (!member) return refuse('invalid', `${change.op} names exactly one member`);
      if (change.op === 'promote' && member.admin) return refuse('invalid', 'already an admin');
      if (change.op === 'demote' && !member.admin) return refuse('invalid', 'not an admin');
      if (change.op === 'demote' && state.members.filter((m) => m.admin).length === 1) return refuse('invalid', 'the last admin cannot be demoted');
      return next(state.members.map((m) => (m === member ? { ...m, admin: change.op === 'promote' } : m)));
    }
  }
}

function single(targets: readonly Uint8Array[]): Uint8Array | undefined {
  return targets.length === 1 ? targets[0] : undefined;
}

function applyCreate(state: GroupState | undefined, change: GroupChangeBody, id: Uint8Array): GroupChangeVerdict {
  if (state) return refuse('wrong_version', 'the group already exists');
  if (change.version !== 0 || !bytesEqual(change.parent, ZERO_PARENT)) return refuse('wrong_version', 'create is version 0 with no parent');
  const members = change.members ?? [];
  if (!change.name) return refuse('invalid', 'a group name is not empty');
  if (members.length === 0 || hasDuplicates(members)) return refuse('invalid', 'create names no member, or one twice');
  if (!members.some((m) => bytesEqual(m, change.author))) return refuse('invalid', 'the creator is a member');
  if (members.length > MAX_GROUP_MEMBERS) return refuse('too_many_members', `a group has at most ${MAX_GROUP_MEMBERS} members`);
  return {
    ok: true,
    state: {
      group: change.group.slice(),
      version: 0,
      head: id,
      name: change.name,
      members: members.map((account) => ({ account: account.slice(), admin: bytesEqual(account, change.author) })),
    },
  };
}
