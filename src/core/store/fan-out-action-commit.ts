/**
 * Our edit, delete or reaction to a contact with linked devices (docs/PROTOCOL.md §13.5),
 * in ONE transaction: the target row changes (by the rules of message-actions.ts), every
 * device session the copies advanced, one ready entry per device with a session and one
 * pending job per device without one, all at the conversation's next order key (so no
 * copy overtakes the message it changes). Copies to our own other devices (action
 * transcripts, `sent{to, content}`) queue under our account, after every copy already there.
 * All or nothing, like `commitFanOut`.
 */
import type { BackendTx } from './backend.ts';
import { InvalidStoreInputError } from './errors.ts';
import { judgeAction, ME } from './message-actions.ts';
import { blankQuotesOf, previewAfterChange } from './message-changes.ts';
import { nextOwnSeq, nextSession, readyOutboxRecord, resendableRecord } from './outgoing-commit.ts';
import type { ConversationRecord } from './records.ts';
import { checkDeviceHex, contactOfSessionKey } from './session-key.ts';
import type { FanOutActionCommit, NewOutboxEntry, SessionUpdate } from './store-api.ts';
import { checkAction, checkListVersion, checkOutboxEntry, checkSameContact, checkSessionUpdate } from './validate-commits.ts';
import { checkArray, checkBytes, checkContactId, checkId128, checkObject } from './validate.ts';

const TARGETS_MAX = 32;

export function checkFanOutAction(commit: FanOutActionCommit): void {
  checkObject('commit', commit);
  checkAction('action', commit.action, ME);
  const contactId = checkContactId('contactId', commit.contactId);
  const own = commit.ownAccount === undefined ? undefined : checkContactId('ownAccount', commit.ownAccount);
  const ours = (id: string) => (id === own ? own : contactId);
  checkArray<SessionUpdate>('sessionUpdates', commit.sessionUpdates, TARGETS_MAX).forEach((u, i) => {
    checkSessionUpdate(`sessionUpdates[${i}]`, u);
    checkSameContact(`sessionUpdates[${i}].contactId`, contactOfSessionKey(u.contactId), ours(contactOfSessionKey(u.contactId)));
  });
  checkArray<NewOutboxEntry>('ready', commit.ready, TARGETS_MAX).forEach((e, i) => {
    checkOutboxEntry(`ready[${i}]`, e);
    checkSameContact(`ready[${i}].contactId`, e.contactId, ours(e.contactId));
  });
  checkArray<FanOutActionCommit['pending'][number]>('pending', commit.pending, TARGETS_MAX).forEach((j, i) => {
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
  if (!ids.length) throw new InvalidStoreInputError('ready', 'an action goes to at least one target');
  if (new Set(ids).size !== ids.length) throw new InvalidStoreInputError('ready', 'an envelope id appears twice');
}

export async function applyFanOutAction(tx: BackendTx, commit: FanOutActionCommit, now: number): Promise<void> {
  const { action, contactId } = commit;
  const outbox = tx.table('outbox');
  const sessions = tx.table('sessions');
  const messages = tx.table('messages');
  const conversations = tx.table('conversations');
  const ids = [...commit.ready.map((e) => e.envelopeId), ...commit.pending.map((j) => j.envelopeId)];
  const [entries, current, target, conv, ownSeq] = await Promise.all([
    Promise.all(ids.map((id) => outbox.get(id))),
    Promise.all(commit.sessionUpdates.map((u) => sessions.get(u.contactId))),
    messages.get(action.target),
    conversations.get(contactId),
    commit.ownAccount === undefined ? 0 : nextOwnSeq(outbox, commit.ownAccount),
  ]);
  if (entries.some((e) => e)) throw new InvalidStoreInputError('ready.envelopeId', 'an outbox entry with this id exists');
  if (!target || target.contactId !== contactId) throw new InvalidStoreInputError('action.target', 'no such message in this conversation');
  const verdict = judgeAction(target, action, now);
  if (!verdict.ok) throw new InvalidStoreInputError('action', `refused: ${verdict.reason}`);
  const nextSessions = commit.sessionUpdates.map((u, i) => nextSession(current[i], u, now));
  const c: ConversationRecord = conv ?? { contactId, unread: 0, lastActivityAt: 0, nextOrder: 0 };
  const placed: ConversationRecord = { ...(previewAfterChange(c, verdict.row) ?? c), nextOrder: c.nextOrder + 1 };
  await Promise.all([
    ...nextSessions.map((s) => sessions.put(s)),
    ...(verdict.changed ? [messages.put(verdict.row)] : []),
    conversations.put(placed),
    ...commit.ready.map((e) => outbox.put({ ...readyOutboxRecord(e, now), seq: e.contactId === commit.ownAccount ? ownSeq : c.nextOrder })),
    ...commit.pending.map((j) =>
      outbox.put({
        envelopeId: j.envelopeId,
        contactId: j.own ? commit.ownAccount! : contactId,
        ...(j.device !== undefined ? { device: j.device } : {}),
        mailbox: j.mailbox,
        ...(j.listVersion !== undefined ? { listVersion: j.listVersion } : {}),
        state: 'pending_session',
        plaintext: j.plaintext,
        seq: j.own ? ownSeq : c.nextOrder,
        attempts: 0,
        nextAttemptAt: now,
        createdAt: now,
      }),
    ),
    // Each copy is kept for resend (§12.8): the action to the contact's devices, its transcript to ours.
    ...(commit.retain
      ? [...commit.ready.filter((e) => e.contactId !== commit.ownAccount), ...commit.pending.filter((j) => !j.own).map((j) => ({ ...j, contactId }))].map((e) =>
          tx.table('resendable').put(resendableRecord(e, action.target, commit.retain!, now, 'action')),
        )
      : []),
    ...(commit.retainOwn && commit.ownAccount !== undefined
      ? [...commit.ready.filter((e) => e.contactId === commit.ownAccount), ...commit.pending.filter((j) => j.own).map((j) => ({ ...j, contactId: commit.ownAccount! }))].map((e) =>
          tx.table('resendable').put(resendableRecord(e, action.target, commit.retainOwn!, now, 'action')),
        )
      : []),
  ]);
  if (verdict.changed && verdict.row.deleted) await blankQuotesOf(tx, [verdict.row]);
}
