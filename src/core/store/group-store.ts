/**
 * Groups in storage (docs/PROTOCOL.md §17.6): the group logs, sender-key records (ours and
 * each member device's), group messages waiting for a key, group sends not yet deposited,
 * and the group conversations' rows (in `messages`, keyed by the group id as conversation).
 *
 * Written once against the backend (memory and IndexedDB). Every write is ONE transaction
 * (`commit`): what belongs together commits together —
 *   send     our advanced chain + the message row + its outbox entry;
 *   receive  the sender's advanced record + the message row + the envelope's dedup mark
 *            (a duplicate envelope id commits nothing and says so);
 *   change   the group's log + system lines + our chain's rotation flag.
 */
import type { BackendTx, StoreBackend } from './backend.ts';
import { InvalidStoreInputError } from './errors.ts';
import { applyGroupActions, type GroupActionCommit } from './group-action-commit.ts';
import {
  applyGroupHistoryImport,
  GROUP_HISTORY_END,
  GROUP_HISTORY_IMPORT_STORES,
  GROUP_HISTORY_PREFIX,
  type ImportedGroupMessage,
  type PendingGroupHistory,
} from './group-history-import.ts';
import { MESSAGE_STATUSES } from './message-status.ts';
import type { GroupOutboxRecord, GroupRecord, HeldGroupMessageRecord, MessageRecord, SenderKeyRow } from './records.ts';
import type { StoreName } from './schema.ts';
import { checkBody, checkContactId, checkId128, checkOneOf, checkTime } from './validate.ts';

/** What one commit writes; every part optional. */
export interface GroupCommit {
  readonly groups?: readonly GroupRecord[];
  readonly senderKeys?: readonly SenderKeyRow[];
  readonly messages?: readonly MessageRecord[];
  readonly outbox?: readonly GroupOutboxRecord[];
  readonly outboxDone?: readonly string[];
  readonly held?: readonly HeldGroupMessageRecord[];
  readonly heldDone?: readonly string[];
  /** The envelope this commit consumes: a second commit with it commits nothing (`duplicate`). */
  readonly dedup?: { readonly envelopeId: string; readonly at: number };
  /** Edits, deletes for everyone and reactions, judged and applied (or held) after the rows are written (group-action-commit.ts). */
  readonly actions?: readonly GroupActionCommit[];
  /** The committer's clock, for judging actions (default: the newest `updatedAt` of `messages`). */
  readonly now?: number;
}

const ALL: readonly StoreName[] = ['groups', 'senderKeys', 'messages', 'groupOutbox', 'groupHeld', 'dedup', 'meta'];

export class GroupStore {
  /** `now`: the store's clock (an imported row's `updatedAt`). */
  constructor(
    private readonly backend: StoreBackend,
    private readonly now: () => number,
  ) {}

  getGroup(id: string): Promise<GroupRecord | undefined> {
    return this.backend.transaction(['groups'], 'readonly', (tx) => tx.table('groups').get(id));
  }

  listGroups(): Promise<GroupRecord[]> {
    return this.backend.transaction(['groups'], 'readonly', (tx) => tx.table('groups').query());
  }

  getSenderKey(key: string): Promise<SenderKeyRow | undefined> {
    return this.backend.transaction(['senderKeys'], 'readonly', (tx) => tx.table('senderKeys').get(key));
  }

  senderKeysOf(groupId: string): Promise<SenderKeyRow[]> {
    return this.backend.transaction(['senderKeys'], 'readonly', (tx) => tx.table('senderKeys').query({ index: 'byGroup', lower: groupId, upper: groupId }));
  }

  /** The group conversation's rows, oldest first. */
  messagesOf(groupId: string): Promise<MessageRecord[]> {
    return this.backend.transaction(['messages'], 'readonly', (tx) =>
      tx.table('messages').query({ index: 'byConversation', lower: [groupId, 0], upper: [groupId, Number.MAX_SAFE_INTEGER] }),
    );
  }

  getMessage(id: string): Promise<MessageRecord | undefined> {
    return this.backend.transaction(['messages'], 'readonly', (tx) => tx.table('messages').get(id));
  }

