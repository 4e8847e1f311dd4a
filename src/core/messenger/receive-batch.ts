/**
 * Receive step 4, the batch commit: one batch of received envelopes as it is assembled
 * into ONE `commitIncomingBatch` transaction. The steps before fill in one `CommitDraft`
 * per envelope (dedup mark, sender, message row, receipt moves, new or renamed contact);
 * `seal` then adds what belongs to the batch as a whole:
 *
 *   - the delivery receipts we owe, encrypted with the advanced sessions, on each
 *     contact's last commit, and the same receipts to the other devices of a multi-device
 *     sender (each with its own session), so they are as durable as the messages;
 *   - at most one session update per contact (its final state, on its last commit);
 *   - the prekey pool, when a session start consumed one-time keys (on the last commit).
 *
 * Contacts and sessions are seen as this batch leaves them: changed here, or by an earlier
 * batch of the same lane turn whose commit is still in flight (`Carry`), or as committed.
 */
import { bytesEqual, fromHex, toHex } from '../bytes.ts';
import { serializePreKeyPool, type PreKeyPool } from '../crypto/index.ts';
import { groupInboxKey, type ContactRecord, type IncomingCommit, type NewGroupInboxFrame, type NewIncomingMessage, type NewOutboxEntry, type RepairJob, type ResendableRecord, type SessionUpdate, type StatusUpdate } from '../store/index.ts';
import type { MessageAction } from '../store/message-actions.ts';
import type { IncomingEnvelope, IngressResult } from '../transport/index.ts';
import { contactOfSessionKey, deviceOfSessionKey, sessionKey } from '../store/session-key.ts';
import { deviceMailboxAddress, encodeContent, mailboxAddress, MAX_ACK_IDS, type RtcContent } from '../wire/index.ts';
import { ownAccountContact } from './contact-directory.ts';
import type { MessengerContext } from './context.ts';
import type { DirectPeer } from './direct-path.ts';
import { encryptFor } from './session-cipher.ts';
import { admitRetryRequest, RetryRequests, type RepairTarget } from './session-repair.ts';
import { decodeSessionSet, EMPTY_SESSION_SET, encodeSessionSet, type SessionSet } from './session-set.ts';

/** A received envelope admitted by the ingress guard, waiting for its batch's commit. */
export interface PendingEnvelope {
  readonly incoming: IncomingEnvelope;
  settle(result: IngressResult): void;
  /**
   * Its sender's list was fetched again after it arrived and still does not name its
   * device (unlisted-device-hold.ts): recorded and dropped, not held again.
   */
  readonly deviceChecked?: true;
}

/** One contact's sessions as this batch advances them. */
export interface SessionWork {
  /** The session key (session-key.ts): the contact, or the contact and one of its devices. */
  readonly contactId: string;
  /** The stored version the batch's session update expects (as of the previous commit of this run). */
  readonly version: number | null;
  set: SessionSet;
  dirty: boolean;
  /** Message ids to acknowledge with a delivery receipt. */
  readonly delivered: Uint8Array[];
  /** Kept copies to send again on this device's retry request (session-repair.ts). */
  readonly resend: ResendableRecord[];
}

/**
 * What one lane turn carries from a batch to the next while the earlier batch's commit
 * is still in flight: the sessions, prekey pool and new contacts as that commit will
 * leave them. Dropped at the end of the turn (the store is the truth again) and whenever
 * a commit fails.
 */
export interface Carry {
  readonly sessions: Map<string, { readonly version: number | null; readonly set: SessionSet }>;
  pool: PreKeyPool;
  readonly contacts: Map<string, ContactRecord>;
  /** Kept copies already sent again (their move to a new envelope id is not committed yet). */
  readonly resent: Set<string>;
}

/** One envelope's commit while the receive steps fill it in. */
export interface CommitDraft {
  readonly envelopeId: string;
  readonly receivedAt: number;
  from?: string;
  message?: NewIncomingMessage;
  statusUpdates?: readonly StatusUpdate[];
  contactUpdate?: ContactRecord;
  outboxEntries?: readonly NewOutboxEntry[];
  sessionUpdate?: SessionUpdate;
  preKeyPool?: Uint8Array;
  action?: MessageAction;
  /** The conversation of `action` when it is ours, from another device of our account. */
  ownActionIn?: string;
  /** What another device of our account sent (receive-own-device.ts). */
  transcript?: NewIncomingMessage;
  /** Messages another device of our account read. */
  readElsewhere?: { readonly contactId: string; readonly messageIds: readonly string[] };
  /** Our display name, renamed on another device of our account (profile-update.ts). */
  ownDisplayName?: string;
  /** Retry requests for envelopes we could not decrypt (session-repair.ts). */
  repairJobs?: readonly RepairJob[];
  /** Kept copies sent again on a contact's retry request. */
  resent?: readonly { readonly from: string; readonly record: ResendableRecord }[];
  /** Delivery receipts to the sender's other devices, each with its advanced session (sessions no envelope of the batch used). */
  siblingReceipts?: { readonly sessionUpdate: SessionUpdate; readonly outboxEntries: readonly NewOutboxEntry[] }[];
  /** Group frames, into the group inbox with this commit (store/group-inbox.ts). */
  groupFrames?: NewGroupInboxFrame[];
}

