/**
 * What the messaging core may ask of durable storage. Every method is ONE transaction:
 * it commits all of its writes or none (rejecting with a `StoreError`). Callers do all
 * crypto first and pass finished values in — nothing here awaits anything but storage.
 *
 * Exactly-once rules the messenger follows:
 * - Send: encrypt once, then `commitOutgoing` (message row + advanced ratchet + outbox
 *   entry). Transports resend the stored envelope bytes; `markSent` on the relay's ack.
 * - Receive: decrypt, then `commitIncoming`; ack the envelope to the relay or peer only
 *   AFTER it resolves (`committed` or `duplicate`). A crash before the commit means
 *   the envelope is redelivered and decrypted again from the unchanged session.
 */
import type { ImportedMessage } from './history-import.ts';
import type { SystemLine } from './system-line.ts';
import type { CopyCoverCommit } from './copy-cover-commit.ts';
import type { DeviceCoverCommit, DeviceCoverResult } from './device-cover-commit.ts';
import type { GroupInboxRow, NewGroupInboxFrame } from './group-inbox.ts';
import type { MessageStatus } from './message-status.ts';
import type {
  ContactRecord,
  ConversationRecord,
  IdentityRecord,
  AttachmentRef,
  MessageRecord,
  MetaValue,
  Quote,
  OutboxRecord,
  ResendableRecord,
  SessionRecord,
  VerificationState,
  Via,
} from './records.ts';
import type { MessageAction } from './message-actions.ts';
import type { StorageHealthView } from './storage-health.ts';
import type { GroupStore } from './group-store.ts';
import type { ContactChange, DeletedConversation } from './contact-changes.ts';

export type { ContactChange, DeletedConversation } from './contact-changes.ts';

/** The ratchet state after an operation, checked against the version the caller started from. */
export interface SessionUpdate {
  /** The session key (session-key.ts): the contact id, or the contact id and one of its devices. */
  readonly contactId: string;
  /** The version read before encrypting/decrypting; null when creating the session. */
  readonly expectedVersion: number | null;
  /** The crypto core's serialised state after the operation. */
  readonly state: Uint8Array;
}

export interface NewOutgoingMessage {
  readonly id: string;
  readonly contactId: string;
  readonly body: string;
  readonly sentAt: number;
  /** A file sent with the message (already uploaded; `body` is its caption). */
  readonly attachment?: AttachmentRef;
  readonly quote?: Quote;
}

export interface NewOutboxEntry {
  readonly envelopeId: string;
  readonly contactId: string;
  /** The contact's device (hex) this copy is for; absent: the contact's account mailbox (a single-device contact). */
  readonly device?: string;
  readonly mailbox: Uint8Array;
  /** The encoded envelope (sent byte-identical on every attempt). */
  readonly envelope: Uint8Array;
  /** The contact's device-list version this copy was fanned out under (OutboxRecord.listVersion). */
  readonly listVersion?: number;
}

export interface OutgoingCommit {
  readonly sessionUpdate: SessionUpdate;
  /** Absent for protocol messages without a row of their own (receipts, signaling). */
  readonly message?: NewOutgoingMessage;
  /**
   * Our edit, delete or reaction, applied to its target row in the same transaction
   * (`by` is 'me'); refused by the rules of message-actions.ts with InvalidStoreInputError.
   * Its outbox entry goes after every message already queued to the contact.
   */
  readonly action?: MessageAction;
  readonly outboxEntry: NewOutboxEntry;
  /**
   * The encoded content of the message (or of the action), kept for resend on a retry
   * request (PROTOCOL.md §12.8) in the same transaction. Ignored for a protocol message.
   */
  readonly retain?: Uint8Array;
}

/** What `commitOutgoing` committed. */
export interface OutgoingCommitted {
  readonly sessionVersion: number;
  /**
   * The outbox entry of a new message, when it is its contact's head of line (nothing else
   * of the contact was still to send when it committed): the outbox may hand it to a
   * transport at once instead of reading its queues again (OutboxWorker.offer). Absent for
   * actions and protocol messages, and whenever that is not certain.
   */
  readonly head?: OutboxRecord;
}

