/**
 * The store's atomic operations, written once over a `StoreBackend` (in-memory in the
 * core, IndexedDB in `src/platform/idb`). Each public method validates its input, then
 * runs exactly one transaction; see `store-api.ts` for the contract.
 */
import { GroupStore } from './group-store.ts';
import { GROUP_INBOX_END, GROUP_INBOX_PREFIX, sessionKeyOfInboxKey, type GroupInboxRow } from './group-inbox.ts';
import type { BackendTx, StoreBackend, TxMode, TxOptions, TxTable } from './backend.ts';
import { applyContactChange, applyDeleteConversation, checkContactChange, DELETE_CONVERSATION_STORES, type ContactChange, type DeletedConversation } from './contact-changes.ts';
import { ConcurrentModificationError, InvalidStoreInputError, InvalidTransitionError, RecordNotFoundError, StoreError } from './errors.ts';
import { applySystemLine, SYSTEM_LINE_STORES, type SystemLine } from './system-line.ts';
import { applyHistoryImport, applyImportDiscard, HISTORY_IMPORT_STORES, IMPORT_DISCARD_STORES, type ImportedMessage } from './history-import.ts';
import { applyIncoming, INCOMING_STORES, IncomingInsertConflict } from './incoming-batch.ts';
import { applyOutgoing, applyPendingOutgoing, nextSession, OUTGOING_STORES } from './outgoing-commit.ts';
import { ProtocolSeqs } from './protocol-seq.ts';
import { applyLocalDelete } from './message-changes.ts';
import { withCopyFailed, withoutFailedAccountCopy, withoutFailedCopies, withoutFailedDevice } from './failed-devices.ts';
import { ME } from './message-actions.ts';
import { queueHeads } from './queue-heads.ts';
import { applyFanOut, checkFanOut, FAN_OUT_STORES } from './fan-out-commit.ts';
import { applyFanOutAction, checkFanOutAction } from './fan-out-action-commit.ts';
import { applyCopyCover, checkCopyCover, COPY_COVER_STORES, type CopyCoverCommit } from './copy-cover-commit.ts';
import { applyDeviceCover, checkDeviceCover, DEVICE_COVER_STORES, type DeviceCoverCommit, type DeviceCoverResult } from './device-cover-commit.ts';
import { checkDeviceHex, checkSessionKey, contactOfSessionKey, deviceOfSessionKey } from './session-key.ts';
import { COMMIT_LIST_MAX, DEDUP_MAX_ENTRIES, DEDUP_RETENTION_MS, MESSAGE_PAGE_MAX, OUTBOX_DUE_MAX, RESEND_RETENTION_MS, RESENDABLE_MAX } from './limits.ts';
import type {
  ContactRecord,
  ConversationRecord,
  IdentityRecord,
  MessageRecord,
  MetaValue,
  OutboxRecord,
  ResendableRecord,
  SessionRecord,
  VerificationState,
} from './records.ts';
import type { StoreName } from './schema.ts';
import type { StorageHealthView } from './storage-health.ts';
import type {
  FanOutActionCommit,
  FanOutCommit,
  IncomingCommit,
  IncomingBatchCommitted,
  IncomingResult,
  MessagePage,
  NewOutboxEntry,
  OutgoingCommit,
  OutgoingCommitted,
  PendingOutgoingCommit,
  PendingProtocolJob,
  PetrelStore,
  ReadCommit,
  SentCommitted,
  SentReport,
  SessionStartCommit,
  SessionUpdate,
} from './store-api.ts';
import { checkAction, checkContact, checkIncoming, checkIncomingBatch, checkListVersion, checkOutboxEntry, checkOutgoingMessage, checkSameContact, checkSessionUpdate } from './validate-commits.ts';
import { checkArray, checkBody, checkBytes, checkContactId, checkCount, checkId128, checkObject, checkOneOf, checkText, checkTime } from './validate.ts';

/** For commits no effect outside the device follows (see TxOptions). */
const EFFECT_FREE: TxOptions = { effectFree: true };

/** Checks the version and writes the next one; returns the new version. */
async function applySessionUpdate(tx: BackendTx, u: SessionUpdate, now: number): Promise<number> {
  const sessions = tx.table('sessions');
  const next = nextSession(await sessions.get(u.contactId), u, now);
  await sessions.put(next);
  return next.version;
}

/** The other copies of `entry`'s message still in the outbox (copies of one message share its seq). */
async function otherCopies(outbox: TxTable<'outbox'>, entry: OutboxRecord): Promise<OutboxRecord[]> {
  const sameSeq = await outbox.query({ index: 'byContactSeq', lower: [entry.contactId, entry.seq], upper: [entry.contactId, entry.seq] });
  return sameSeq.filter((e) => e.messageId === entry.messageId && e.envelopeId !== entry.envelopeId);
}

function withoutFailure(m: MessageRecord): MessageRecord {
  const { failure: _f, ...rest } = m;
  return rest;
}

export interface PetrelStoreOptions {
  /** Time for records the store stamps itself (ms since epoch). */
  readonly now: () => number;
  /** Dedup bounds; default `DEDUP_RETENTION_MS` / `DEDUP_MAX_ENTRIES` (tests use small ones). */
  readonly dedupRetentionMs?: number;
  readonly dedupMaxEntries?: number;
}