/** A decrypted batch whose commit is ready to issue. */
export interface Prepared {
  readonly batch: readonly PendingEnvelope[];
  readonly commits: readonly IncomingCommit[];
  readonly rtc: ReadonlyArray<readonly [DirectPeer, RtcContent]>;
  /** How many group frames the commit put in the group inbox (the group parts take them after it). */
  readonly groupFrames: number;
  readonly messages: number;
  readonly receipts: number;
  /** The pool the commit leaves, when it changed. */
  readonly pool: PreKeyPool | undefined;
  readonly contacts: readonly ContactRecord[];
  /** Contacts this batch queued retry requests for (their sessions to start afresh). */
  readonly repairs: readonly string[];
  /** Our display name as another device of ours renamed it, when this batch carries one (the newest). */
  readonly ownName?: string;
  /** Delivery receipts the commit queues to those contacts' other devices (siblingSessions). */
  readonly siblingReceipts: number;
  /** Accounts (contacts, or our own) one of whose devices started a session towards us in this batch. */
  readonly sessionsAccepted: readonly string[];
}

export class BatchDraft {
  private readonly commits: CommitDraft[] = [];
  private readonly work = new Map<string, SessionWork>();
  private readonly changedContacts = new Map<string, ContactRecord>();
  /** Each contact's last decrypted envelope's commit (where its batch-wide parts go). */
  private readonly lastCommitOf = new Map<string, CommitDraft>();
  private readonly rtc: Array<readonly [DirectPeer, RtcContent]> = [];
  private groupFrames = 0;
  private pool: PreKeyPool;
  private poolChanged = false;
  private readonly accepted = new Set<string>();
  private messages = 0;
  private receipts = 0;
  private readonly retries = new RetryRequests();
  /** The commit the batch's retry requests go on (the last envelope that asked). */
  private retryCommit: CommitDraft | undefined;

  constructor(
    private readonly ctx: MessengerContext,
    private readonly carry: Carry,
    /** The batch's receive time (every commit's `receivedAt`). */
    readonly now: number,
  ) {
    this.pool = carry.pool;
  }

  /** The pool as this batch leaves it so far (session starts decrypt against it). */
  get currentPool(): PreKeyPool {
    return this.pool;
  }

  /** Starts the commit of one envelope: recorded as processed unless `withdraw`n. */
  open(envelopeId: string): CommitDraft {
    const draft: CommitDraft = { envelopeId, receivedAt: this.now };
    this.commits.push(draft);
    return draft;
  }

  contactById(id: string): ContactRecord | undefined {
    return this.changedContacts.get(id) ?? this.carry.contacts.get(id) ?? this.ctx.contacts.byId(id);
  }

  /** The contact whose current identity key is `key`. */
  contactByKey(key: Uint8Array): ContactRecord | undefined {
    const c = this.contactById(this.ctx.contacts.byKey(key)?.id ?? toHex(key));
    return c && bytesEqual(c.identityKey, key) ? c : undefined;
  }

  allContacts(): ContactRecord[] {
    const all = new Map(this.ctx.contacts.all().map((c) => [c.id, c]));
    for (const c of [...this.carry.contacts.values(), ...this.changedContacts.values()]) all.set(c.id, c);
    return [...all.values()];
  }

  /** A new or changed contact, committed with `draft`. */
  putContact(draft: CommitDraft, contact: ContactRecord): void {
    this.changedContacts.set(contact.id, contact);
    draft.contactUpdate = contact;
  }