export interface ReadCommit {
  readonly contactId: string;
  /** Our own account's id (hex IK), when `deviceReceipts` include read marks to our own other devices. */
  readonly ownAccount?: string;
  readonly at: number;
  readonly messageIds: readonly string[];
  /** The encrypted read receipt(s) for `messageIds`; absent when there is no session to send it with. */
  readonly receipt?: { readonly sessionUpdate: SessionUpdate; readonly outboxEntries: readonly NewOutboxEntry[] };
  /** The read receipts to each device of a multi-device contact (one per device session), committed with the rows. */
  readonly deviceReceipts?: readonly { readonly sessionUpdate: SessionUpdate; readonly outboxEntries: readonly NewOutboxEntry[] }[];
}

export interface PendingOutgoingCommit {
  /** The message the job carries; absent for an action's job (then `action` is given). */
  readonly message?: NewOutgoingMessage;
  /** Our edit, delete or reaction, applied to its target row now; its job waits for the session. */
  readonly action?: MessageAction;
  /** `listVersion`: as on a fanned-out copy (OutboxRecord.listVersion); 0 for an action's copy to the account mailbox of a contact without a list. */
  readonly job: { readonly envelopeId: string; readonly mailbox: Uint8Array; readonly plaintext: Uint8Array; readonly listVersion?: number };
}

/**
 * One message fanned out to several targets (docs/PROTOCOL.md §13.5): the message row, every
 * advanced session, one ready outbox entry per target with a session and one pending job
 * per target still without one, all in ONE transaction. Every entry carries the message.
 */
export interface FanOutCommit {
  readonly message: NewOutgoingMessage;
  /**
   * Our own account's id (hex IK): session updates and ready/pending copies for our other
   * devices ("sent transcripts") name it instead of the contact. Those copies carry no
   * message id (they never move the message's status) and queue under our account.
   */
  readonly ownAccount?: string;
  readonly sessionUpdates: readonly SessionUpdate[];
  readonly ready: readonly NewOutboxEntry[];
  /** `own`: a copy for one of our own devices (queued under `ownAccount`). */
  readonly pending: readonly { readonly envelopeId: string; readonly device?: string; readonly own?: true; readonly mailbox: Uint8Array; readonly plaintext: Uint8Array; readonly listVersion?: number }[];
  /** The content of the copies to the contact, kept per copy for resend (§12.8). */
  readonly retain?: Uint8Array;
  /** The transcript our own devices' copies carry, kept per copy for resend (§12.8). */
  readonly retainOwn?: Uint8Array;
}

/** Our edit, delete or reaction to a contact with linked devices: one copy per device, with the target row's change (fan-out-action-commit.ts). */
export interface FanOutActionCommit {
  readonly contactId: string;
  readonly action: MessageAction;
  /** Our own account's id (hex IK), when copies go to our other devices (action transcripts), as in `FanOutCommit`. */
  readonly ownAccount?: string;
  readonly sessionUpdates: readonly SessionUpdate[];
  readonly ready: readonly NewOutboxEntry[];
  /** `own`: a copy for one of our own devices (queued under `ownAccount`). */
  readonly pending: readonly { readonly envelopeId: string; readonly device?: string; readonly own?: true; readonly mailbox: Uint8Array; readonly plaintext: Uint8Array; readonly listVersion?: number }[];
  /** The action's content, kept per copy to the contact for resend (§12.8). */
  readonly retain?: Uint8Array;
  /** The action transcript our own devices' copies carry, kept per copy for resend (§12.8). */
  readonly retainOwn?: Uint8Array;
}

/** A new session with a contact plus its pending jobs, now encrypted (in compose order). */
export interface SessionStartCommit {
  readonly sessionUpdate: SessionUpdate;
  readonly encrypted: readonly { readonly envelopeId: string; readonly envelope: Uint8Array }[];
}

export interface NewIncomingMessage {
  readonly id: string;
  readonly contactId: string;
  readonly body: string;
  readonly sentAt: number;
  readonly via?: Via;
  readonly attachment?: AttachmentRef;
  readonly quote?: Quote;
}

