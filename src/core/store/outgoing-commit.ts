/**
 * The send-side commits, shaped like the receive side for IndexedDB's cost model: every
 * read issued at once, the checks and new records computed in memory, every write
 * issued at once — two round trips per enqueued message.
 */
import type { BackendTx, TxTable } from './backend.ts';
import { ConcurrentModificationError, InvalidStoreInputError } from './errors.ts';
import { judgeAction } from './message-actions.ts';
import { blankQuotesOf, previewAfterChange } from './message-changes.ts';
import type { ConversationRecord, MessageRecord, OutboxRecord, ResendableRecord, SessionRecord } from './records.ts';
import { ProtocolSeqs } from './protocol-seq.ts';
import type { NewOutboxEntry, NewOutgoingMessage, OutgoingCommit, PendingOutgoingCommit, SessionUpdate } from './store-api.ts';

export const OUTGOING_STORES = ['sessions', 'messages', 'conversations', 'outbox', 'resendable'] as const;

/** The kept copy (for resend, PROTOCOL.md §12.8) of a message copy queued under `envelopeId`. */
export function resendableRecord(
  e: { readonly envelopeId: string; readonly contactId: string; readonly device?: string },
  messageId: string,
  plaintext: Uint8Array,
  now: number,
  kind: 'message' | 'action' = 'message',
): ResendableRecord {
  return { envelopeId: e.envelopeId, contactId: e.contactId, ...(e.device !== undefined ? { device: e.device } : {}), messageId, ...(kind === 'action' ? { action: true as const } : {}), plaintext, at: now, resends: 0 };
}

/**
 * The seq for a new copy to our own devices (transcripts, queued under our account id):
 * one above the highest queued there, so the outbox sends them in compose order (the
 * queue's head is its lowest seq; equal seqs would go in envelope-id order). Protocol
 * entries (seen marks) take seqs below 1 (protocol-seq.ts).
 */
export async function nextOwnSeq(outbox: TxTable<'outbox'>, ownAccount: string): Promise<number> {
  const [last] = await outbox.query({ index: 'byContactSeq', lower: [ownAccount, 0], upper: [ownAccount, Infinity], direction: 'prev', limit: 1 });
  // A protocol entry's seq is below 1 (protocol-seq.ts): the next copy still takes a whole one.
  return Math.floor(last?.seq ?? 0) + 1;
}

/** The session record after `u`, or ConcurrentModificationError when the stored version is not the expected one. */
export function nextSession(current: SessionRecord | undefined, u: SessionUpdate, now: number): SessionRecord {
  const actual = current?.version ?? null;
  if (actual !== u.expectedVersion) throw new ConcurrentModificationError(u.contactId, u.expectedVersion, actual);
  return { contactId: u.contactId, version: (actual ?? 0) + 1, state: u.state, updatedAt: now };
}

/** An encrypted envelope ready to go now; `messageId`/`seq` tie it to its message row (none for receipts). */
export function readyOutboxRecord(e: NewOutboxEntry, now: number, row?: MessageRecord): OutboxRecord {
  return {
    envelopeId: e.envelopeId,
    ...(row ? { messageId: row.id } : {}),
    contactId: e.contactId,
    ...(e.device !== undefined ? { device: e.device } : {}),
    mailbox: e.mailbox,
    ...(e.listVersion !== undefined ? { listVersion: e.listVersion } : {}),
    state: 'ready',
    envelope: e.envelope,
    seq: row?.order ?? 0,
    attempts: 0,
    nextAttemptAt: now,
    createdAt: now,
  };
}

