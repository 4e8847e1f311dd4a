/** Validation of the composite commit inputs (all before any transaction starts). */
import { InvalidStoreInputError } from './errors.ts';
import { checkGroupInboxFrame, type NewGroupInboxFrame } from './group-inbox.ts';
import { COMMIT_LIST_MAX, INCOMING_BATCH_MAX, LOCAL_NAME_MAX_CHARS } from './limits.ts';
import { ME, type MessageAction } from './message-actions.ts';
import type { AttachmentRef, ContactRecord, Quote, ResendableRecord } from './records.ts';
import type { IncomingCommit, NewOutboxEntry, NewOutgoingMessage, RepairJob, SessionUpdate } from './store-api.ts';
import { checkDeviceHex, checkSessionKey, contactOfSessionKey, deviceOfSessionKey } from './session-key.ts';
import { checkArray, checkBody, checkBytes, checkContactId, checkCount, checkId128, checkObject, checkOneOf, checkTime, checkVersion } from './validate.ts';

const HEX = /^[0-9a-f]+$/;
/** The largest file a `file` content may describe (100 MiB, as the wire limit). */
const ATTACHMENT_SIZE_MAX = 100 * 1024 * 1024;

export function checkAttachment(field: string, a: AttachmentRef): void {
  if (typeof a !== 'object' || a === null) throw new InvalidStoreInputError(field, 'expected an object');
  if (typeof a.blobId !== 'string' || a.blobId.length === 0 || a.blobId.length % 2 !== 0 || !HEX.test(a.blobId)) throw new InvalidStoreInputError(`${field}.blobId`, 'expected lower-case hex');
  checkBytes(`${field}.key`, a.key, 32);
  checkBytes(`${field}.digest`, a.digest, 32);
  checkCount(`${field}.size`, a.size, ATTACHMENT_SIZE_MAX);
  checkBody(`${field}.mime`, a.mime);
  checkBody(`${field}.name`, a.name);
  if (a.preview !== undefined) checkBytes(`${field}.preview`, a.preview);
}

const MAILBOX_BYTES = 32;
const IDENTITY_KEY_BYTES = 32;

/** Every part of one commit concerns one contact: a mismatch is a caller bug, refused before anything is written. */
export function checkSameContact(field: string, actual: string, expected: string | undefined): void {
  if (expected !== undefined && actual !== expected) throw new InvalidStoreInputError(field, 'belongs to another contact than the rest of the commit');
}

export function checkSessionUpdate(field: string, u: SessionUpdate): void {
  if (typeof u !== 'object' || u === null) throw new InvalidStoreInputError(field, 'expected an object');
  checkSessionKey(`${field}.contactId`, u.contactId);
  checkVersion(`${field}.expectedVersion`, u.expectedVersion);
  checkBytes(`${field}.state`, u.state);
}

export function checkOutgoingMessage(field: string, m: NewOutgoingMessage): void {
  if (typeof m !== 'object' || m === null) throw new InvalidStoreInputError(field, 'expected an object');
  checkId128(`${field}.id`, m.id);
  checkContactId(`${field}.contactId`, m.contactId);
  checkBody(`${field}.body`, m.body);
  checkTime(`${field}.sentAt`, m.sentAt);
  if (m.attachment !== undefined) checkAttachment(`${field}.attachment`, m.attachment);
  if (m.quote !== undefined) checkQuote(`${field}.quote`, m.quote);
}

export function checkQuote(field: string, q: Quote): void {
  if (typeof q !== 'object' || q === null) throw new InvalidStoreInputError(field, 'expected an object');
  checkId128(`${field}.id`, q.id);
  checkBody(`${field}.text`, q.text);
}

/** An action's shape; `by` must be 'me' (ours) or `from` (the sender's). Its rules are judged in the transaction. */
export function checkAction(field: string, a: MessageAction, by: string | undefined): void {
  if (typeof a !== 'object' || a === null) throw new InvalidStoreInputError(field, 'expected an object');
  checkOneOf(`${field}.kind`, a.kind, ['edit', 'delete', 'react'] as const);
  checkId128(`${field}.id`, a.id);
  checkId128(`${field}.target`, a.target);
  if (a.by !== (by ?? ME)) throw new InvalidStoreInputError(`${field}.by`, 'is not the author of the commit');
  checkTime(`${field}.at`, a.at);
  if (a.kind === 'edit') checkBody(`${field}.text`, a.text);
  if (a.kind === 'react') checkBody(`${field}.emoji`, a.emoji);
}

