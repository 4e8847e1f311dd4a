/**
 * One message to several targets (docs/PROTOCOL.md §13.5) in ONE transaction: the message
 * row and its conversation, every session the copies advanced, one ready outbox entry per
 * target that had a session and one pending job per target still without one. A failure
 * anywhere (a session moved on meanwhile, an id taken) writes nothing: never a message
 * with half of its copies.
 */
import type { BackendTx } from './backend.ts';
import { InvalidStoreInputError } from './errors.ts';
import { nextOwnSeq, nextSession, placeOutgoing, readyOutboxRecord, resendableRecord } from './outgoing-commit.ts';
import type { OutboxRecord } from './records.ts';
import { checkDeviceHex, contactOfSessionKey } from './session-key.ts';
import type { FanOutCommit, NewOutboxEntry, SessionUpdate } from './store-api.ts';
import { checkListVersion, checkOutboxEntry, checkOutgoingMessage, checkSameContact, checkSessionUpdate } from './validate-commits.ts';
import { checkArray, checkBytes, checkContactId, checkId128, checkObject } from './validate.ts';

export const FAN_OUT_STORES = ['sessions', 'messages', 'conversations', 'outbox', 'resendable'] as const;
/** 2 × 10 − 1 copies at most (§13.5), with room to spare. */
const FAN_OUT_TARGETS_MAX = 32;

export function checkFanOut(commit: FanOutCommit): void {
  checkObject('commit', commit);
  checkOutgoingMessage('message', commit.message);
  const contactId = commit.message.contactId;
  const own = commit.ownAccount === undefined ? undefined : checkContactId('ownAccount', commit.ownAccount);
  const ours = (id: string) => (id === own ? own : contactId);
  checkArray<SessionUpdate>('sessionUpdates', commit.sessionUpdates, FAN_OUT_TARGETS_MAX).forEach((u, i) => {
    checkSessionUpdate(`sessionUpdates[${i}]`, u);
    checkSameContact(`sessionUpdates[${i}].contactId`, contactOfSessionKey(u.contactId), ours(contactOfSessionKey(u.contactId)));
  });
  checkArray<NewOutboxEntry>('ready', commit.ready, FAN_OUT_TARGETS_MAX).forEach((e, i) => {
    checkOutboxEntry(`ready[${i}]`, e);
    checkSameContact(`ready[${i}].contactId`, e.contactId, ours(e.contactId));
  });
  checkArray<FanOutCommit['pending'][number]>('pending', commit.pending, FAN_OUT_TARGETS_MAX).forEach((j, i) => {
    checkObject(`pending[${i}]`, j);
    if (j.own !== undefined && (j.own !== true || own === undefined)) throw new InvalidStoreInputError(`pending[${i}].own`, 'an own copy needs ownAccount');
    checkId128(`pending[${i}].envelopeId`, j.envelopeId);
    if (j.device !== undefined) checkDeviceHex(`pending[${i}].device`, j.device);
    checkBytes(`pending[${i}].mailbox`, j.mailbox, 32);
    checkBytes(`pending[${i}].plaintext`, j.plaintext);
    if (j.listVersion !== undefined) checkListVersion(`pending[${i}].listVersion`, j.listVersion);
  });
  if (commit.retain !== undefined) checkBytes('retain', commit.retain);
  if (commit.retainOwn !== undefined) checkBytes('retainOwn', commit.retainOwn);
  const ids = [...commit.ready.map((e) => e.envelopeId), ...commit.pending.map((j) => j.envelopeId)];
  if (!ids.length) throw new InvalidStoreInputError('ready', 'a message goes to at least one target');
  if (new Set(ids).size !== ids.length) throw new InvalidStoreInputError('ready', 'an envelope id appears twice');
  const keys = commit.sessionUpdates.map((u) => u.contactId);
  if (new Set(keys).size !== keys.length) throw new InvalidStoreInputError('sessionUpdates', 'a session appears twice');
}

export async function applyFanOut(tx: BackendTx, commit: FanOutCommit, now: number): Promise<void> {
  const outbox = tx.table('outbox');
  const sessions = tx.table('sessions');
  const messages = tx.table('messages');
  const conversations = tx.table('conversations');
  const m = commit.message;
  const ids = [...commit.ready.map((e) => e.envelopeId), ...commit.pending.map((j) => j.envelopeId)];
  const [entries, current, existingMessage, conv, ownSeq] = await Promise.all([
    Promise.all(ids.map((id) => outbox.get(id))),
    Promise.all(commit.sessionUpdates.map((u) => sessions.get(u.contactId))),
    messages.get(m.id),
    conversations.get(m.contactId),
    commit.ownAccount === undefined ? 0 : nextOwnSeq(outbox, commit.ownAccount),
  ]);
  if (entries.some((e) => e)) throw new InvalidStoreInputError('ready.envelopeId', 'an outbox entry with this id exists');
  const nextSessions = commit.sessionUpdates.map((u, i) => nextSession(current[i], u, now));
  // The row names its first copy's envelope (as a single-target message does).
  const { row, conversation } = placeOutgoing(m, existingMessage, conv, ids[0]!);
  // Copies to our own devices carry no message id (they never move its status) and queue
  // under our account, after every copy already queued there: transcripts keep compose order.
  const pending: OutboxRecord[] = commit.pending.map((j) => ({
    envelopeId: j.envelopeId,
    ...(j.own ? {} : { messageId: row.id }),
    contactId: j.own ? commit.ownAccount! : m.contactId,
    ...(j.device !== undefined ? { device: j.device } : {}),
    mailbox: j.mailbox,
    ...(j.listVersion !== undefined ? { listVersion: j.listVersion } : {}),
    state: 'pending_session',
    plaintext: j.plaintext,
    seq: j.own ? ownSeq : row.order,
    attempts: 0,
    nextAttemptAt: now,
    createdAt: now,
  }));
  await Promise.all([
    ...nextSessions.map((s) => sessions.put(s)),
    messages.put(row),
    conversations.put(conversation),
    ...commit.ready.map((e) => outbox.put(e.contactId === commit.ownAccount ? { ...readyOutboxRecord(e, now), seq: ownSeq } : readyOutboxRecord(e, now, row))),
    ...pending.map((p) => outbox.put(p)),
    // Each copy is kept for resend (§12.8): the content to the contact's devices, the transcript to ours.
    ...(commit.retain
      ? [...commit.ready.filter((e) => e.contactId !== commit.ownAccount), ...pending.filter((p) => p.messageId !== undefined)].map((e) =>
          tx.table('resendable').put(resendableRecord(e, row.id, commit.retain!, now)),
        )
      : []),
    ...(commit.retainOwn
      ? [...commit.ready.filter((e) => e.contactId === commit.ownAccount), ...pending.filter((p) => p.messageId === undefined)].map((e) =>
          tx.table('resendable').put(resendableRecord(e, row.id, commit.retainOwn!, now)),
        )
      : []),
  ]);
}