export interface StatusUpdate {
  readonly messageId: string;
  readonly status: Exclude<MessageStatus, 'queued' | 'failed'>;
  /**
   * The contact's device (32 hex) the receipt came from, when the contact has several:
   * kept on the row per device (`MessageRecord.deviceReceipts`, device-receipts.ts).
   */
  readonly device?: string;
}

export interface IncomingCommit {
  /** Hex of the envelope id: the dedup key. */
  readonly envelopeId: string;
  /**
   * The sender (contact id) as the decrypted envelope proved it. When given, every part of
   * the commit must concern this contact and receipts only move messages sent to it —
   * pass it for every decrypted envelope. Absent only for an envelope recorded as
   * processed without a readable sender (undecryptable: marked so it is not retried).
   */
  readonly from?: string;
  readonly receivedAt: number;
  readonly sessionUpdate?: SessionUpdate;
  readonly message?: NewIncomingMessage;
  /** Receipts: forward-only status moves of our outgoing messages to the sender (others are ignored). */
  readonly statusUpdates?: readonly StatusUpdate[];
  /** The crypto core's prekey pool without the consumed one-time keys. */
  readonly preKeyPool?: Uint8Array;
  /** A new contact (first message) or a changed one (key change recorded). */
  readonly contactUpdate?: ContactRecord;
  /** Protocol replies encrypted with the advanced session (e.g. a delivery receipt). */
  readonly outboxEntries?: readonly NewOutboxEntry[];
  /**
   * Delivery receipts to the sender's other devices (docs/PROTOCOL.md §13.5), each with the
   * session we hold with that device (a session key of `from` and the device) advanced by
   * encrypting it, written in this transaction: a crash after the commit loses none.
   */
  readonly siblingReceipts?: readonly { readonly sessionUpdate: SessionUpdate; readonly outboxEntries: readonly NewOutboxEntry[] }[];
  /**
   * The sender's edit, delete or reaction (`by` = `from`), applied to its target row by the
   * rules of message-actions.ts; one the rules refuse changes nothing. A target not stored
   * yet: the action is held (held-actions.ts) and applied when the target is committed.
   */
  readonly action?: MessageAction;
  /**
   * Set when `action` is ours, made on another device of our account (an action transcript,
   * PROTOCOL.md §13.5): `by` is ME, `from` is our own account, and this is the conversation
   * (contact id) it belongs to; its target must be in that conversation.
   */
  readonly ownActionIn?: string;
  /**
   * A message our account sent from another of its devices (a "sent transcript", PROTOCOL.md
   * §13.5), stored as an outgoing message of `transcript.contactId`'s conversation (which
   * need not be `from`: `from` is our own account) with status `sent`, once: a message id
   * already stored is left as it is.
   */
  readonly transcript?: NewIncomingMessage;
  /** Incoming messages of `contactId` read on another device of ours: read here too (unread count down), no receipt. */
  readonly readElsewhere?: { readonly contactId: string; readonly messageIds: readonly string[] };
  /** Our display name, renamed on another device of ours (PROTOCOL.md §12.9): the identity row takes it. */
  readonly ownDisplayName?: string;
  /**
   * Protocol content to `from` that waits for a session (a retry request, PROTOCOL.md
   * §12.8): queued as `pending_session` jobs marked `repair`, so the session starter
   * encrypts them under a fresh session with that device.
   */
  readonly repairJobs?: readonly RepairJob[];
  /**
   * Copies sent again on a contact's retry request (their new envelopes are in
   * `outboxEntries`): each kept copy moves from the envelope id it was requested under to
   * the new one, its `resends` one higher.
   */
  readonly resent?: readonly { readonly from: string; readonly record: ResendableRecord }[];
  /**
   * Group frames the envelope carried (pairwise `group` content), written to the group
   * inbox in this transaction (group-inbox.ts), so they are durable before the ack.
   */
  readonly groupFrames?: readonly NewGroupInboxFrame[];
}