export class BackendPetrelStore implements PetrelStore {
  readonly health: StorageHealthView;
  readonly groups: GroupStore;

  constructor(
    private readonly backend: StoreBackend,
    private readonly options: PetrelStoreOptions,
  ) {
    this.health = backend.health;
    this.groups = new GroupStore(backend, () => options.now());
  }

  private tx<T>(stores: readonly StoreName[], mode: TxMode, body: (tx: BackendTx) => Promise<T>, options?: TxOptions): Promise<T> {
    return options ? this.backend.transaction(stores, mode, body, options) : this.backend.transaction(stores, mode, body);
  }

  // ---- identity and prekeys

  loadIdentity(): Promise<IdentityRecord | undefined> {
    return this.tx(['identity'], 'readonly', (tx) => tx.table('identity').get('self'));
  }

  async saveIdentity(identity: IdentityRecord): Promise<void> {
    checkObject('identity', identity);
    if (identity.id !== 'self') throw new InvalidStoreInputError('identity.id', "expected 'self'");
    checkBytes('identity.seed', identity.seed, 32);
    if (typeof identity.displayName !== 'string') throw new InvalidStoreInputError('identity.displayName', 'expected text');
    checkTime('identity.createdAt', identity.createdAt);
    checkCount('identity.nextPreKeyId', identity.nextPreKeyId, 0xffffffff);
    if (identity.preKeyPool !== undefined) checkBytes('identity.preKeyPool', identity.preKeyPool);
    if (identity.signedPreKeysRotatedAt !== undefined) checkTime('identity.signedPreKeysRotatedAt', identity.signedPreKeysRotatedAt);
    await this.tx(['identity'], 'readwrite', (tx) => tx.table('identity').put(identity));
  }

  async setOwnDisplayName(displayName: string): Promise<void> {
    if (typeof displayName !== 'string' || displayName.trim() === '') throw new InvalidStoreInputError('displayName', 'expected non-empty text');
    await this.tx(['identity'], 'readwrite', async (tx) => {
      const t = tx.table('identity');
      const identity = await t.get('self');
      if (!identity) throw new RecordNotFoundError('identity', 'self');
      await t.put({ ...identity, displayName });
    });
  }

  async savePreKeyPool(pool: Uint8Array, options: { readonly signedPreKeysRotatedAt?: number } = {}): Promise<void> {
    checkBytes('pool', pool);
    checkObject('options', options);
    const rotatedAt = options.signedPreKeysRotatedAt;
    if (rotatedAt !== undefined) checkTime('options.signedPreKeysRotatedAt', rotatedAt);
    await this.tx(['identity'], 'readwrite', async (tx) => {
      const t = tx.table('identity');
      const identity = await t.get('self');
      if (!identity) throw new RecordNotFoundError('identity', 'self');
      await t.put({ ...identity, preKeyPool: pool, ...(rotatedAt !== undefined ? { signedPreKeysRotatedAt: rotatedAt } : {}) });
    });
  }

  // ---- contacts and sessions

  async getContact(id: string): Promise<ContactRecord | undefined> {
    checkContactId('id', id);
    return this.tx(['contacts'], 'readonly', (tx) => tx.table('contacts').get(id));
  }

  listContacts(): Promise<ContactRecord[]> {
    return this.tx(['contacts'], 'readonly', (tx) => tx.table('contacts').query());
  }

  async putContact(contact: ContactRecord): Promise<void> {
    checkContact('contact', contact);
    await this.tx(['contacts'], 'readwrite', (tx) => tx.table('contacts').put(contact));
  }

  async setVerification(contactId: string, state: VerificationState): Promise<void> {
    checkContactId('contactId', contactId);
    checkOneOf('state', state, ['unverified', 'verified'] as const);
    await this.updateContact(contactId, (c) => ({ ...c, verification: state }));
  }

  async acknowledgeKeyChange(contactId: string): Promise<void> {
    checkContactId('contactId', contactId);
    const now = this.options.now();
    await this.tx(['contacts', 'outbox'], 'readwrite', async (tx) => {
      const contacts = tx.table('contacts');
      const outbox = tx.table('outbox');
      const [c, entries] = await Promise.all([contacts.get(contactId), outbox.query({ index: 'byContactSeq', lower: [contactId, -Infinity], upper: [contactId, Infinity] })]);
      if (!c) throw new RecordNotFoundError('contact', contactId);
      // The jobs that waited for this acknowledgement (maybe for days) get their age budget from now.
      const waiting = c.keyChange && !c.keyChange.acknowledged ? entries.filter((e) => e.state === 'pending_session') : [];
      await Promise.all([
        contacts.put({
          ...c,
          ...(c.keyChange ? { keyChange: { ...c.keyChange, acknowledged: true } } : {}),
          ...(c.possibleKeyChangeOf ? { possibleKeyChangeOf: { ...c.possibleKeyChangeOf, acknowledged: true } } : {}),
        }),
        ...waiting.map((e) => outbox.put({ ...e, firstAttemptAt: now })),
      ]);
    });
  }

  async changeContact(contactId: string, change: ContactChange): Promise<ContactRecord> {
    checkContactChange(contactId, change);
    return this.tx(['contacts'], 'readwrite', (tx) => applyContactChange(tx, contactId, change));
  }