/** The new outgoing row (queued, next order key) and its conversation after it. */
export function placeOutgoing(m: NewOutgoingMessage, existing: MessageRecord | undefined, conv: ConversationRecord | undefined, envelopeId: string) {
  if (existing) throw new InvalidStoreInputError('message.id', 'a message with this id exists');
  const c: ConversationRecord = conv ?? { contactId: m.contactId, unread: 0, lastActivityAt: 0, nextOrder: 0 };
  const row: MessageRecord = {
    id: m.id,
    contactId: m.contactId,
    direction: 'out',
    body: m.body,
    sentAt: m.sentAt,
    order: c.nextOrder,
    status: 'queued',
    envelopeId,
    ...(m.attachment ? { attachment: m.attachment } : {}),
    ...(m.quote ? { quote: m.quote } : {}),
    updatedAt: m.sentAt,
  };
  const conversation: ConversationRecord = {
    ...c,
    lastMessage: { messageId: m.id, text: m.body, at: m.sentAt, direction: 'out' },
    lastActivityAt: Math.max(c.lastActivityAt, m.sentAt),
    nextOrder: c.nextOrder + 1,
  };
  return { row, conversation };
}

/** Entries of the contact's queue read (in the commit's transaction) to tell whether a new message is its head of line. */
export const HEAD_CHECK_ENTRIES = 8;

export async function applyOutgoing(tx: BackendTx, commit: OutgoingCommit, now: number): Promise<{ readonly sessionVersion: number; readonly head?: OutboxRecord }> {
  if (commit.action) return { sessionVersion: await applyOutgoingAction(tx, commit, now) };
  const outbox = tx.table('outbox');
  const sessions = tx.table('sessions');
  const messages = tx.table('messages');
  const conversations = tx.table('conversations');
  const e = commit.outboxEntry;
  const m = commit.message;
  const [existingEntry, session, existingMessage, conv, queued, protocolSeq] = await Promise.all([
    outbox.get(e.envelopeId),
    sessions.get(commit.sessionUpdate.contactId),
    m ? messages.get(m.id) : undefined,
    m ? conversations.get(m.contactId) : undefined,
    // The contact's queue as it is before this entry (byContactSeq, lowest first).
    m ? outbox.query({ index: 'byContactSeq', lower: [e.contactId, -Infinity], upper: [e.contactId, Infinity], limit: HEAD_CHECK_ENTRIES }) : [],
    // A protocol entry (a profile, a signal): behind the contact's queued ones (protocol-seq.ts).
    m ? undefined : ProtocolSeqs.read(outbox, [e.contactId]),
  ]);
  if (existingEntry) throw new InvalidStoreInputError('outboxEntry.envelopeId', 'an outbox entry with this id exists');
  const next = nextSession(session, commit.sessionUpdate, now);
  const placed = m ? placeOutgoing(m, existingMessage, conv, e.envelopeId) : undefined;
  const record = protocolSeq ? protocolSeq.record(e, now) : readyOutboxRecord(e, now, placed?.row);
  await Promise.all([
    sessions.put(next),
    ...(placed ? [messages.put(placed.row), conversations.put(placed.conversation)] : []),
    outbox.put(record),
    ...(placed && commit.retain ? [tx.table('resendable').put(resendableRecord(e, placed.row.id, commit.retain, now))] : []),
  ]);
  // A message gets its conversation's next (highest) seq: it is the head of its contact's
  // queue exactly when nothing else of the contact is still to send (failed entries wait
  // for a manual retry and hold nobody back, queue-heads.ts). A page of failed entries only: not known, not the head.
  const head = placed && queued.length < HEAD_CHECK_ENTRIES && queued.every((q) => q.state === 'failed');
  return { sessionVersion: next.version, ...(head ? { head: record } : {}) };
}

