/**
 * The receive commit, for one envelope or a backlog of them, inside one transaction.
 *
 * Written for IndexedDB's cost model: every read the batch needs is issued at once and
 * awaited together (dedup marks, sessions, conversations, messages named by receipts),
 * the changes are computed in memory, then every write is issued at once. A batch of
 * 1,000 receives costs a few round trips, not thousands.
 */
import type { BackendTx, TxTable } from './backend.ts';
import { HELD_ACTIONS_KEY, readHeld, writeHeld, type HeldAction } from './held-actions.ts';
import { DELETED_TEXT, judgeAction, type MessageAction } from './message-actions.ts';
import { blankQuotesOf, previewAfterChange } from './message-changes.ts';
import { receiptMove, type ReceiptMoved } from './receipt-move.ts';
import { compareKeys } from './key-order.ts';
import { HEAD_CHECK_ENTRIES, nextSession } from './outgoing-commit.ts';
import { ProtocolSeqs } from './protocol-seq.ts';
import type { ConversationRecord, DedupRecord, MessageRecord, OutboxRecord, SessionRecord } from './records.ts';
import type { IncomingBatchCommitted, IncomingCommit, IncomingResult } from './store-api.ts';

export const INCOMING_STORES = ['dedup', 'sessions', 'messages', 'conversations', 'identity', 'contacts', 'outbox', 'meta', 'resendable'] as const;

function emptyConversation(contactId: string): ConversationRecord {
  return { contactId, unread: 0, lastActivityAt: 0, nextOrder: 0 };
}

/** Fetches every key of `keys` (deduplicated) concurrently into a map. */
async function fetchAll<V>(keys: Iterable<string>, get: (k: string) => Promise<V | undefined>): Promise<Map<string, V | undefined>> {
  const unique = [...new Set(keys)];
  const values = await Promise.all(unique.map(get));
  return new Map(unique.map((k, i) => [k, values[i]]));
}

/**
 * Thrown by an optimistic `applyIncoming` when an insert found its key taken (an envelope
 * already processed, a message id already stored): the transaction is rolled back and the
 * caller runs the batch again with `optimistic` off, which reads and decides per record.
 */
export class IncomingInsertConflict extends Error {
  override readonly name = 'IncomingInsertConflict';
}

function isConstraintError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'ConstraintError';
}

/**
 * `optimistic`: assume no envelope of the batch is processed yet and no new message id
 * is stored (the receive pipeline checked the dedup marks just before decrypting), and
 * insert dedup marks and message rows with `add` instead of reading each key first: a
 * batch of 128 saves 256 reads. Any taken key fails the transaction with
 * IncomingInsertConflict, and nothing is written.
 */