  /** The contact's sessions as this batch sees them (loaded once per batch; a damaged stored set reads as none, session-row-check.ts). */
  async sessionsOf(contactId: string): Promise<SessionWork> {
    let w = this.work.get(contactId);
    if (!w) {
      const carried = this.carry.sessions.get(contactId);
      if (carried) {
        w = { contactId, version: carried.version, set: carried.set, dirty: false, delivered: [], resend: [] };
      } else {
        const row = await this.ctx.store.getSession(contactId);
        w = { contactId, version: row?.version ?? null, set: row ? decodeSessionSet(row.state) : EMPTY_SESSION_SET, dirty: false, delivered: [], resend: [] };
      }
      this.work.set(contactId, w);
    }
    return w;
  }

  /** `draft` was decrypted with the sessions of `contactId` (its `device`, if any), leaving `set` (and `pool`, when a session start consumed keys). */
  async decrypted(draft: CommitDraft, contactId: string, device: string | undefined, set: SessionSet, pool: PreKeyPool | undefined): Promise<SessionWork> {
    // A new pool comes only with a session start we accepted (session-cipher.ts decryptWith).
    if (pool) {
      this.pool = pool;
      this.poolChanged = true;
      this.accepted.add(contactId);
    }
    const key = sessionKey(contactId, device);
    const w = await this.sessionsOf(key);
    w.set = set;
    w.dirty = true;
    draft.from = contactId;
    this.lastCommitOf.set(key, draft);
    return w;
  }

  /** A message from `contactId`: stored with `draft`, and a delivery receipt owed for it. */
  message(draft: CommitDraft, message: NewIncomingMessage, id: Uint8Array, w: SessionWork): void {
    draft.message = message;
    w.delivered.push(id);
    this.messages++;
  }

  receipt(draft: CommitDraft, updates: readonly StatusUpdate[]): void {
    draft.statusUpdates = updates;
    this.receipts++;
  }

  /** A group frame that came over session `sessionKey`: into the group inbox with `draft`'s commit, for the group parts after it. */
  groupFrame(draft: CommitDraft, sessionKey: string, frame: Uint8Array): void {
    (draft.groupFrames ??= []).push({ key: groupInboxKey(this.now, this.groupFrames++, sessionKey), frame });
  }

  /** `draft`'s envelope (from `target`) could not be decrypted: ask the sending device for it again (§12.8), when `reason` allows. */
  requestRetry(draft: CommitDraft, target: RepairTarget, envelopeId: Uint8Array, reason: string): void {
    if (!this.retries.add(this.ctx, target, envelopeId, reason)) return;
    // The sealed-sender box proved who sent it, even though its content stays unreadable.
    draft.from = target.contact.id;
    this.retryCommit = draft;
  }

  /** A retry request from the device of `w`: the kept copies it may have again go out with the commit. */
  async retryRequested(w: SessionWork, contactId: string, ids: readonly Uint8Array[]): Promise<void> {
    w.resend.push(...(await admitRetryRequest(this.ctx, { contactId, sessionKey: w.contactId, ids, now: this.now }, this.carry.resent)));
  }

  /** A signaling message from one device of a contact, handed to the direct path after the commit. */
  signal(from: DirectPeer, content: RtcContent): void {
    this.rtc.push([from, content]);
  }