  async deleteConversation(contactId: string): Promise<DeletedConversation> {
    checkContactId('contactId', contactId);
    const { deleted } = await this.tx(DELETE_CONVERSATION_STORES, 'readwrite', (tx) => applyDeleteConversation(tx, contactId));
    return deleted;
  }

  async importHistory(contactId: string, messages: readonly ImportedMessage[]): Promise<number> {
    checkContactId('contactId', contactId);
    for (const m of messages) {
      checkId128('id', m.id);
      checkOneOf('direction', m.direction, ['in', 'out'] as const);
      checkBody('body', m.body);
      checkTime('sentAt', m.sentAt);
    }
    return this.tx(HISTORY_IMPORT_STORES, 'readwrite', (tx) => applyHistoryImport(tx, contactId, messages, this.options.now()));
  }

  async addSystemLine(line: SystemLine): Promise<void> {
    checkObject('line', line);
    checkContactId('line.contactId', line.contactId);
    checkId128('line.id', line.id);
    checkBody('line.text', line.text);
    checkTime('line.at', line.at);
    return this.tx(SYSTEM_LINE_STORES, 'readwrite', (tx) => applySystemLine(tx, line, this.options.now()));
  }

  async discardImport(contactIds: readonly string[]): Promise<void> {
    for (const id of contactIds) checkContactId('contactId', id);
    await this.tx(IMPORT_DISCARD_STORES, 'readwrite', (tx) => applyImportDiscard(tx, contactIds));
  }

  private async updateContact(contactId: string, change: (c: ContactRecord) => ContactRecord): Promise<void> {
    await this.tx(['contacts'], 'readwrite', async (tx) => {
      const t = tx.table('contacts');
      const c = await t.get(contactId);
      if (!c) throw new RecordNotFoundError('contact', contactId);
      await t.put(change(c));
    });
  }

  async getSession(contactId: string): Promise<SessionRecord | undefined> {
    checkSessionKey('contactId', contactId);
    return this.tx(['sessions'], 'readonly', (tx) => tx.table('sessions').get(contactId));
  }

  async commitSession(update: SessionUpdate): Promise<number> {
    checkSessionUpdate('update', update);
    const now = this.options.now();
    return this.tx(['sessions'], 'readwrite', (tx) => applySessionUpdate(tx, update, now));
  }