export async function applyPendingOutgoing(tx: BackendTx, commit: PendingOutgoingCommit, now: number): Promise<void> {
  const outbox = tx.table('outbox');
  const messages = tx.table('messages');
  const conversations = tx.table('conversations');
  const m = commit.message;
  const a = commit.action;
  const [existingEntry, existingMessage, target] = await Promise.all([
    outbox.get(commit.job.envelopeId),
    m ? messages.get(m.id) : undefined,
    a ? messages.get(a.target) : undefined,
  ]);
  const contactId = m?.contactId ?? target?.contactId;
  if (existingEntry) throw new InvalidStoreInputError('job.envelopeId', 'an outbox entry with this id exists');
  if (contactId === undefined) throw new InvalidStoreInputError('action.target', 'no such message');
  const conv = await conversations.get(contactId);
  let row: MessageRecord | undefined;
  let conversation: ConversationRecord;
  let seq: number;
  let deletedRow: MessageRecord | undefined;
  const writes: Promise<void>[] = [];
  if (m) {
    ({ row, conversation } = placeOutgoing(m, existingMessage, conv, commit.job.envelopeId));
    seq = row.order;
  } else {
    const verdict = judgeAction(target!, a!, now);
    if (!verdict.ok) throw new InvalidStoreInputError('action', `refused: ${verdict.reason}`);
    if (verdict.changed) writes.push(messages.put(verdict.row));
    if (verdict.changed && verdict.row.deleted) deletedRow = verdict.row;
    const c: ConversationRecord = conv ?? { contactId, unread: 0, lastActivityAt: 0, nextOrder: 0 };
    conversation = { ...(previewAfterChange(c, verdict.row) ?? c), nextOrder: c.nextOrder + 1 };
    seq = c.nextOrder;
  }
  await Promise.all([
    ...writes,
    ...(row ? [messages.put(row)] : []),
    conversations.put(conversation),
    outbox.put({
      envelopeId: commit.job.envelopeId,
      ...(row ? { messageId: row.id } : {}),
      contactId,
      mailbox: commit.job.mailbox,
      ...(commit.job.listVersion !== undefined ? { listVersion: commit.job.listVersion } : {}),
      state: 'pending_session',
      plaintext: commit.job.plaintext,
      seq,
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
    }),
    // A job's content is kept for resend from now (§12.8), whenever its session starts: a message's, or an action's.
    tx.table('resendable').put(row ? resendableRecord({ envelopeId: commit.job.envelopeId, contactId }, row.id, commit.job.plaintext, now) : resendableRecord({ envelopeId: commit.job.envelopeId, contactId }, a!.target, commit.job.plaintext, now, 'action')),
  ]);
  if (deletedRow) await blankQuotesOf(tx, [deletedRow]);
}

/**
 * Our edit, delete or reaction: the target row changes and the action's envelope is queued,
 * in one transaction. The entry takes the conversation's next order key as its place in the
 * contact's queue, so it never overtakes the message it changes.
 */
async function applyOutgoingAction(tx: BackendTx, commit: OutgoingCommit, now: number): Promise<number> {
  const action = commit.action!;
  const contactId = commit.sessionUpdate.contactId;
  const outbox = tx.table('outbox');
  const messages = tx.table('messages');
  const conversations = tx.table('conversations');
  const sessions = tx.table('sessions');
  const [existingEntry, session, target, conv] = await Promise.all([
    outbox.get(commit.outboxEntry.envelopeId),
    sessions.get(contactId),
    messages.get(action.target),
    conversations.get(contactId),
  ]);
  if (existingEntry) throw new InvalidStoreInputError('outboxEntry.envelopeId', 'an outbox entry with this id exists');
  if (!target || target.contactId !== contactId) throw new InvalidStoreInputError('action.target', 'no such message in this conversation');
  const verdict = judgeAction(target, action, now);
  if (!verdict.ok) throw new InvalidStoreInputError('action', `refused: ${verdict.reason}`);
  const next = nextSession(session, commit.sessionUpdate, now);
  const c: ConversationRecord = conv ?? { contactId, unread: 0, lastActivityAt: 0, nextOrder: 0 };
  const placed: ConversationRecord = { ...(previewAfterChange(c, verdict.row) ?? c), nextOrder: c.nextOrder + 1 };
  await Promise.all([
    sessions.put(next),
    ...(verdict.changed ? [messages.put(verdict.row)] : []),
    conversations.put(placed),
    outbox.put({ ...readyOutboxRecord(commit.outboxEntry, now), seq: c.nextOrder }),
    ...(commit.retain ? [tx.table('resendable').put(resendableRecord(commit.outboxEntry, action.target, commit.retain, now, 'action'))] : []),
  ]);
  if (verdict.changed && verdict.row.deleted) await blankQuotesOf(tx, [verdict.row]);
  return next.version;
}
