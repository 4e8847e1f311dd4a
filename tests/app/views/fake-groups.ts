/**
 * The fake messenger with groups that behave as the core's do (issue 18's contract):
 * create, add, remove, leave and rename change `groups` and put a system line in the open
 * group chat; `send` to a group gives the message a per-member status.
 */
import type { GroupMemberView, GroupView, MessageView, MessengerState } from '../../../src/core/messenger/messenger-api.ts';
import { FakeMessenger, message, readyState } from './fake-messenger.ts';

export function group(partial: Partial<GroupView> & { id: string; name: string }): GroupView {
  return { members: [{ id: 'aa'.repeat(32), name: 'Alice', admin: true, me: true }], admin: true, unread: 0, ...partial };
}

export function member(partial: Partial<GroupMemberView> & { id: string; name: string }): GroupMemberView {
  return { admin: false, ...partial };
}

export function systemLine(id: string, groupId: string, text: string, at = 1_700_000_000_000): MessageView {
  return message({ id, contactId: groupId, direction: 'in', status: 'read', text, at, system: true });
}

const hex32 = (n: number) => n.toString(16).padStart(32, '0');

export class FakeGroupMessenger extends FakeMessenger {
  private next = 0x100;
  /** Set to a typed error kind to make the next group command reject with it. */
  refuseWith: string | undefined;

  constructor(state: MessengerState = readyState()) {
    super(state);
  }

  private refuse(): void {
    const kind = this.refuseWith;
    if (kind === undefined) return;
    this.refuseWith = undefined;
    throw Object.assign(new Error(`refused: ${kind}`), { kind });
  }

  private updateGroup(id: string, change: (g: GroupView) => GroupView, line?: string): void {
    const s = this.getState();
    this.set({ groups: (s.groups ?? []).map((g) => (g.id === id ? change(g) : g)) });
    const chat = this.getState().chat;
    if (line !== undefined && chat?.contactId === id) this.set({ chat: { ...chat, messages: [...chat.messages, systemLine(hex32(++this.next), id, line)] } });
  }

  private nameOf(id: string): string {
    return this.getState().contacts.find((c) => c.id === id)?.displayName ?? id.slice(0, 8);
  }

  override async createGroup(name: string, memberIds: readonly string[]): Promise<string> {
    await super.createGroup(name, memberIds);
    this.refuse();
    const me = this.getState().me!;
    const id = hex32(++this.next);
    const members = [member({ id: me.id, name: me.displayName, admin: true, me: true }), ...memberIds.map((m) => member({ id: m, name: this.nameOf(m) }))];
    this.set({ groups: [group({ id, name, members }), ...(this.getState().groups ?? [])] });
    return id;
  }

  override async addGroupMembers(groupId: string, memberIds: readonly string[]): Promise<void> {
    await super.addGroupMembers(groupId, memberIds);
    this.refuse();
    const added = memberIds.map((m) => member({ id: m, name: this.nameOf(m) }));
    this.updateGroup(groupId, (g) => ({ ...g, members: [...g.members, ...added] }), `You added ${added.map((m) => m.name).join(', ')}`);
  }

  override async removeGroupMember(groupId: string, memberId: string): Promise<void> {
    await super.removeGroupMember(groupId, memberId);
    this.refuse();
    const gone = this.getState().groups?.find((g) => g.id === groupId)?.members.find((m) => m.id === memberId);
    this.updateGroup(groupId, (g) => ({ ...g, members: g.members.filter((m) => m.id !== memberId) }), `You removed ${gone?.name ?? 'a member'}`);
  }

  override async leaveGroup(groupId: string): Promise<void> {
    await super.leaveGroup(groupId);
    this.refuse();
    this.updateGroup(groupId, (g) => ({ ...g, left: true, admin: false }), 'You left the group');
  }

  override async renameGroup(groupId: string, name: string): Promise<void> {
    await super.renameGroup(groupId, name);
    this.refuse();
    this.updateGroup(groupId, (g) => ({ ...g, name: name.trim() }), `You renamed the group to ${name.trim()}`);
  }
}
