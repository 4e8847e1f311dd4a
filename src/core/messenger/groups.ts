/**
 * Groups in the messenger (docs/PROTOCOL.md §17.6): the one object the rest of the core
 * talks to for them. It runs every group operation on one serial lane (a send, a received
 * envelope, a change never interleave their read-modify-write of a group's rows) and
 * delegates each to the file that does it:
 *
 *   group-commands.ts   create, add, remove, leave, rename (signed changes)
 *   group-send.ts       sender chain, distributions, one encryption, one send.multi
 *   group-actions.ts    reply, edit, delete for everyone, react (group-reply.ts: a reply's quote)
 *   group-receive.ts    a group envelope: checks, decrypt, one commit
 *   group-control.ts    frames over pairwise sessions: log, distribution, key request, receipt
 *   group-repair.ts     messages held for a missing key (or group): ask, release, expire
 *   group-key-changes.ts a member's key change: a line in its groups
 *   group-views.ts      what the UI sees of groups
 *
 * How frames reach member devices is the ports' business (group-ports.ts).
 */
import { fromHex, toHex } from '../bytes.ts';
import type { GroupView, MessageView } from './messenger-api.ts';
import { SerialLane } from './serial-lane.ts';
import { addGroupMembers, createGroup, leaveGroup, removeGroupMember, renameGroup } from './group-commands.ts';
import { sendGroupAction, type GroupActionMaker } from './group-actions.ts';
import { receiveGroupControl } from './group-control.ts';
import { noteKeyChanges } from './group-key-changes.ts';
import { receiveGroupEnvelope, type Received } from './group-receive.ts';
import { repairTick } from './group-repair.ts';
import { takeImportedHistory } from './group-history.ts';
import { deliver, handOwed, sendGroupMessage } from './group-send.ts';
import { groupMessageViews, groupViews, markGroupRead } from './group-views.ts';
import type { GroupContext, MemberDevice } from './group-ports.ts';

export const isGroupId = (id: unknown): id is string => typeof id === 'string' && /^[0-9a-f]{32}$/u.test(id);

export class Groups {
  private readonly lane = new SerialLane();

  constructor(readonly ctx: GroupContext) {}

  createGroup(name: string, memberIds: readonly string[], id?: string): Promise<string> {
    return this.lane.run(() => createGroup(this.ctx, name, memberIds, id));
  }

  addGroupMembers(groupId: string, memberIds: readonly string[]): Promise<void> {
    return this.lane.run(() => addGroupMembers(this.ctx, groupId, memberIds));
  }

  removeGroupMember(groupId: string, memberId: string): Promise<void> {
    return this.lane.run(() => removeGroupMember(this.ctx, groupId, memberId));
  }

  leaveGroup(groupId: string): Promise<void> {
    return this.lane.run(() => leaveGroup(this.ctx, groupId));
  }

  renameGroup(groupId: string, name: string): Promise<void> {
    return this.lane.run(() => renameGroup(this.ctx, groupId, name));
  }

  /** Queues and sends a group message (a reply when `replyTo` names one of the group's messages); resolves with its id once committed (sent when the relay took it). */
  send(groupId: string, text: string, id?: string, replyTo?: string): Promise<string> {
    const messageId = id && /^[0-9a-f]{32}$/u.test(id) ? fromHex(id) : this.ctx.random.bytes(16);
    return this.lane.run(() => sendGroupMessage(this.ctx, groupId, text, messageId, replyTo));
  }

  /** Our edit of our own message of a group (within 24 h, at most 10 edits); `id` makes the command idempotent. */
  edit(messageId: string, text: string, id?: string): Promise<void> {
    return this.act(messageId, id, (base) => ({ kind: 'edit', ...base, text }));
  }

  /** Deletes our own message of a group for everyone (within 24 h). */
  deleteForEveryone(messageId: string, id?: string): Promise<void> {
    return this.act(messageId, id, (base) => ({ kind: 'delete', ...base }));
  }

  /** Our reaction to a message of a group (one emoji; '' removes ours). */
  react(messageId: string, emoji: string, id?: string): Promise<void> {
    return this.act(messageId, id, (base) => ({ kind: 'react', ...base, emoji }));
  }

  private act(messageId: string, id: string | undefined, make: GroupActionMaker): Promise<void> {
    const actionId = id ?? toHex(this.ctx.random.bytes(16));
    return this.lane.run(() => sendGroupAction(this.ctx, messageId, actionId, make));
  }

  /** A group envelope from the relay; acknowledge it only after this resolves. */
  receiveEnvelope(envelopeId: Uint8Array, body: Uint8Array): Promise<Received> {
    return this.lane.run(() => receiveGroupEnvelope(this.ctx, toHex(envelopeId), body));
  }

  /** A group frame that came over a member device's pairwise session. */
  receiveControl(from: MemberDevice, frame: Uint8Array): Promise<void> {
    return this.lane.run(() => receiveGroupControl(this.ctx, from, frame));
  }

  /** Group sends committed but not yet deposited (after a restart, or when the relay is back). */
  flush(): Promise<number> {
    return this.lane.run(async () => {
      let sent = 0;
      for (const entry of await this.ctx.store.pendingSends()) if (await deliver(this.ctx, entry)) sent++;
      return sent;
    });
  }

  /** A line in each group for every member key change not said there yet (group-key-changes.ts). */
  noteKeyChanges(): Promise<number> {
    return this.lane.run(() => noteKeyChanges(this.ctx));
  }

  /**
   * `account`'s devices get our chains they are owed (group-send.ts `handOwed`): called when
   * its key change was acknowledged, and when a session with one of its devices has started
   * (the session starter's `started`; a send did not wait for the session).
   */
  handOwed(account: string): Promise<number> {
    return this.lane.run(() => handOwed(this.ctx, account));
  }

  /** Group histories an import brought, written once their groups are here (group-history.ts). */
  takeImportedHistory(): Promise<number> {
    return this.lane.run(() => takeImportedHistory(this.ctx));
  }

  /** Key requests again, held messages expired (call about once a minute). */
  tick(): Promise<void> {
    return this.lane.run(() => repairTick(this.ctx));
  }

  markRead(groupId: string, upTo?: string): Promise<void> {
    return this.lane.run(() => markGroupRead(this.ctx, groupId, upTo));
  }

  views(): Promise<GroupView[]> {
    return groupViews(this.ctx);
  }

  messages(groupId: string): Promise<MessageView[]> {
    return groupMessageViews(this.ctx, groupId);
  }
}