  /**
   * Adds the batch-wide parts (delivery receipts, session updates, the pool) and advances
   * `carry` to the state the commit will leave, for the next batch of the turn.
   */
  async seal(batch: readonly PendingEnvelope[]): Promise<Prepared> {
    const { ctx, carry, commits } = this;
    const siblings = await this.siblingSessions();
    // Copies a contact asked for again and the delivery receipts we owe, encrypted with the
    // advanced sessions, go out with the commit.
    const siblingEntries = new Map<string, NewOutboxEntry[]>();
    let siblingReceipts = 0;
    for (const w of this.work.values()) {
      const toSibling = siblings.ids.get(w.contactId) ?? [];
      if (!w.delivered.length && !w.resend.length && !toSibling.length) continue;
      const owner = contactOfSessionKey(w.contactId);
      const contact = this.contactById(owner) ?? (owner === toHex(ctx.identity.publicKey) ? ownAccountContact(ctx.identity.publicKey) : undefined)!;
      const device = deviceOfSessionKey(w.contactId);
      const mailbox = device ? deviceMailboxAddress(contact.identityKey, fromHex(device)) : mailboxAddress(contact.identityKey);
      const entries: NewOutboxEntry[] = [];
      const resent: { from: string; record: ResendableRecord }[] = [];
      for (const record of w.resend) {
        const { set, envelope } = await encryptFor(ctx, w.set, contact.identityKey, record.plaintext);
        w.set = set;
        w.dirty = true;
        const envelopeId = toHex(ctx.random.bytes(16));
        entries.push({ envelopeId, contactId: contact.id, ...(device ? { device } : {}), mailbox, envelope });
        resent.push({ from: record.envelopeId, record: { ...record, envelopeId, resends: record.resends + 1 } });
        ctx.metrics.inc('repair.resent');
      }
      if (resent.length) this.lastCommitOf.get(w.contactId)!.resent = resent;
      for (const ids of [w.delivered, toSibling]) {
        for (let i = 0; i < ids.length; i += MAX_ACK_IDS) {
          const receipt = encodeContent({ t: 'receipt', kind: 'delivered', ids: ids.slice(i, i + MAX_ACK_IDS) });
          const { set, envelope } = await encryptFor(ctx, w.set, contact.identityKey, receipt);
          w.set = set;
          w.dirty = true;
          entries.push({ envelopeId: toHex(ctx.random.bytes(16)), contactId: contact.id, ...(device ? { device } : {}), mailbox, envelope });
          if (ids === toSibling) siblingReceipts++;
        }
      }
      const own = this.lastCommitOf.get(w.contactId);
      if (own) own.outboxEntries = entries;
      else siblingEntries.set(w.contactId, entries);
    }
    // At most one session update per contact: the final state, on the contact's last commit
    // (a sibling's session no envelope used: with its receipts, on the commit that owes them).
    for (const w of this.work.values()) {
      if (!w.dirty) continue;
      const sessionUpdate = { contactId: w.contactId, expectedVersion: w.version, state: encodeSessionSet(w.set) };
      const own = this.lastCommitOf.get(w.contactId);
      if (own) own.sessionUpdate = sessionUpdate;
      else (siblings.home.get(w.contactId)!.siblingReceipts ??= []).push({ sessionUpdate, outboxEntries: siblingEntries.get(w.contactId) ?? [] });
    }
    if (this.retryCommit) this.retryCommit.repairJobs = this.retries.jobs(ctx);
    const last = commits[commits.length - 1];
    if (this.poolChanged && last) last.preKeyPool = serializePreKeyPool(this.pool);

    // The state this commit will leave, for the next batch of the turn (versions as the store will number them).
    for (const w of this.work.values()) carry.sessions.set(w.contactId, { version: w.dirty ? (w.version ?? 0) + 1 : w.version, set: w.set });
    carry.pool = this.pool;
    for (const c of this.changedContacts.values()) carry.contacts.set(c.id, c);
    return {
      batch,
      commits,
      rtc: this.rtc,
      groupFrames: this.groupFrames,
      messages: this.messages,
      receipts: this.receipts,
      pool: this.poolChanged ? this.pool : undefined,
      contacts: [...this.changedContacts.values()],
      repairs: this.retries.contacts(),
      ...(ownNameOf(commits) ? { ownName: ownNameOf(commits)! } : {}),
      siblingReceipts,
      sessionsAccepted: [...this.accepted],
    };
  }

  /**
   * The other devices of each multi-device contact a message of this batch came from
   * (docs/PROTOCOL.md §13.5), which we hold a session with: the ids each owes a delivery
   * receipt for (so the copy each holds, its own sent transcript, shows delivered too), and,
   * for a session no envelope of the batch used, the commit that carries its update. A
   * device without a session yet gets none (its status then follows the read receipt).
   */
  private async siblingSessions(): Promise<{ ids: Map<string, Uint8Array[]>; home: Map<string, CommitDraft> }> {
    const ids = new Map<string, Uint8Array[]>();
    const home = new Map<string, CommitDraft>();
    const devices = this.ctx.devices;
    if (!devices) return { ids, home };
    for (const w of [...this.work.values()]) {
      const from = deviceOfSessionKey(w.contactId);
      if (!from || !w.delivered.length) continue;
      const contact = this.contactById(contactOfSessionKey(w.contactId));
      if (!contact) continue;
      for (const t of await devices.targets(contact.identityKey)) {
        if (t.own || !t.deviceId || toHex(t.deviceId) === from) continue;
        const key = sessionKey(contact.id, toHex(t.deviceId));
        const sibling = await this.sessionsOf(key);
        if (sibling.version === null && !sibling.dirty) continue;
        ids.set(key, [...(ids.get(key) ?? []), ...w.delivered]);
        if (!this.lastCommitOf.has(key)) home.set(key, this.lastCommitOf.get(w.contactId)!);
      }
    }
    return { ids, home };
  }
}

/** The newest own display name the batch's commits carry. */
function ownNameOf(commits: readonly CommitDraft[]): string | undefined {
  return commits.findLast((c) => c.ownDisplayName !== undefined)?.ownDisplayName;
}
