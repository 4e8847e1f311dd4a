/**
 * A group's history that arrives with a device link or a backup (docs/PROTOCOL.md §13.6,
 * §17.6). The import writes each record as it comes, as bytes under a `groupHistory:` meta
 * key, because the group itself does not exist here yet: its log waits in the group inbox
 * until the core starts. Once the group parts have taken the log, each record is applied in
 * ONE transaction with the removal of its key (`applyGroupHistoryImport`):
 *
 *   - a message id already stored is skipped (a repeated record changes nothing);
 *   - the group's rows (the system lines the log wrote, anything received since) and the
 *     imported messages are merged as two ordered lists, each keeping its order, an
 *     imported message placed before the first row written after it by the author's clock
 *     (`sentAt`), and the rows renumbered in that order, so the history reads as it
 *     happened ("Ada added Bo" before what Bo then wrote) rather than as it arrived;
 *   - imported incoming messages are read (the user saw them on the other device); our own
 *     still queued there are `queuedElsewhere` (records.ts): that device sends them.
 */
import type { BackendTx } from './backend.ts';
import type { GroupRecord, MessageRecord, MessageStatus } from './records.ts';
import type { StoreName } from './schema.ts';

export const GROUP_HISTORY_PREFIX = 'groupHistory:';
/** The first key after every group-history key (`;` follows `:`). */
export const GROUP_HISTORY_END = 'groupHistory;';

/** The meta key of the `position`-th group-history record of an import (key order is arrival order). */
export function groupHistoryKey(position: number): string {
  return `${GROUP_HISTORY_PREFIX}${String(position).padStart(6, '0')}`;
}

export interface ImportedGroupMessage {
  /** Hex of the 16-byte message id. */
  readonly id: string;
  readonly direction: 'in' | 'out';
  /** The author's account (hex of its identity key): incoming messages only. */
  readonly senderId?: string;
  readonly body: string;
  readonly sentAt: number;
  readonly status: MessageStatus;
}

export interface PendingGroupHistory {
  /** The meta key (the import removes it in its own transaction). */
  readonly key: string;
  readonly bytes: Uint8Array;
}

export const GROUP_HISTORY_IMPORT_STORES: readonly StoreName[] = ['groups', 'messages', 'meta'];

/**
 * Writes `batch` into group `groupId` and removes `key`, in the caller's transaction.
 * Resolves to the number of messages written, or `undefined` when the group is not here
 * (nothing is written and the key stays).
 */
export async function applyGroupHistoryImport(tx: BackendTx, groupId: string, batch: readonly ImportedGroupMessage[], key: string, now: number): Promise<number | undefined> {
  const groups = tx.table('groups');
  const messages = tx.table('messages');
  const group: GroupRecord | undefined = await groups.get(groupId);
  if (!group) return undefined;
  const existing = await messages.query({ index: 'byConversation', lower: [groupId, 0], upper: [groupId, Number.MAX_SAFE_INTEGER] });
  const known = new Set(existing.map((m) => m.id));
  const fresh: MessageRecord[] = [];
  for (const m of batch) {
    if (known.has(m.id)) continue;
    known.add(m.id);
    fresh.push({
      id: m.id,
      contactId: groupId,
      direction: m.direction,
      body: m.body,
      sentAt: m.sentAt,
      order: 0,
      status: m.direction === 'in' ? 'read' : m.status,
      ...(m.direction === 'in' ? { receivedAt: m.sentAt, ...(m.senderId !== undefined ? { senderId: m.senderId } : {}) } : {}),
      ...(m.direction === 'out' && m.status === 'failed' ? { failure: 'not sent from the other device' } : {}),
      ...(m.direction === 'out' && m.status === 'queued' ? { queuedElsewhere: true as const } : {}),
      updatedAt: now,
    });
  }
  await tx.table('meta').delete(key);
  if (!fresh.length) return 0;
  // Merged as two ordered lists: both keep their own order, and an imported message goes
  // before the first existing row written after it (by the author's clock).
  const placed: MessageRecord[] = [];
  let j = 0;
  for (const row of existing) {
    while (j < fresh.length && fresh[j]!.sentAt < row.sentAt) placed.push(fresh[j++]!);
    placed.push(row);
  }
  placed.push(...fresh.slice(j));
  const imported = new Set(fresh);
  let order = Math.min(1, ...existing.map((m) => m.order));
  for (const row of placed) {
    if (imported.has(row) || row.order !== order) await messages.put({ ...row, order });
    order++;
  }
  const newest = Math.max(...fresh.map((m) => m.sentAt));
  await groups.put({ ...group, nextOrder: Math.max(group.nextOrder, order), lastActivityAt: Math.max(group.lastActivityAt, newest) });
  return fresh.length;
}