export async function applyIncoming(tx: BackendTx, commits: readonly IncomingCommit[], optimistic = false): Promise<IncomingBatchCommitted> {
  const dedupT = tx.table('dedup');
  const outboxT = tx.table('outbox');
  const sessionsT = tx.table('sessions');
  const messagesT = tx.table('messages');
  const conversationsT = tx.table('conversations');

  const needsSession = commits.flatMap((c) => [...(c.sessionUpdate ? [c.sessionUpdate.contactId] : []), ...(c.siblingReceipts ?? []).map((r) => r.sessionUpdate.contactId)]);
  const needsConversation = commits.flatMap((c) => [...(c.message ? [c.message.contactId] : []), ...(c.transcript ? [c.transcript.contactId] : []), ...(c.readElsewhere ? [c.readElsewhere.contactId] : []), ...(c.action && c.from ? [c.ownActionIn ?? c.from] : [])]);
  const needsMessage = commits.flatMap((c) => [
    ...(c.message && !optimistic ? [c.message.id] : []),
    // A transcript's message may already be here (sent again, or this device wrote it): always read.
    ...(c.transcript ? [c.transcript.id] : []),
    ...(c.readElsewhere?.messageIds ?? []),
    ...(c.statusUpdates ?? []).map((u) => u.messageId),
    ...(c.action ? [c.action.target] : []),
  ]);

  const identityT = tx.table('identity');
  const needsIdentity = commits.some((c) => c.preKeyPool || c.ownDisplayName);

  // Every read up front; from here on the body only issues writes and awaits them together
  // (an await between issuing a write and awaiting it would leave its failure unobserved).
  const metaT = tx.table('meta');
  // The queues of the contacts this batch queues envelopes to (delivery receipts, resends), as they were before it: to tell which new entry is its contact's head of line.
  // Every entry a receive commit queues is a protocol entry (no message row): each takes its contact's next protocol seq (protocol-seq.ts), told from the same read.
  const needsQueue = commits.flatMap((c) => [...(c.outboxEntries ?? []).map((e) => e.contactId), ...(c.siblingReceipts ?? []).flatMap((r) => r.outboxEntries.map((e) => e.contactId)), ...(c.repairJobs ?? []).map((j) => j.contactId)]);
  const [seen, sessions, conversations, messages, identity, heldRecord, queues] = await Promise.all([
    optimistic ? new Map<string, undefined>() : fetchAll(commits.map((c) => c.envelopeId), (k) => dedupT.get(k)),
    fetchAll(needsSession, (k) => sessionsT.get(k)),
    fetchAll(needsConversation, (k) => conversationsT.get(k)),
    fetchAll(needsMessage, (k) => messagesT.get(k)),
    needsIdentity ? identityT.get('self') : undefined,
    // Actions waiting for their message (one small record; read by every batch, since any new message may be one's target).
    metaT.get(HELD_ACTIONS_KEY),
    fetchAll(needsQueue, (k) => outboxT.query({ index: 'byContactSeq', lower: [k, -Infinity], upper: [k, Infinity], limit: HEAD_CHECK_ENTRIES })),
  ]);
  // Read again only for a queue whose first page holds nothing but protocol entries.
  const protocolSeqs = await ProtocolSeqs.read(outboxT, needsQueue, { queues, limit: HEAD_CHECK_ENTRIES });
  let held: HeldAction[] = readHeld(heldRecord?.value);
  let heldChanged = false;

  const dirtySessions = new Map<string, SessionRecord>();
  const dirtyConversations = new Map<string, ConversationRecord>();
  const dirtyMessages = new Map<string, MessageRecord>();
  /** Message rows this batch creates (inserted with `add` when optimistic). */
  const newMessages = new Set<string>();
  const dedupMarks: DedupRecord[] = [];
  const results: IncomingResult[] = [];
  const writes: Promise<void>[] = [];
  const inBatch = new Set<string>();
  let poolUpdate: Uint8Array | undefined;
  let ownName: string | undefined;
  /** Outbox entries this batch writes (ready and pending), and the ones its status moves remove. */
  const queuedHere: OutboxRecord[] = [];
  const dequeued = new Set<string>();
  /** Copies of our messages a device's receipt says that device has (removed after the writes: their ids need a read). */
  const copiesDone: ReceiptMoved['dequeueCopy'][] = [];

  for (const c of commits) {
    if (seen.get(c.envelopeId) !== undefined || inBatch.has(c.envelopeId)) {
      results.push('duplicate');
      continue;
    }
    inBatch.add(c.envelopeId);
    dedupMarks.push({ envelopeId: c.envelopeId, at: c.receivedAt });

    if (c.sessionUpdate) {
      const u = c.sessionUpdate;
      dirtySessions.set(u.contactId, nextSession(dirtySessions.get(u.contactId) ?? sessions.get(u.contactId), u, c.receivedAt));
    }
    for (const r of c.siblingReceipts ?? []) {
      const u = r.sessionUpdate;
      dirtySessions.set(u.contactId, nextSession(dirtySessions.get(u.contactId) ?? sessions.get(u.contactId), u, c.receivedAt));
      for (const e of r.outboxEntries) writes.push(outboxT.put(protocolSeqs.record(e, c.receivedAt)));
    }

    if (c.message && (dirtyMessages.get(c.message.id) ?? messages.get(c.message.id)) === undefined) {
      const m = c.message;
      const conv = dirtyConversations.get(m.contactId) ?? conversations.get(m.contactId) ?? emptyConversation(m.contactId);
      const row: MessageRecord = {
        id: m.id,
        contactId: m.contactId,
        direction: 'in',
        body: m.body,
        sentAt: m.sentAt,
        receivedAt: c.receivedAt,
        order: conv.nextOrder,
        status: 'delivered',
        ...(m.via ? { via: m.via } : {}),
        ...(m.attachment ? { attachment: m.attachment } : {}),
        ...(m.quote ? { quote: m.quote } : {}),
        updatedAt: c.receivedAt,
      };
      // Actions that arrived before this message take effect now (each judged as if it came after it).
      const waiting = held.filter((h) => h.action.target === m.id);
      let withHeld = row;
      if (waiting.length) {
        held = held.filter((h) => h.action.target !== m.id);
        heldChanged = true;
        for (const h of [...waiting].sort((a, b) => a.action.at - b.action.at)) {
          const verdict = judgeAction(withHeld, h.action, c.receivedAt);
          if (verdict.ok) withHeld = verdict.row;
        }
      }
      dirtyMessages.set(m.id, withHeld);
      newMessages.add(m.id);
      dirtyConversations.set(m.contactId, {
        ...conv,
        lastMessage: { messageId: m.id, text: withHeld.deleted ? DELETED_TEXT : withHeld.body, at: m.sentAt, direction: 'in' },
        unread: conv.unread + 1,
        lastActivityAt: Math.max(conv.lastActivityAt, c.receivedAt),
        nextOrder: conv.nextOrder + 1,
      });
    }

    if (c.transcript && (dirtyMessages.get(c.transcript.id) ?? messages.get(c.transcript.id)) === undefined) {
      const m = c.transcript;
      const conv = dirtyConversations.get(m.contactId) ?? conversations.get(m.contactId) ?? emptyConversation(m.contactId);
      dirtyMessages.set(m.id, {
        id: m.id,
        contactId: m.contactId,
        direction: 'out',
        body: m.body,
        sentAt: m.sentAt,
        order: conv.nextOrder,
        status: 'sent',
        ...(m.attachment ? { attachment: m.attachment } : {}),
        ...(m.quote ? { quote: m.quote } : {}),
        updatedAt: c.receivedAt,
      });
      dirtyConversations.set(m.contactId, {
        ...conv,
        lastMessage: { messageId: m.id, text: m.body, at: m.sentAt, direction: 'out' },
        lastActivityAt: Math.max(conv.lastActivityAt, m.sentAt),
        nextOrder: conv.nextOrder + 1,
      });
    }

    if (c.readElsewhere) {
      const { contactId } = c.readElsewhere;
      let read = 0;
      for (const id of c.readElsewhere.messageIds) {
        const row = dirtyMessages.get(id) ?? messages.get(id);
        if (!row || row.contactId !== contactId || row.direction !== 'in' || row.status === 'read') continue;
        dirtyMessages.set(id, { ...row, status: 'read', updatedAt: c.receivedAt });
        read++;
      }
      const conv = dirtyConversations.get(contactId) ?? conversations.get(contactId);
      if (conv && read) dirtyConversations.set(contactId, { ...conv, unread: Math.max(0, conv.unread - read) });
    }

    const sender = c.from ?? c.sessionUpdate?.contactId ?? c.message?.contactId;
    for (const u of c.statusUpdates ?? []) {
      const row = dirtyMessages.get(u.messageId) ?? messages.get(u.messageId);
      const moved = row && receiptMove(row, u, sender, c.receivedAt);
      if (!moved) continue;
      dirtyMessages.set(u.messageId, moved.row);
      if (moved.dequeue !== undefined) {
        writes.push(outboxT.delete(moved.dequeue));
        dequeued.add(moved.dequeue);
      }
      if (moved.dequeueCopy) copiesDone.push(moved.dequeueCopy);
    }

    if (c.action) {
      const target = dirtyMessages.get(c.action.target) ?? messages.get(c.action.target);
      // Our own action from another device applies only inside the conversation it names.
      const applied = c.ownActionIn !== undefined && target && target.contactId !== c.ownActionIn ? undefined : applyReceivedAction(c.action, target, c.receivedAt);
      if (applied === 'hold') {
        held = [...held, { action: c.action, heldAt: c.receivedAt }];
        heldChanged = true;
      } else if (applied) {
        dirtyMessages.set(applied.id, applied);
        const conv = dirtyConversations.get(applied.contactId) ?? conversations.get(applied.contactId);
        const after = previewAfterChange(conv, applied);
        if (after) dirtyConversations.set(applied.contactId, after);
      }
    }

    if (c.preKeyPool) poolUpdate = c.preKeyPool;
    if (c.ownDisplayName) ownName = c.ownDisplayName;
    if (c.contactUpdate) writes.push(tx.table('contacts').put(c.contactUpdate));
    // A retry request waits for a fresh session with the sender's device (§12.8): with the contact's protocol entries, ahead of its messages.
    for (const r of [...(c.outboxEntries ?? []).map((e) => protocolSeqs.record(e, c.receivedAt)), ...(c.repairJobs ?? []).map((j): OutboxRecord => ({ ...protocolSeqs.pending(j, c.receivedAt), repair: true }))]) {
      writes.push(outboxT.put(r));
      queuedHere.push(r);
    }
    for (const r of c.resent ?? []) {
      const resendable = tx.table('resendable');
      writes.push(resendable.delete(r.from), resendable.put(r.record));
    }
    for (const f of c.groupFrames ?? []) writes.push(metaT.put({ key: f.key, value: f.frame }));
    results.push('committed');
  }

  if ((poolUpdate || ownName) && identity) writes.push(identityT.put({ ...identity, ...(poolUpdate ? { preKeyPool: poolUpdate } : {}), ...(ownName ? { displayName: ownName } : {}) }));
  const lastReceivedAt = commits.length ? commits[commits.length - 1]!.receivedAt : 0;
  if (heldChanged) writes.push(metaT.put({ key: HELD_ACTIONS_KEY, value: writeHeld(held, lastReceivedAt) }));
  const insert = <T>(put: (v: T) => Promise<void>, add: (v: T) => Promise<void>, v: T): Promise<void> =>
    optimistic
      ? add(v).catch((e: unknown) => {
          throw isConstraintError(e) ? new IncomingInsertConflict('a key the batch inserts exists', { cause: e }) : e;
        })
      : put(v);
  for (const d of dedupMarks) writes.push(insert((v) => dedupT.put(v), (v) => dedupT.add(v), d));
  for (const s of dirtySessions.values()) writes.push(sessionsT.put(s));
  for (const m of dirtyMessages.values()) writes.push(newMessages.has(m.id) ? insert((v) => messagesT.put(v), (v) => messagesT.add(v), m) : messagesT.put(m));
  for (const cv of dirtyConversations.values()) writes.push(conversationsT.put(cv));
  await Promise.all(writes);
  await dropDeliveredCopies(outboxT, copiesDone, dequeued);
  // Deleted for everyone in this batch: the replies quoting them lose the quoted text too.
  const deleted = [...dirtyMessages.values()].filter((m) => m.deleted && (newMessages.has(m.id) || !messages.get(m.id)?.deleted));
  if (deleted.length) await blankQuotesOf(tx, deleted);
  return { results, heads: newHeads(queues, queuedHere, dequeued) };
}