export function checkOutboxEntry(field: string, e: NewOutboxEntry): void {
  if (typeof e !== 'object' || e === null) throw new InvalidStoreInputError(field, 'expected an object');
  checkId128(`${field}.envelopeId`, e.envelopeId);
  checkContactId(`${field}.contactId`, e.contactId);
  if (e.device !== undefined) checkDeviceHex(`${field}.device`, e.device);
  checkBytes(`${field}.mailbox`, e.mailbox, MAILBOX_BYTES);
  checkBytes(`${field}.envelope`, e.envelope);
  if (e.listVersion !== undefined) checkListVersion(`${field}.listVersion`, e.listVersion);
}

/** A device-list version (uint32, as on the wire). */
export function checkListVersion(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff_ffff) throw new InvalidStoreInputError(field, 'expected a device-list version (uint32)');
  return v;
}

export function checkContact(field: string, c: ContactRecord): void {
  if (typeof c !== 'object' || c === null) throw new InvalidStoreInputError(field, 'expected an object');
  checkContactId(`${field}.id`, c.id);
  if (typeof c.displayName !== 'string') throw new InvalidStoreInputError(`${field}.displayName`, 'expected text');
  checkBytes(`${field}.identityKey`, c.identityKey, IDENTITY_KEY_BYTES);
  checkOneOf(`${field}.verification`, c.verification, ['unverified', 'verified'] as const);
  checkTime(`${field}.addedAt`, c.addedAt);
  if (c.keyChange !== undefined) {
    checkBytes(`${field}.keyChange.previousIdentityKey`, c.keyChange.previousIdentityKey, IDENTITY_KEY_BYTES);
    checkTime(`${field}.keyChange.detectedAt`, c.keyChange.detectedAt);
    if (typeof c.keyChange.acknowledged !== 'boolean') throw new InvalidStoreInputError(`${field}.keyChange.acknowledged`, 'expected a boolean');
  }
  if (c.possibleKeyChangeOf !== undefined) {
    const p = c.possibleKeyChangeOf;
    if (typeof p !== 'object' || p === null) throw new InvalidStoreInputError(`${field}.possibleKeyChangeOf`, 'expected an object');
    checkContactId(`${field}.possibleKeyChangeOf.contactId`, p.contactId);
    if (p.contactId === c.id) throw new InvalidStoreInputError(`${field}.possibleKeyChangeOf.contactId`, 'names the contact itself');
    checkTime(`${field}.possibleKeyChangeOf.detectedAt`, p.detectedAt);
    if (typeof p.acknowledged !== 'boolean') throw new InvalidStoreInputError(`${field}.possibleKeyChangeOf.acknowledged`, 'expected a boolean');
  }
  if (c.localName !== undefined) checkLocalName(`${field}.localName`, c.localName);
  if (c.blocked !== undefined && typeof c.blocked !== 'boolean') throw new InvalidStoreInputError(`${field}.blocked`, 'expected a boolean');
  if (c.listing !== undefined) checkOneOf(`${field}.listing`, c.listing, ['request', 'removed'] as const);
}

/** A local name: trimmed, non-empty text of at most LOCAL_NAME_MAX_CHARS characters. */
export function checkLocalName(field: string, v: unknown): string {
  if (typeof v !== 'string' || v.trim() !== v || v.length === 0 || [...v].length > LOCAL_NAME_MAX_CHARS) {
    throw new InvalidStoreInputError(field, `expected trimmed text of 1 to ${LOCAL_NAME_MAX_CHARS} characters`);
  }
  return v;
}