  async discardCorruptSession(contactId: string, expectedVersion: number): Promise<boolean> {
    checkSessionKey('contactId', contactId);
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 1) throw new InvalidStoreInputError('expectedVersion', 'expected a positive integer');
    return this.tx(['sessions'], 'readwrite', async (tx) => {
      const sessions = tx.table('sessions');
      if ((await sessions.get(contactId))?.version !== expectedVersion) return false;
      await sessions.delete(contactId);
      return true;
    });
  }

  // ---- send

  async commitOutgoing(commit: OutgoingCommit): Promise<OutgoingCommitted> {
    checkObject('commit', commit);
    checkSessionUpdate('sessionUpdate', commit.sessionUpdate);
    checkOutboxEntry('outboxEntry', commit.outboxEntry);
    const sessionContact = contactOfSessionKey(commit.sessionUpdate.contactId);
    checkSameContact('outboxEntry.contactId', commit.outboxEntry.contactId, sessionContact);
    if (commit.outboxEntry.device !== deviceOfSessionKey(commit.sessionUpdate.contactId)) throw new InvalidStoreInputError('outboxEntry.device', 'is not the device of the session');
    if (commit.message !== undefined) {
      checkOutgoingMessage('message', commit.message);
      checkSameContact('message.contactId', commit.message.contactId, sessionContact);
    }
    if (commit.action !== undefined) {
      if (commit.message !== undefined) throw new InvalidStoreInputError('action', 'a commit carries a message or an action, not both');
      checkAction('action', commit.action, ME);
    }
    if (commit.retain !== undefined) checkBytes('retain', commit.retain);
    const now = this.options.now();
    return this.tx(OUTGOING_STORES, 'readwrite', (tx) => applyOutgoing(tx, commit, now));
  }

  async commitPendingOutgoing(commit: PendingOutgoingCommit): Promise<void> {
    checkObject('commit', commit);
    checkObject('job', commit.job);
    if ((commit.message === undefined) === (commit.action === undefined)) throw new InvalidStoreInputError('commit', 'a pending job carries a message or an action');
    if (commit.message !== undefined) checkOutgoingMessage('message', commit.message);
    if (commit.action !== undefined) checkAction('action', commit.action, ME);
    checkId128('job.envelopeId', commit.job.envelopeId);
    checkBytes('job.mailbox', commit.job.mailbox, 32);
    checkBytes('job.plaintext', commit.job.plaintext);
    if (commit.job.listVersion !== undefined) checkListVersion('job.listVersion', commit.job.listVersion);
    const now = this.options.now();
    await this.tx(['messages', 'conversations', 'outbox', 'resendable'], 'readwrite', (tx) => applyPendingOutgoing(tx, commit, now));
  }

  async commitPendingProtocol(job: PendingProtocolJob): Promise<void> {
    checkObject('job', job);
    checkId128('job.envelopeId', job.envelopeId);
    checkContactId('job.contactId', job.contactId);
    if (job.device !== undefined) checkDeviceHex('job.device', job.device);
    checkBytes('job.mailbox', job.mailbox, 32);
    checkBytes('job.plaintext', job.plaintext);
    if (job.keep !== undefined && job.keep !== true) throw new InvalidStoreInputError('job.keep', 'true or absent');
    const now = this.options.now();
    await this.tx(['outbox'], 'readwrite', async (tx) => {
      const outbox = tx.table('outbox');
      if (await outbox.get(job.envelopeId)) return;
      await outbox.put((await ProtocolSeqs.read(outbox, [job.contactId])).pending(job, now));
    });
  }

  async commitFanOut(commit: FanOutCommit): Promise<void> {
    checkFanOut(commit);
    const now = this.options.now();
    await this.tx(FAN_OUT_STORES, 'readwrite', (tx) => applyFanOut(tx, commit, now));
  }

  async commitFanOutAction(commit: FanOutActionCommit): Promise<void> {
    checkFanOutAction(commit);
    const now = this.options.now();
    await this.tx(FAN_OUT_STORES, 'readwrite', (tx) => applyFanOutAction(tx, commit, now));
  }

  async dropOutboxEntry(envelopeId: string, reason: string): Promise<'dropped' | 'failed' | 'gone'> {
    checkId128('envelopeId', envelopeId);
    const failure = checkText('reason', reason);
    const now = this.options.now();
    return this.tx(['outbox', 'messages'], 'readwrite', async (tx) => {
      const outbox = tx.table('outbox');
      const entry = await outbox.get(envelopeId);
      if (!entry) return 'gone';
      const m = entry.messageId ? await tx.table('messages').get(entry.messageId) : undefined;
      const others = m ? await otherCopies(outbox, entry) : [];
      // The last copy of a message no copy of which went out: the message fails (and can be retried).
      if (m && m.status === 'queued' && !others.length) {
        await Promise.all([outbox.put({ ...entry, state: 'failed', lastError: failure }), tx.table('messages').put({ ...withCopyFailed(m, entry, others, failure), updatedAt: now })]);
        return 'failed';
      }
      await outbox.delete(envelopeId);
      if (m) {
        // Its other copies were all given up on already: none is left that could go, the message fails.
        let row = m.status === 'queued' && others.every((e) => e.state === 'failed') ? { ...m, status: 'failed' as const, failure: others.at(-1)?.lastError ?? failure } : m;
        // A copy given up on that leaves the outbox is named on the row no more (the row mirrors the failed copies).
        if (entry.state === 'failed') row = entry.device !== undefined ? withoutFailedDevice(row, entry.device) : row.failedAccountCopy ? withoutFailedAccountCopy(row) : row;
        if (row !== m) await tx.table('messages').put({ ...row, updatedAt: now });
      }
      return 'dropped';
    });
  }

  async coverDevices(commit: DeviceCoverCommit): Promise<DeviceCoverResult> {
    checkDeviceCover(commit);
    const now = this.options.now();
    return this.tx(DEVICE_COVER_STORES, 'readwrite', (tx) => applyDeviceCover(tx, commit, now));
  }

  async coverCopies(commit: CopyCoverCommit): Promise<DeviceCoverResult> {
    checkCopyCover(commit);
    const now = this.options.now();
    return this.tx(COPY_COVER_STORES, 'readwrite', (tx) => applyCopyCover(tx, commit, now));
  }

  async pendingJobs(contactId: string): Promise<OutboxRecord[]> {
    checkContactId('contactId', contactId);
    const all = await this.tx(['outbox'], 'readonly', (tx) =>
      tx.table('outbox').query({ index: 'byContactSeq', lower: [contactId, -Infinity], upper: [contactId, Infinity] }),
    );
    return all.filter((e) => e.state === 'pending_session');
  }

  async jobsAwaitingSession(contactId: string): Promise<OutboxRecord[]> {
    checkContactId('contactId', contactId);
    const all = await this.tx(['outbox'], 'readonly', (tx) =>
      tx.table('outbox').query({ index: 'byContactSeq', lower: [contactId, -Infinity], upper: [contactId, Infinity] }),
    );
    return all.filter(awaitsSession);
  }

  async commitSessionStart(commit: SessionStartCommit): Promise<{ readonly sessionVersion: number }> {
    checkObject('commit', commit);
    checkSessionUpdate('sessionUpdate', commit.sessionUpdate);
    checkArray<{ envelopeId: string; envelope: Uint8Array }>('encrypted', commit.encrypted, OUTBOX_DUE_MAX).forEach((e, i) => {
      checkObject(`encrypted[${i}]`, e);
      checkId128(`encrypted[${i}].envelopeId`, e.envelopeId);
      checkBytes(`encrypted[${i}].envelope`, e.envelope);
    });
    const now = this.options.now();
    const contactId = contactOfSessionKey(commit.sessionUpdate.contactId);
    const device = deviceOfSessionKey(commit.sessionUpdate.contactId);
    return this.tx(['sessions', 'outbox'], 'readwrite', async (tx) => {
      const outbox = tx.table('outbox');
      const jobs = await Promise.all(commit.encrypted.map((e) => outbox.get(e.envelopeId)));
      jobs.forEach((job, i) => {
        const id = commit.encrypted[i]!.envelopeId;
        if (!job) throw new RecordNotFoundError('outbox', id);
        if (!awaitsSession(job) || job.contactId !== contactId || job.device !== device) throw new InvalidTransitionError(id, job.state, 'ready');
      });
      const sessionVersion = await applySessionUpdate(tx, commit.sessionUpdate, now);
      await Promise.all(
        jobs.map((job, i) => {
          // A parked job (OutboxRecord.keep) is an ordinary entry from here on: what it waited for is done.
          const { plaintext: _p, keep: _k, lastError: _e, ...rest } = job!;
          return outbox.put({ ...rest, state: 'ready', envelope: commit.encrypted[i]!.envelope, nextAttemptAt: now });
        }),
      );
      return { sessionVersion };
    });
  }

  // ---- outbox

  async dueOutbox(now: number, limit: number): Promise<OutboxRecord[]> {
    checkTime('now', now);
    checkCount('limit', limit, OUTBOX_DUE_MAX);
    return this.tx(['outbox'], 'readonly', (tx) => tx.table('outbox').query({ index: 'byStateDue', lower: ['ready', -Infinity], upper: ['ready', now], limit }));
  }

  async outboxHeads(maxHeads: number): Promise<OutboxRecord[]> {
    checkCount('maxHeads', maxHeads, OUTBOX_DUE_MAX);
    return this.tx(['outbox'], 'readonly', (tx) => queueHeads(tx.table('outbox'), maxHeads));
  }

  async nextDueAt(): Promise<number | undefined> {
    const [first] = await this.tx(['outbox'], 'readonly', (tx) =>
      tx.table('outbox').query({ index: 'byStateDue', lower: ['ready', -Infinity], upper: ['ready', Infinity], limit: 1 }),
    );
    return first?.nextAttemptAt;
  }

  async markSent(envelopeId: string, report: SentReport): Promise<SentCommitted> {
    checkId128('envelopeId', envelopeId);
    checkObject('report', report);
    checkTime('report.at', report.at);
    if (report.via !== undefined) checkOneOf('report.via', report.via, ['relay', 'direct'] as const);
    return this.tx(['outbox', 'messages'], 'readwrite', async (tx) => {
      const outbox = tx.table('outbox');
      const entry = await outbox.get(envelopeId);
      if (!entry) return { removed: false };
      await outbox.delete(envelopeId);
      if (entry.messageId) {
        const messages = tx.table('messages');
        const m = await messages.get(entry.messageId);
        // A receipt may have moved it past `sent` already; never move it back. The copies
        // given up on stay named (failed-devices.ts): another device never got it.
        if (m && (m.status === 'queued' || m.status === 'failed')) {
          await messages.put({ ...withoutFailure(m), status: 'sent', ...(report.via ? { via: report.via } : {}), updatedAt: report.at });
          return { removed: true, moved: m.id };
        }
      }
      return { removed: true };
      // Nothing leaves the device because of this commit; lost, the envelope goes again
      // under the same id and the receiver drops the copy. Flushing it to disk first held
      // up the delivery receipt's commit behind it (issue 22).
    }, EFFECT_FREE);
  }

  async recordAttemptFailure(envelopeId: string, nextAttemptAt: number, error: string): Promise<void> {
    checkId128('envelopeId', envelopeId);
    checkTime('nextAttemptAt', nextAttemptAt);
    const lastError = checkText('error', error);
    await this.tx(['outbox'], 'readwrite', async (tx) => {
      const outbox = tx.table('outbox');
      const entry = await outbox.get(envelopeId);
      if (!entry) throw new RecordNotFoundError('outbox', envelopeId);
      await outbox.put({ ...entry, attempts: entry.attempts + 1, nextAttemptAt, lastError });
    }, EFFECT_FREE); // lost, one attempt is not counted
  }

  async markFailed(envelopeId: string, reason: string): Promise<string | undefined> {
    checkId128('envelopeId', envelopeId);
    const failure = checkText('reason', reason);
    const now = this.options.now();
    return this.tx(['outbox', 'messages'], 'readwrite', async (tx) => {
      const outbox = tx.table('outbox');
      const entry = await outbox.get(envelopeId);
      if (!entry) throw new RecordNotFoundError('outbox', envelopeId);
      // A protocol entry (receipt, profile) has no row to show the failure and no manual
      // retry: it is dropped instead of lying in the outbox (and in every head scan) forever.
      // A group frame waiting for its session is parked instead (OutboxRecord.keep).
      if (!entry.messageId) {
        if (entry.keep && entry.state === 'pending_session') await outbox.put({ ...entry, state: 'failed', lastError: failure });
        else await outbox.delete(envelopeId);
        return undefined;
      }
      const messages = tx.table('messages');
      const m = await messages.get(entry.messageId);
      // The row fails once no copy of it could still go; the copy is named on the row
      // whatever its state (another device may have it delivered): failed-devices.ts.
      const row = m && withCopyFailed(m, entry, await otherCopies(outbox, entry), failure);
      await Promise.all([outbox.put({ ...entry, state: 'failed', lastError: failure }), ...(row && row !== m ? [messages.put({ ...row, updatedAt: now })] : [])]);
      return row && row !== m ? row.id : undefined;
    });
  }

  async retry(messageId: string, now: number): Promise<number> {
    checkId128('messageId', messageId);
    checkTime('now', now);
    return this.tx(['outbox', 'messages'], 'readwrite', async (tx) => {
      const messages = tx.table('messages');
      const m = await messages.get(messageId);
      if (!m) throw new RecordNotFoundError('message', messageId);
      if (m.direction !== 'out' || !m.envelopeId) throw new InvalidTransitionError(messageId, m.status, 'queued');
      const outbox = tx.table('outbox');
      // Every failed copy goes again (a message fanned out to several devices has one per
      // device), whatever the message's best state: one device may have it while another
      // never got it. The row's own entry is read by id too (it may predate `seq` = order).
      const [entry, sameSeq] = await Promise.all([
        outbox.get(m.envelopeId),
        outbox.query({ index: 'byContactSeq', lower: [m.contactId, m.order], upper: [m.contactId, m.order] }),
      ]);
      const copies = [...(entry ? [entry] : []), ...sameSeq.filter((e) => e.envelopeId !== m.envelopeId && e.messageId === m.id)];
      const failed = copies.filter((e) => e.state === 'failed');
      if (!failed.length) {
        // A failed message none of whose copies is left cannot go again; one still on its
        // way is queued again; anything else has nothing left to retry (a repeated retry).
        // A row still naming copies given up on that are gone (dropped for an unlinked
        // device, replaced by a cover) names them no more: its Retry would do nothing.
        if (m.status !== 'failed') {
          if (m.failedDevices?.length || m.failedAccountCopy) await messages.put({ ...withoutFailedCopies(m), updatedAt: now });
          return 0;
        }
        if (!copies.length) throw new RecordNotFoundError('outbox', m.envelopeId);
        await messages.put({ ...withoutFailure(m), status: 'queued', updatedAt: now });
        return 0;
      }
      const row = withoutFailedCopies(m.status === 'failed' ? { ...withoutFailure(m), status: 'queued' } : m);
      await Promise.all([
        messages.put({ ...row, updatedAt: now }),
        // A new budget: attempts and age both count again from now (createdAt stays the compose time).
        ...failed.map((e) => outbox.put({ ...e, state: e.envelope ? 'ready' : 'pending_session', attempts: 0, nextAttemptAt: now, firstAttemptAt: now })),
      ]);
      return failed.length;
    });
  }

  queueDepth(): Promise<number> {
    return this.tx(['outbox'], 'readonly', async (tx) => {
      const t = tx.table('outbox');
      const [ready, pending] = await Promise.all([
        t.count({ index: 'byStateDue', lower: ['ready', -Infinity], upper: ['ready', Infinity] }),
        t.count({ index: 'byStateDue', lower: ['pending_session', -Infinity], upper: ['pending_session', Infinity] }),
      ]);
      return ready + pending;
    });
  }

  // ---- receive

  async commitIncoming(commit: IncomingCommit): Promise<IncomingResult> {
    checkIncoming('commit', commit);
    const { results } = await this.tx(INCOMING_STORES, 'readwrite', (tx) => applyIncoming(tx, [commit]));
    return results[0]!;
  }

  async commitIncomingBatch(commits: readonly IncomingCommit[]): Promise<IncomingBatchCommitted> {
    checkIncomingBatch(commits);
    if (commits.length === 0) return { results: [], heads: [] };
    // Optimistic first (inserts without reading each key). A taken key, or a session version
    // that does not match (a replayed batch carries an old one), rolls it back and the batch
    // runs again reading every key: duplicates and real conflicts are reported as before.
    try {
      return await this.tx(INCOMING_STORES, 'readwrite', (tx) => applyIncoming(tx, commits, true));
    } catch (e) {
      const retry = e instanceof ConcurrentModificationError || (e instanceof StoreError && e.cause instanceof IncomingInsertConflict);
      if (!retry) throw e;
      return this.tx(INCOMING_STORES, 'readwrite', (tx) => applyIncoming(tx, commits, false));
    }
  }

  async processedEnvelopes(envelopeIds: readonly string[]): Promise<ReadonlySet<string>> {
    checkArray<string>('envelopeIds', envelopeIds, COMMIT_LIST_MAX).forEach((id, i) => checkId128(`envelopeIds[${i}]`, id));
    const found = await this.tx(['dedup'], 'readonly', (tx) => {
      const t = tx.table('dedup');
      return Promise.all(envelopeIds.map((id) => t.get(id)));
    });
    return new Set(found.filter((d) => d !== undefined).map((d) => d.envelopeId));
  }

  async pruneDedup(now: number): Promise<number> {
    checkTime('now', now);
    return this.tx(['dedup'], 'readwrite', async (tx) => {
      const t = tx.table('dedup');
      const retention = this.options.dedupRetentionMs ?? DEDUP_RETENTION_MS;
      const maxEntries = this.options.dedupMaxEntries ?? DEDUP_MAX_ENTRIES;
      const expired = await t.query({ index: 'byAt', upper: now - retention, upperOpen: true });
      await Promise.all(expired.map((d) => t.delete(d.envelopeId)));
      const remaining = await t.count();
      const excess = Math.max(0, remaining - maxEntries);
      const oldest = excess > 0 ? await t.query({ index: 'byAt', limit: excess }) : [];
      await Promise.all(oldest.map((d) => t.delete(d.envelopeId)));
      return expired.length + oldest.length;
    });
  }

  async resendable(envelopeIds: readonly string[]): Promise<ResendableRecord[]> {
    checkArray<string>('envelopeIds', envelopeIds, COMMIT_LIST_MAX).forEach((id, i) => checkId128(`envelopeIds[${i}]`, id));
    const found = await this.tx(['resendable'], 'readonly', async (tx) => {
      const t = tx.table('resendable');
      return Promise.all(envelopeIds.map((id) => t.get(id)));
    });
    return found.filter((r) => r !== undefined);
  }

  async pruneResendable(now: number): Promise<number> {
    checkTime('now', now);
    return this.tx(['resendable'], 'readwrite', async (tx) => {
      const t = tx.table('resendable');
      const expired = await t.query({ index: 'byAt', upper: now - RESEND_RETENTION_MS, upperOpen: true });
      await Promise.all(expired.map((r) => t.delete(r.envelopeId)));
      const excess = Math.max(0, (await t.count()) - RESENDABLE_MAX);
      const oldest = excess > 0 ? await t.query({ index: 'byAt', limit: excess }) : [];
      await Promise.all(oldest.map((r) => t.delete(r.envelopeId)));
      return expired.length + oldest.length;
    });
  }

  // ---- conversations and messages

  async listConversations(): Promise<ConversationRecord[]> {
    return this.tx(['conversations'], 'readonly', (tx) => tx.table('conversations').query({ index: 'byActivity', direction: 'prev' }));
  }

  async getConversation(contactId: string): Promise<ConversationRecord | undefined> {
    checkContactId('contactId', contactId);
    return this.tx(['conversations'], 'readonly', (tx) => tx.table('conversations').get(contactId));
  }

  async getMessage(id: string): Promise<MessageRecord | undefined> {
    checkId128('id', id);
    return this.tx(['messages'], 'readonly', (tx) => tx.table('messages').get(id));
  }

  async pageMessages(contactId: string, options: { readonly before?: number; readonly limit: number }): Promise<MessagePage> {
    checkContactId('contactId', contactId);
    checkObject('options', options);
    if (options.before !== undefined) checkCount('before', options.before, Number.MAX_SAFE_INTEGER);
    const limit = checkCount('limit', options.limit, MESSAGE_PAGE_MAX);
    const rows = await this.tx(['messages'], 'readonly', (tx) =>
      tx.table('messages').query({
        index: 'byConversation',
        lower: [contactId, -Infinity],
        upper: [contactId, options.before ?? Infinity],
        upperOpen: true,
        direction: 'prev',
        limit: limit + 1,
      }),
    );
    const hasOlder = rows.length > limit;
    const page = rows.slice(0, limit).reverse();
    return hasOlder && page.length > 0 ? { messages: page, olderCursor: page[0]!.order } : { messages: page };
  }

  async deleteMessageLocally(messageId: string): Promise<boolean> {
    checkId128('messageId', messageId);
    return this.tx(['messages', 'conversations'], 'readwrite', (tx) => applyLocalDelete(tx, messageId));
  }

  async unreadIncoming(contactId: string): Promise<string[]> {
    checkContactId('contactId', contactId);
    return this.tx(['conversations', 'messages'], 'readonly', async (tx) => {
      const conv = await tx.table('conversations').get(contactId);
      if (!conv || conv.unread === 0) return [];
      // Incoming messages are read in order, so the unread ones are the newest incoming
      // rows: walk back from the newest until `unread` of them are found (or a read one).
      const messages = tx.table('messages');
      const unread: string[] = [];
      let before = Infinity;
      scan: for (;;) {
        const rows = await messages.query({ index: 'byConversation', lower: [contactId, -Infinity], upper: [contactId, before], upperOpen: true, direction: 'prev', limit: MESSAGE_PAGE_MAX });
        for (const m of rows) {
          if (m.direction !== 'in') continue;
          if (m.status === 'read') break scan;
          unread.push(m.id);
          if (unread.length >= conv.unread) break scan;
        }
        if (rows.length < MESSAGE_PAGE_MAX) break;
        before = rows[rows.length - 1]!.order;
      }
      return unread.reverse();
    });
  }

  async commitRead(commit: ReadCommit): Promise<string[]> {
    checkObject('commit', commit);
    checkContactId('contactId', commit.contactId);
    checkTime('at', commit.at);
    checkArray<string>('messageIds', commit.messageIds, COMMIT_LIST_MAX).forEach((id, i) => checkId128(`messageIds[${i}]`, id));
    // The receipt to a single-device contact, or one per device of a multi-device contact.
    const receipts = [...(commit.receipt ? [commit.receipt] : []), ...(commit.deviceReceipts ?? [])];
    checkArray('deviceReceipts', commit.deviceReceipts ?? [], 32);
    receipts.forEach((receipt, r) => {
      checkObject(`receipt[${r}]`, receipt);
      checkSessionUpdate(`receipt[${r}].sessionUpdate`, receipt.sessionUpdate);
      // A read mark to our own other devices names our account instead of the contact.
      const owner = commit.ownAccount !== undefined && contactOfSessionKey(receipt.sessionUpdate.contactId) === checkContactId('ownAccount', commit.ownAccount) ? commit.ownAccount : commit.contactId;
      checkSameContact(`receipt[${r}].sessionUpdate.contactId`, contactOfSessionKey(receipt.sessionUpdate.contactId), owner);
      checkArray<NewOutboxEntry>(`receipt[${r}].outboxEntries`, receipt.outboxEntries, COMMIT_LIST_MAX).forEach((e, i) => {
        checkOutboxEntry(`receipt[${r}].outboxEntries[${i}]`, e);
        checkSameContact(`receipt[${r}].outboxEntries[${i}].contactId`, e.contactId, owner);
      });
    });
    const entries = receipts.flatMap((r) => r.outboxEntries);
    const stores = receipts.length ? OUTGOING_STORES : (['conversations', 'messages'] as const);
    const now = this.options.now();
    return this.tx(stores, 'readwrite', async (tx) => {
      const messages = tx.table('messages');
      const conversations = tx.table('conversations');
      const [conv, rows, sessions, existing, protocolSeqs] = await Promise.all([
        conversations.get(commit.contactId),
        Promise.all(commit.messageIds.map((id) => messages.get(id))),
        Promise.all(receipts.map((r) => tx.table('sessions').get(r.sessionUpdate.contactId))),
        Promise.all(entries.map((e) => tx.table('outbox').get(e.envelopeId))),
        ProtocolSeqs.read(tx.table('outbox'), entries.map((e) => e.contactId)),
      ]);
      if (existing.some((e) => e !== undefined)) throw new InvalidStoreInputError('receipt.outboxEntries', 'an outbox entry with this id exists');
      // Every check before the first write (a write issued and then abandoned by a throw
      // would fail unobserved when the transaction aborts).
      const nextSessionRecords = receipts.map((r, i) => nextSession(sessions[i], r.sessionUpdate, now));
      const newlyRead = rows.filter((m): m is MessageRecord => m !== undefined && m.contactId === commit.contactId && m.direction === 'in' && m.status !== 'read');
      const writes: Promise<void>[] = newlyRead.map((m) => messages.put({ ...m, status: 'read', updatedAt: commit.at }));
      if (conv && newlyRead.length) writes.push(conversations.put({ ...conv, unread: Math.max(0, conv.unread - newlyRead.length) }));
      for (const next of nextSessionRecords) writes.push(tx.table('sessions').put(next));
      // Read marks are protocol entries: behind the contact's queued ones (protocol-seq.ts).
      for (const e of entries) writes.push(tx.table('outbox').put(protocolSeqs.record(e, now)));
      await Promise.all(writes);
      return newlyRead.map((m) => m.id);
    });
  }

  // ---- metrics and meta

  async loadCounters(): Promise<Record<string, number>> {
    const rows = await this.tx(['metrics'], 'readonly', (tx) => tx.table('metrics').query());
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  async saveCounters(counters: Readonly<Record<string, number>>): Promise<void> {
    checkObject('counters', counters);
    const rows = Object.entries(counters);
    for (const [k, v] of rows) if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidStoreInputError(`counters.${k}`, 'expected a number');
    await this.tx(['metrics'], 'readwrite', async (tx) => {
      const t = tx.table('metrics');
      await Promise.all(rows.map(([key, value]) => t.put({ key, value })));
    });
  }

  async getMeta(key: string): Promise<MetaValue | undefined> {
    if (typeof key !== 'string') throw new InvalidStoreInputError('key', 'expected text');
    const row = await this.tx(['meta'], 'readonly', (tx) => tx.table('meta').get(key));
    return row?.value;
  }

  async setMeta(key: string, value: MetaValue): Promise<void> {
    if (typeof key !== 'string') throw new InvalidStoreInputError('key', 'expected text');
    const ok = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Uint8Array;
    if (!ok) throw new InvalidStoreInputError('value', 'expected text, a number, a boolean or bytes');
    await this.tx(['meta'], 'readwrite', (tx) => tx.table('meta').put({ key, value }));
  }

  async deleteMeta(key: string): Promise<void> {
    if (typeof key !== 'string') throw new InvalidStoreInputError('key', 'expected text');
    await this.tx(['meta'], 'readwrite', (tx) => tx.table('meta').delete(key));
  }

  async groupInbox(): Promise<GroupInboxRow[]> {
    const rows = await this.tx(['meta'], 'readonly', (tx) => tx.table('meta').query({ lower: GROUP_INBOX_PREFIX, upper: GROUP_INBOX_END, upperOpen: true }));
    const out: GroupInboxRow[] = [];
    for (const r of rows) {
      const sessionKey = sessionKeyOfInboxKey(r.key);
      if (sessionKey !== undefined && r.value instanceof Uint8Array) out.push({ key: r.key, sessionKey, frame: r.value });
    }
    return out;
  }

  close(): void {
    this.backend.close();
  }
}

/** A job a session start turns `ready`: `pending_session`, or parked (a group frame whose start was given up, OutboxRecord.keep). */
function awaitsSession(e: OutboxRecord): boolean {
  return e.state === 'pending_session' || (e.state === 'failed' && e.keep === true && e.plaintext !== undefined);
}