/**
 * A device's receipt for one of our messages: that device's copy, if still in the outbox
 * (its ack lost, or its turn not come), is done; the other devices' copies stay. A copy
 * without a device is the one to the account mailbox (receipt-move.ts).
 */
async function dropDeliveredCopies(outbox: TxTable<'outbox'>, copies: readonly ReceiptMoved['dequeueCopy'][], dequeued: Set<string>): Promise<void> {
  const wanted = new Map<string, NonNullable<ReceiptMoved['dequeueCopy']>>();
  for (const c of copies) if (c) wanted.set(`${c.messageId}/${c.device ?? 'account'}`, c);
  if (!wanted.size) return;
  const found = await Promise.all([...wanted.values()].map(async (c) => (await outbox.query({ index: 'byContactSeq', lower: [c.contactId, c.seq], upper: [c.contactId, c.seq] })).filter((e) => e.messageId === c.messageId && e.device === c.device)));
  const ids = [...new Set(found.flat().map((e) => e.envelopeId))].filter((id) => !dequeued.has(id));
  await Promise.all(ids.map((id) => outbox.delete(id)));
  for (const id of ids) dequeued.add(id);
}

/**
 * The ready entries this batch queued that are now their contact's head of line: the
 * lowest (seq, envelope id) of the contact's entries still to send, exactly as
 * `outboxHeads` orders them (queue-heads.ts; failed entries hold nobody back). Only where
 * the whole queue was read (fewer than HEAD_CHECK_ENTRIES entries): otherwise not known,
 * and none is reported.
 */