/** Protocol content waiting for a session with one of a contact's devices (`commitPendingProtocol`). */
export interface PendingProtocolJob {
  readonly envelopeId: string;
  readonly contactId: string;
  readonly device?: string;
  readonly mailbox: Uint8Array;
  readonly plaintext: Uint8Array;
  /** Parked, never dropped, when its session cannot be started (OutboxRecord.keep): a group frame. */
  readonly keep?: true;
}

/** A retry request (or other protocol content) waiting for a fresh session with one of the sender's devices. */
export type RepairJob = PendingProtocolJob;

export type IncomingResult = 'committed' | 'duplicate';

/** What `commitIncomingBatch` committed. */
export interface IncomingBatchCommitted {
  /** One per commit, in order. */
  readonly results: IncomingResult[];
  /**
   * The ready outbox entries the batch queued (delivery receipts, resends) that are their
   * contact's head of line once it committed: the outbox may hand them to a transport at
   * once instead of reading its queues again (OutboxWorker.offer). An entry is left out
   * whenever that is not certain; those go with the next outbox round.
   */
  readonly heads: readonly OutboxRecord[];
}

export interface MessagePage {
  /** Oldest first. */
  readonly messages: readonly MessageRecord[];
  /** Pass as `before` to get the next older page; undefined when there is none. */
  readonly olderCursor?: number;
}

export interface SentReport {
  readonly at: number;
  readonly via?: Via;
}

/** What `markSent` committed. */
export interface SentCommitted {
  /** False when the entry was already gone (acknowledged twice, or ended by a receipt): nothing changed. */
  readonly removed: boolean;
  /**
   * The message row the copy moved to `sent`, if it moved one: any copy of a fanned-out
   * message, not only the one whose envelope id the row names (the open chat shows the move).
   */
  readonly moved?: string;
}

export interface PetrelStore {
  readonly health: StorageHealthView;
  /** Groups (group-store.ts): logs, sender keys, held messages, group sends; each write one transaction. */
  readonly groups: GroupStore;

  // ---- identity and prekeys
  loadIdentity(): Promise<IdentityRecord | undefined>;
  saveIdentity(identity: IdentityRecord): Promise<void>;
  /**
   * Replaces the serialised prekey pool (after generation, replenishment, rotation); a
   * rotation passes its time, stored with the pool in the same transaction.
   */
  savePreKeyPool(pool: Uint8Array, options?: { readonly signedPreKeysRotatedAt?: number }): Promise<void>;
  /** Replaces our display name (what new invites and session starts say), in one transaction with the rest of the row kept. */
  setOwnDisplayName(displayName: string): Promise<void>;

  // ---- contacts and sessions
  getContact(id: string): Promise<ContactRecord | undefined>;
  listContacts(): Promise<ContactRecord[]>;
  putContact(contact: ContactRecord): Promise<void>;
  setVerification(contactId: string, state: VerificationState): Promise<void>;
  /** Acknowledges a contact's `keyChange` and `possibleKeyChangeOf`: sending to it is allowed again. */
  acknowledgeKeyChange(contactId: string): Promise<void>;
  /**
   * The user's change to a contact (local name, blocked, listing; `null` clears a field);
   * returns the contact as committed. Rejects with `RecordNotFoundError` for an unknown one.
   */
  changeContact(contactId: string, change: ContactChange): Promise<ContactRecord>;
  /**
   * In ONE transaction: every message and outbox entry of the contact and its conversation
   * row are deleted, and the contact becomes `listing: 'removed'` without a local name (its
   * session stays, so its next message can be read). All or nothing.
   */
  deleteConversation(contactId: string): Promise<DeletedConversation>;
  /** Appends linked history (history-import.ts) to a contact's conversation in one transaction; returns how many were new. */
  importHistory(contactId: string, messages: readonly ImportedMessage[]): Promise<number>;
  /** Appends a line about the conversation (system-line.ts); an id already stored changes nothing. */
  addSystemLine(line: SystemLine): Promise<void>;
  /** Removes these contacts with their messages and conversations (a device link that did not complete), in one transaction. */
  discardImport(contactIds: readonly string[]): Promise<void>;
  getSession(contactId: string): Promise<SessionRecord | undefined>;
  /** A ratchet change without a message row (e.g. an encrypted signaling blob). Returns the new version. */
  commitSession(update: SessionUpdate): Promise<number>;
  /**
   * Removes a session row whose bytes failed their integrity check, so it is never used
   * (PROTOCOL.md §12.8: what it would have read is asked for again under a fresh session).
   * Only while the row is still at `expectedVersion`; false when it changed or is gone.
   */
  discardCorruptSession(contactId: string, expectedVersion: number): Promise<boolean>;