  heldOf(groupId: string): Promise<HeldGroupMessageRecord[]> {
    return this.backend.transaction(['groupHeld'], 'readonly', (tx) => tx.table('groupHeld').query({ index: 'byGroup', lower: [groupId, 0], upper: [groupId, Number.MAX_SAFE_INTEGER] }));
  }

  allHeld(): Promise<HeldGroupMessageRecord[]> {
    return this.backend.transaction(['groupHeld'], 'readonly', (tx) => tx.table('groupHeld').query());
  }

  pendingSends(): Promise<GroupOutboxRecord[]> {
    return this.backend.transaction(['groupOutbox'], 'readonly', (tx) => tx.table('groupOutbox').query());
  }

  /** Group history records an import left for the group parts (group-history-import.ts), in arrival order. */
  async pendingHistory(): Promise<PendingGroupHistory[]> {
    const rows = await this.backend.transaction(['meta'], 'readonly', (tx) => tx.table('meta').query({ lower: GROUP_HISTORY_PREFIX, upper: GROUP_HISTORY_END, upperOpen: true }));
    return rows.flatMap((r) => (r.value instanceof Uint8Array ? [{ key: r.key, bytes: r.value }] : []));
  }

  /**
   * One imported history record into group `groupId`, and its meta `key` removed, in one
   * transaction: the number of messages written, or `undefined` (nothing written, the key
   * kept) when the group is not here (group-history-import.ts).
   */
  async importHistory(groupId: string, messages: readonly ImportedGroupMessage[], key: string): Promise<number | undefined> {
    checkId128('groupId', groupId);
    if (!key.startsWith(GROUP_HISTORY_PREFIX)) throw new InvalidStoreInputError('key', 'expected a group history key');
    for (const m of messages) {
      checkId128('id', m.id);
      checkOneOf('direction', m.direction, ['in', 'out'] as const);
      if (m.senderId !== undefined) checkContactId('senderId', m.senderId);
      checkBody('body', m.body);
      checkTime('sentAt', m.sentAt);
      checkOneOf('status', m.status, MESSAGE_STATUSES);
    }
    return this.backend.transaction(GROUP_HISTORY_IMPORT_STORES, 'readwrite', (tx) => applyGroupHistoryImport(tx, groupId, messages, key, this.now()));
  }

  /** Removes a pending history record without applying it (unreadable, or its group is not here). */
  async dropHistory(key: string): Promise<void> {
    if (!key.startsWith(GROUP_HISTORY_PREFIX)) throw new InvalidStoreInputError('key', 'expected a group history key');
    return this.backend.transaction(['meta'], 'readwrite', (tx) => tx.table('meta').delete(key));
  }

  /** Writes everything in `c` in one transaction; `duplicate` (nothing written) when its envelope was committed before. */
  commit(c: GroupCommit): Promise<'committed' | 'duplicate'> {
    return this.backend.transaction(ALL, 'readwrite', (tx) => write(tx, c));
  }
}

async function write(tx: BackendTx, c: GroupCommit): Promise<'committed' | 'duplicate'> {
  if (c.dedup) {
    const dedup = tx.table('dedup');
    if (await dedup.get(c.dedup.envelopeId)) return 'duplicate';
    await dedup.put({ envelopeId: c.dedup.envelopeId, at: c.dedup.at });
  }
  for (const g of c.groups ?? []) await tx.table('groups').put(g);
  for (const k of c.senderKeys ?? []) await tx.table('senderKeys').put(k);
  for (const m of c.messages ?? []) await tx.table('messages').put(m);
  for (const o of c.outbox ?? []) await tx.table('groupOutbox').put(o);
  for (const id of c.outboxDone ?? []) await tx.table('groupOutbox').delete(id);
  for (const h of c.held ?? []) await tx.table('groupHeld').put(h);
  for (const id of c.heldDone ?? []) await tx.table('groupHeld').delete(id);
  const written = c.messages ?? [];
  await applyGroupActions(tx, c.actions ?? [], written, c.now ?? Math.max(0, ...written.map((m) => m.updatedAt)));
  return 'committed';
}