export function checkIncoming(field: string, c: IncomingCommit): void {
  if (typeof c !== 'object' || c === null) throw new InvalidStoreInputError(field, 'expected an object');
  checkId128(`${field}.envelopeId`, c.envelopeId);
  // The commit's contact: `from` when given, else the session's or the message's (which must agree).
  const from = c.from !== undefined ? checkContactId(`${field}.from`, c.from) : (c.sessionUpdate?.contactId !== undefined ? contactOfSessionKey(c.sessionUpdate.contactId) : (c.message?.contactId ?? c.contactUpdate?.id));
  checkTime(`${field}.receivedAt`, c.receivedAt);
  if (c.sessionUpdate !== undefined) {
    checkSessionUpdate(`${field}.sessionUpdate`, c.sessionUpdate);
    checkSameContact(`${field}.sessionUpdate.contactId`, contactOfSessionKey(c.sessionUpdate.contactId), from);
  }
  if (c.message !== undefined) {
    checkOutgoingMessage(`${field}.message`, c.message);
    checkSameContact(`${field}.message.contactId`, c.message.contactId, from);
    if (c.message.via !== undefined) checkOneOf(`${field}.message.via`, c.message.via, ['relay', 'direct'] as const);
  }
  if (c.statusUpdates !== undefined) {
    checkArray(`${field}.statusUpdates`, c.statusUpdates, COMMIT_LIST_MAX).forEach((u, i) => {
      const s = u as { messageId: unknown; status: unknown; device?: unknown };
      checkId128(`${field}.statusUpdates[${i}].messageId`, s.messageId);
      checkOneOf(`${field}.statusUpdates[${i}].status`, s.status, ['sent', 'delivered', 'read'] as const);
      if (s.device !== undefined) checkDeviceHex(`${field}.statusUpdates[${i}].device`, s.device);
    });
  }
  if (c.preKeyPool !== undefined) checkBytes(`${field}.preKeyPool`, c.preKeyPool);
  if (c.contactUpdate !== undefined) {
    checkContact(`${field}.contactUpdate`, c.contactUpdate);
    checkSameContact(`${field}.contactUpdate.id`, c.contactUpdate.id, from);
  }
  if (c.outboxEntries !== undefined) {
    checkArray<NewOutboxEntry>(`${field}.outboxEntries`, c.outboxEntries, COMMIT_LIST_MAX).forEach((e, i) => {
      checkOutboxEntry(`${field}.outboxEntries[${i}]`, e);
      checkSameContact(`${field}.outboxEntries[${i}].contactId`, e.contactId, from);
    });
  }
  if (c.siblingReceipts !== undefined) {
    if (from === undefined) throw new InvalidStoreInputError(`${field}.siblingReceipts`, 'sibling receipts need their sender');
    checkArray<{ sessionUpdate: SessionUpdate; outboxEntries: readonly NewOutboxEntry[] }>(`${field}.siblingReceipts`, c.siblingReceipts, COMMIT_LIST_MAX).forEach((r, i) => {
      checkObject(`${field}.siblingReceipts[${i}]`, r);
      checkSessionUpdate(`${field}.siblingReceipts[${i}].sessionUpdate`, r.sessionUpdate);
      const device = deviceOfSessionKey(r.sessionUpdate.contactId);
      if (device === undefined) throw new InvalidStoreInputError(`${field}.siblingReceipts[${i}].sessionUpdate.contactId`, 'is not a device session');
      checkSameContact(`${field}.siblingReceipts[${i}].sessionUpdate.contactId`, contactOfSessionKey(r.sessionUpdate.contactId), from);
      if (c.sessionUpdate?.contactId === r.sessionUpdate.contactId || c.siblingReceipts!.some((o, j) => j < i && o.sessionUpdate.contactId === r.sessionUpdate.contactId)) {
        throw new InvalidStoreInputError(`${field}.siblingReceipts[${i}].sessionUpdate.contactId`, 'a session updated twice in one commit');
      }
      checkArray<NewOutboxEntry>(`${field}.siblingReceipts[${i}].outboxEntries`, r.outboxEntries, COMMIT_LIST_MAX).forEach((e, j) => {
        checkOutboxEntry(`${field}.siblingReceipts[${i}].outboxEntries[${j}]`, e);
        checkSameContact(`${field}.siblingReceipts[${i}].outboxEntries[${j}].contactId`, e.contactId, from);
        if (e.device !== device) throw new InvalidStoreInputError(`${field}.siblingReceipts[${i}].outboxEntries[${j}].device`, 'is not the device of the session');
      });
    });
  }
  if (c.repairJobs !== undefined) {
    checkArray<RepairJob>(`${field}.repairJobs`, c.repairJobs, COMMIT_LIST_MAX).forEach((j, i) => {
      checkObject(`${field}.repairJobs[${i}]`, j);
      checkId128(`${field}.repairJobs[${i}].envelopeId`, j.envelopeId);
      checkSameContact(`${field}.repairJobs[${i}].contactId`, checkContactId(`${field}.repairJobs[${i}].contactId`, j.contactId), from);
      if (j.device !== undefined) checkDeviceHex(`${field}.repairJobs[${i}].device`, j.device);
      checkBytes(`${field}.repairJobs[${i}].mailbox`, j.mailbox, 32);
      checkBytes(`${field}.repairJobs[${i}].plaintext`, j.plaintext);
    });
  }
  if (c.resent !== undefined) {
    checkArray<{ from: string; record: ResendableRecord }>(`${field}.resent`, c.resent, COMMIT_LIST_MAX).forEach((r, i) => {
      checkObject(`${field}.resent[${i}]`, r);
      checkId128(`${field}.resent[${i}].from`, r.from);
      checkObject(`${field}.resent[${i}].record`, r.record);
      checkId128(`${field}.resent[${i}].record.envelopeId`, r.record.envelopeId);
      checkId128(`${field}.resent[${i}].record.messageId`, r.record.messageId);
      checkSameContact(`${field}.resent[${i}].record.contactId`, checkContactId(`${field}.resent[${i}].record.contactId`, r.record.contactId), from);
      if (r.record.device !== undefined) checkDeviceHex(`${field}.resent[${i}].record.device`, r.record.device);
      checkBytes(`${field}.resent[${i}].record.plaintext`, r.record.plaintext);
      checkTime(`${field}.resent[${i}].record.at`, r.record.at);
      checkCount(`${field}.resent[${i}].record.resends`, r.record.resends, 1_000);
    });
  }
  if (c.transcript !== undefined) {
    if (from === undefined) throw new InvalidStoreInputError(`${field}.transcript`, 'a transcript needs its sender');
    if (c.message !== undefined) throw new InvalidStoreInputError(`${field}.transcript`, 'a commit carries a message or a transcript, not both');
    checkOutgoingMessage(`${field}.transcript`, c.transcript);
  }
  if (c.groupFrames !== undefined) {
    if (from === undefined) throw new InvalidStoreInputError(`${field}.groupFrames`, 'needs its sender');
    checkArray<NewGroupInboxFrame>(`${field}.groupFrames`, c.groupFrames, COMMIT_LIST_MAX).forEach((f, i) => checkGroupInboxFrame(`${field}.groupFrames[${i}]`, f));
  }
  if (c.ownDisplayName !== undefined) {
    if (from === undefined) throw new InvalidStoreInputError(`${field}.ownDisplayName`, 'needs its sender');
    if (typeof c.ownDisplayName !== 'string' || c.ownDisplayName.trim() === '') throw new InvalidStoreInputError(`${field}.ownDisplayName`, 'expected non-empty text');
  }
  if (c.readElsewhere !== undefined) {
    if (from === undefined) throw new InvalidStoreInputError(`${field}.readElsewhere`, 'needs its sender');
    checkContactId(`${field}.readElsewhere.contactId`, c.readElsewhere.contactId);
    checkArray<string>(`${field}.readElsewhere.messageIds`, c.readElsewhere.messageIds, COMMIT_LIST_MAX).forEach((id, i) => checkId128(`${field}.readElsewhere.messageIds[${i}]`, id));
  }
  if (c.action !== undefined) {
    if (from === undefined) throw new InvalidStoreInputError(`${field}.action`, 'an action needs its sender');
    if (c.ownActionIn !== undefined) checkContactId(`${field}.ownActionIn`, c.ownActionIn);
    checkAction(`${field}.action`, c.action, c.ownActionIn !== undefined ? ME : from);
  } else if (c.ownActionIn !== undefined) throw new InvalidStoreInputError(`${field}.ownActionIn`, 'needs an action');
}

export function checkIncomingBatch(commits: readonly IncomingCommit[]): void {
  checkArray('commits', commits, INCOMING_BATCH_MAX).forEach((c, i) => checkIncoming(`commits[${i}]`, c as IncomingCommit));
}