  // ---- send
  commitOutgoing(commit: OutgoingCommit): Promise<OutgoingCommitted>;
  commitPendingOutgoing(commit: PendingOutgoingCommit): Promise<void>;
  /**
   * Protocol content (no message row: a group frame) queued for a contact's device that has
   * no session yet: a `pending_session` job behind the contact's protocol entries
   * (protocol-seq.ts), which the session starter encrypts once the session starts. An
   * envelope id already queued changes nothing.
   */
  commitPendingProtocol(job: PendingProtocolJob): Promise<void>;
  /** A message to several targets (devices), all its copies in one transaction (FanOutCommit). */
  commitFanOut(commit: FanOutCommit): Promise<void>;
  /** Our action to every device of a contact, with the change of its target row, in one transaction. */
  commitFanOutAction(commit: FanOutActionCommit): Promise<void>;
  /**
   * A copy that cannot be delivered (its device was unlinked, or never published keys): its
   * entry is removed and the message stands on its other copies — unless it is the
   * message's last copy and none went out, then the message fails with `reason` (as
   * `markFailed`). 'gone' when there was no such entry.
   */
  dropOutboxEntry(envelopeId: string, reason: string): Promise<'dropped' | 'failed' | 'gone'>;
  /**
   * A copy of message `messageId` was refused as sent under a stale device list: one
   * transaction gives each device of the current list without a copy a pending job, marks
   * the copies still queued with the new version and removes an account-mailbox copy
   * (device-cover-commit.ts). A device that has a copy (queued or sent) never gets another.
   */
  coverDevices(commit: DeviceCoverCommit): Promise<DeviceCoverResult>;
  /**
   * An action copy to a contact's device, or a copy to our own other device, was refused as
   * sent under a stale device list: one transaction gives each device of the current list
   * without a copy of that fan-out a pending job and marks the copies still queued with the
   * new version (copy-cover-commit.ts). A device that has a copy never gets another.
   */
  coverCopies(commit: CopyCoverCommit): Promise<DeviceCoverResult>;
  pendingJobs(contactId: string): Promise<OutboxRecord[]>;
  /**
   * What a session with one of the contact's devices would send, in queue order: its
   * `pending_session` jobs and its parked ones (`failed` with `keep`: group frames whose
   * session start was given up, OutboxRecord.keep).
   */
  jobsAwaitingSession(contactId: string): Promise<OutboxRecord[]>;
  /** A session started: its jobs (pending or parked, `jobsAwaitingSession`) become `ready` with their envelopes, in one transaction with the session. */
  commitSessionStart(commit: SessionStartCommit): Promise<{ readonly sessionVersion: number }>;