function newHeads(queues: ReadonlyMap<string, readonly OutboxRecord[] | undefined>, queuedHere: readonly OutboxRecord[], dequeued: ReadonlySet<string>): OutboxRecord[] {
  const heads: OutboxRecord[] = [];
  for (const [contactId, before] of queues) {
    if (!before || before.length >= HEAD_CHECK_ENTRIES) continue;
    const mine = queuedHere.filter((r) => r.contactId === contactId);
    const replaced = new Set(mine.map((r) => r.envelopeId));
    const waiting = [...before.filter((r) => r.state !== 'failed' && !dequeued.has(r.envelopeId) && !replaced.has(r.envelopeId)), ...mine];
    const head = waiting.reduce<OutboxRecord | undefined>((a, r) => (!a || compareKeys([r.seq, r.envelopeId], [a.seq, a.envelopeId]) < 0 ? r : a), undefined);
    if (head?.state === 'ready' && mine.includes(head)) heads.push(head);
  }
  return heads;
}

/**
 * A received action on its target as this batch leaves it: the changed row, undefined when
 * the rules refuse it or it changes nothing (the messenger judged it before and counted a
 * refusal; a refusal here is a race with an earlier batch and changes nothing either), or
 * 'hold' when the target is not stored yet.
 */
function applyReceivedAction(action: MessageAction, target: MessageRecord | undefined, now: number): MessageRecord | 'hold' | undefined {
  if (!target) return 'hold';
  const verdict = judgeAction(target, action, now);
  return verdict.ok && verdict.changed ? verdict.row : undefined;
}