  // ---- outbox
  dueOutbox(now: number, limit: number): Promise<OutboxRecord[]>;
  /**
   * The head of line of up to `maxHeads` contacts' queues: per contact, its lowest-seq
   * entry still to send (`ready` or `pending_session`; `failed` ones hold nobody back).
   * Only a head may be sent: one contact's messages go strictly in compose order.
   */
  outboxHeads(maxHeads: number): Promise<OutboxRecord[]>;
  /** Earliest `nextAttemptAt` of a ready entry (for the send timer). */
  nextDueAt(): Promise<number | undefined>;
  /**
   * Transport acknowledged: outbox entry removed, its message → `sent` while still `queued`
   * or `failed` (a copy to one of its devices went; the copies given up on stay named).
   */
  markSent(envelopeId: string, report: SentReport): Promise<SentCommitted>;
  recordAttemptFailure(envelopeId: string, nextAttemptAt: number, error: string): Promise<void>;
  /**
   * Budget spent: a message entry becomes `failed`; its row `failed` once no copy of it is
   * left that could still go (while a copy to another device is still queued it stays
   * `queued`). The copy is named on the row whatever its state: a device's in
   * `failedDevices`, an account mailbox's (not the message's only copy) as
   * `failedAccountCopy` (failed-devices.ts). A protocol entry (no row, no retry) is
   * dropped, except a `pending_session` one to `keep` (a group frame), which is parked:
   * `failed`, with its plaintext, until a session with its device starts. Resolves to the
   * id of the message row it wrote, if any.
   */
  markFailed(envelopeId: string, reason: string): Promise<string | undefined>;
  /**
   * Manual retry of one of our messages, in one transaction: every failed copy of it (one
   * per device of a multi-device contact) is due now again with a new budget (the same
   * bytes), whatever the message's best state; a `failed` row goes back to `queued`, its
   * `failedDevices` and `failedAccountCopy` are cleared. Copies already sent or still on their way are untouched.
   * Resolves to the number of copies requeued: 0 when none had failed (a repeated retry
   * changes nothing). `InvalidTransitionError` for a message not ours;
   * `RecordNotFoundError` for an unknown message, or a failed one with no copy left.
   */
  retry(messageId: string, now: number): Promise<number>;
  /** Entries still to send (ready + pending_session). */
  queueDepth(): Promise<number>;

  // ---- receive
  commitIncoming(commit: IncomingCommit): Promise<IncomingResult>;
  /** Many independent receives in one transaction (each dedup-checked); all or nothing. */
  commitIncomingBatch(commits: readonly IncomingCommit[]): Promise<IncomingBatchCommitted>;
  /** The ids among `envelopeIds` that were already committed (check before decrypting). */
  processedEnvelopes(envelopeIds: readonly string[]): Promise<ReadonlySet<string>>;
  /** Drops dedup marks older than the retention and beyond the count limit; returns how many. */
  pruneDedup(now: number): Promise<number>;
  /** The kept copies (for resend) among `envelopeIds`; unknown ids are left out. */
  resendable(envelopeIds: readonly string[]): Promise<ResendableRecord[]>;
  /** Drops kept copies older than RESEND_RETENTION_MS and beyond RESENDABLE_MAX; returns how many. */
  pruneResendable(now: number): Promise<number>;

  // ---- conversations and messages
  listConversations(): Promise<ConversationRecord[]>;
  getConversation(contactId: string): Promise<ConversationRecord | undefined>;
  getMessage(id: string): Promise<MessageRecord | undefined>;
  /** Newest page first requested without `before`; pages go back by order key. */
  pageMessages(contactId: string, options: { readonly before?: number; readonly limit: number }): Promise<MessagePage>;
  /**
   * Delete for me: the message row goes from this device only (the conversation's preview
   * and unread count follow). False when there was no such message.
   */
  deleteMessageLocally(messageId: string): Promise<boolean>;
  /** The conversation's unread incoming messages, oldest first (what `commitRead` is given). */
  unreadIncoming(contactId: string): Promise<string[]>;
  /**
   * In one transaction: the given incoming messages become read (those still unread; the
   * conversation's unread count drops by as many) and, when present, the read receipt for
   * them is queued with the session it advanced. Returns the ids newly read. A receipt
   * never goes without its rows marked, nor rows marked without their receipt.
   */
  commitRead(commit: ReadCommit): Promise<string[]>;

  // ---- metrics and meta
  loadCounters(): Promise<Record<string, number>>;
  saveCounters(counters: Readonly<Record<string, number>>): Promise<void>;
  getMeta(key: string): Promise<MetaValue | undefined>;
  setMeta(key: string, value: MetaValue): Promise<void>;
  /** Removes a meta key (absent: nothing happens). */
  deleteMeta(key: string): Promise<void>;
  /** The group inbox's rows, oldest first (group-inbox.ts); remove each with `deleteMeta(row.key)` once handled. */
  groupInbox(): Promise<GroupInboxRow[]>;

  close(): void;
}
