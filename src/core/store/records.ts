/**
 * The records Petrel keeps on this device, one type per store. Every byte field is an
 * opaque value produced by another module (the crypto core serialises sessions and
 * prekeys; the wire module builds envelopes): the store never interprets it.
 *
 * Ids are lower-case hex strings: a contact id is the hex of its 32-byte identity key,
 * a message id and an envelope id are the hex of a 16-byte random id (32 chars).
 */
import type { DeviceReceipts } from './device-receipts.ts';
import type { MessageStatus } from './message-status.ts';

export type { MessageStatus } from './message-status.ts';

/** Our identity: the Ed25519 seed and the crypto core's serialised prekey pool. Singleton (`id: 'self'`). */
export interface IdentityRecord {
  readonly id: 'self';
  readonly seed: Uint8Array;
  readonly displayName: string;
  readonly createdAt: number;
  /**
   * The crypto core's serialised `PreKeyPool` (current/previous SPK and PQSPK, the OPK
   * and PQOPK pools, the next prekey id). Replaced whole, atomically with the session
   * that consumed a one-time key (`commitIncoming({ preKeyPool })`).
   */
  readonly preKeyPool?: Uint8Array;
  /**
   * When the pool's current signed prekeys were made by a rotation (ms since epoch);
   * absent = at `createdAt` (they came with the pool). Written with the pool, in the same
   * transaction (`savePreKeyPool(pool, { signedPreKeysRotatedAt })`).
   */
  readonly signedPreKeysRotatedAt?: number;
  /** Monotonic prekey id counter when prekeys are kept one per record (`preKeys` store). */
  readonly nextPreKeyId: number;
}

export type PreKeyKind = 'spk' | 'pqspk' | 'opk' | 'pqopk';
/** current/previous for the signed kinds (the previous one opens late initial messages); one_time for OPK/PQOPK. */
export type PreKeyRole = 'current' | 'previous' | 'one_time';

/**
 * The row shape of the `preKeys` store, which the v1 schema declares but nothing reads or
 * writes (every private prekey lives in the identity record's serialised pool).
 */
export interface PreKeyRecord {
  readonly id: number;
  readonly kind: PreKeyKind;
  readonly role: PreKeyRole;
  /** Opaque private material (the crypto core's encoding). */
  readonly secret: Uint8Array;
  readonly createdAt: number;
}

/** A Double Ratchet session with one contact: opaque state plus a version for optimistic concurrency. */
export interface SessionRecord {
  readonly contactId: string;
  /** 1 for a new session; +1 on every committed change. */
  readonly version: number;
  readonly state: Uint8Array;
  readonly updatedAt: number;
}

export type VerificationState = 'unverified' | 'verified';

/** A changed identity key seen for a contact; while unacknowledged, sending to it is blocked. */
export interface KeyChange {
  readonly previousIdentityKey: Uint8Array;
  readonly detectedAt: number;
  readonly acknowledged: boolean;
}

/**
 * An unknown sender introduced itself with the display name of an existing contact whose
 * identity key differs: the same person on a new device, or someone posing as them.
 * While unacknowledged, sending to this contact is blocked.
 */
export interface PossibleKeyChange {
  /** The existing contact whose name it claims. */
  readonly contactId: string;
  readonly detectedAt: number;
  readonly acknowledged: boolean;
}

export interface ContactRecord {
  /** Hex of `identityKey`. Stays the contact's id after a key change (the first key seen). */
  readonly id: string;
  /** Empty while `unnamed`. */
  readonly displayName: string;
  /**
   * True for a contact that wrote to us first and has not told us its name yet (the app
   * shows "Unknown contact"); its first `profile` names it. Absent on rows written before
   * the field existed (stored-state-upgrade.ts rewrites those that carried the old
   * placeholder name) and on every named contact.
   */
  readonly unnamed?: boolean;
  /** The identity public key currently trusted for this contact (32 bytes). */
  readonly identityKey: Uint8Array;
  readonly verification: VerificationState;
  readonly keyChange?: KeyChange;
  /** Set when this contact first wrote to us claiming another contact's name (see `PossibleKeyChange`). */
  readonly possibleKeyChangeOf?: PossibleKeyChange;
  readonly addedAt: number;
  /**
   * The user's own name for this contact, shown instead of `displayName` (which stays the
   * name the contact gave: invite or profile). Absent = none; clearing it shows theirs again.
   */
  readonly localName?: string;
  /**
   * True while the user blocks this contact: its incoming messages are dropped on this
   * device after the relay's ack (no row, no receipt), nothing is sent to it. Absent = false.
   */
  readonly blocked?: boolean;
  /**
   * Where the contact is listed. `request`: it wrote to us first (it added us from our
   * invite) and the user has not accepted yet — shown under Message requests, no read
   * receipts go to it. `removed`: the user deleted the conversation; shown nowhere, and its
   * next message makes it a request again. Absent = in the conversation list (every row
   * written before this field existed reads so: no upgrade needed).
   */
  readonly listing?: ContactListing;
}

export type ContactListing = 'request' | 'removed';

export interface LastMessage {
  readonly messageId: string;
  readonly text: string;
  readonly at: number;
  readonly direction: 'in' | 'out';
}

/** One conversation per contact: what the list shows without reading messages. */
export interface ConversationRecord {
  readonly contactId: string;
  readonly lastMessage?: LastMessage;
  readonly unread: number;
  /** Time of the last message (sort key of the conversation list). */
  readonly lastActivityAt: number;
  /** The order key the next message of this conversation gets. */
  readonly nextOrder: number;
}

export type Direction = 'in' | 'out';
export type Via = 'relay' | 'direct';

/**
 * A received file's descriptor (the `file` content, docs/PROTOCOL.md §14.6), kept with its
 * message so the file can be fetched and opened later: the relay's blob id, the per-file
 * key, the blob digest, and what to show (name, type, size, an optional tiny preview).
 */
export interface AttachmentRef {
  /** Hex of the relay's blob id. */
  readonly blobId: string;
  readonly key: Uint8Array;
  readonly digest: Uint8Array;
  /** Plaintext size in bytes. */
  readonly size: number;
  readonly mime: string;
  readonly name: string;
  readonly preview?: Uint8Array;
}

export interface MessageRecord {
  /** Hex of the 16-byte message id (32 chars). */
  readonly id: string;
  readonly contactId: string;
  readonly direction: Direction;
  readonly body: string;
  /** Sender's clock (ms since epoch). */
  readonly sentAt: number;
  /** Arrival time for incoming messages. */
  readonly receivedAt?: number;
  /** Position in its conversation: strictly increasing in commit order (cursor for paging). */
  readonly order: number;
  readonly status: MessageStatus;
  /** Why it failed, in words a person understands (status `failed` only). */
  readonly failure?: string;
  readonly via?: Via;
  /** Outgoing only: the outbox entry (= envelope id) carrying this message. */
  readonly envelopeId?: string;
  /** A file that came with the message (its `body` is then the caption, possibly empty). */
  readonly attachment?: AttachmentRef;
  /** The message this one replies to, and the excerpt of it the sender quoted. */
  readonly quote?: Quote;
  /**
   * An edited message's every version, oldest first by the sender's clock: the original
   * (no `editId`) and one per edit; `body` is the newest. Absent while never edited.
   */
  readonly versions?: readonly MessageVersion[];
  /** Deleted for everyone: `body`, `attachment`, `quote` and `versions` are gone from the row. */
  readonly deleted?: true;
  /** At most one per person (`by`: 'me' or the contact id). */
  readonly reactions?: readonly Reaction[];
  /**
   * Imported by a device link while still `queued` on the device that wrote it: that device
   * sends it (this one never does, it has no outbox entry and must not send it twice), and
   * the row's status moves on when a receipt reaches this device. Cleared by that move.
   */
  readonly queuedElsewhere?: true;
  /**
   * Outgoing to a multi-device contact: each of its devices' delivered/read state and when
   * it came (device-receipts.ts); `status` is the best of them. Absent until a receipt names
   * a device (and on every row written before linked devices: no upgrade needed).
   */
  readonly deviceReceipts?: DeviceReceipts;
  /**
   * Outgoing to a multi-device contact: the devices (hex ids) whose copy was given up on
   * (budget spent, or the last copy refused) and lies in the outbox as `failed`, waiting for
   * a retry. Kept whatever `status` says: the message may be delivered to another device
   * while this one never got it. A retry (which requeues every failed copy) or that device's
   * receipt takes it out; absent when none (and on every row written before it: no upgrade).
   */
  readonly failedDevices?: readonly string[];
  /**
   * Outgoing: its copy to the contact's account mailbox (an outbox entry without `device`)
   * was given up on while the message has other copies, one of which may have gone or may
   * still go: `failedDevices` cannot name it (it is no device of the contact's list). Kept,
   * requeued and cleared by a retry exactly as a failed device is; a receipt naming no
   * device ends it. Never set on a message whose only copy that was (`failed` says it all).
   */
  readonly failedAccountCopy?: true;
  /** A line about the conversation, not a message ("Ada added a device", a group's "Ada added Bo"): `body` says it; direction 'in', status 'read', never sent. */
  readonly system?: true;
  readonly updatedAt: number;
  /** Incoming group message: the member (account id, hex of its identity key) who wrote it. */
  readonly senderId?: string;
  /** Our own group message: each other member's status by account id (the row's `status` is the weakest). */
  readonly memberStatus?: Readonly<Record<string, MessageStatus>>;
}

export interface Quote {
  /** Hex of the quoted message's id. */
  readonly id: string;
  readonly text: string;
}

/** One version of an edited message: its text and when the sender wrote it. */
export interface MessageVersion {
  readonly text: string;
  /** The sender's clock (the message's `sentAt` for the original). */
  readonly at: number;
  /** Hex of the edit's id (absent for the original; a resent edit is recognised by it). */
  readonly editId?: string;
}

export interface Reaction {
  readonly by: string;
  readonly emoji: string;
  readonly at: number;
}

/**
 * `ready`: encrypted, the envelope bytes wait for a transport;
 * `pending_session`: no session with the recipient yet, the plaintext job waits for a prekey bundle;
 * `failed`: retry budget spent (kept so a manual retry resends the same bytes).
 */
export type OutboxState = 'ready' | 'pending_session' | 'failed';

export interface OutboxRecord {
  /** Hex of the 16-byte envelope id (32 chars). */
  readonly envelopeId: string;
  /** The message row this entry carries; absent for protocol messages (receipts, signaling). */
  readonly messageId?: string;
  readonly contactId: string;
  /**
   * The contact's device (32 hex) this copy goes to, for a contact with a device list; absent
   * for the account mailbox of a single-device contact (and every entry from before devices).
   */
  readonly device?: string;
  /** Recipient mailbox address (32 bytes). */
  readonly mailbox: Uint8Array;
  /**
   * The version of the recipient account's device list this copy was fanned out under: the
   * contact's list for a copy of a message or of our action (edit, delete, reaction) to one
   * of its devices, our own list for a copy to one of our own other devices (a sent or
   * action transcript). Sent with the deposit: the relay refuses it as `stale_devices` when
   * the account has a newer list, and a direct channel is used only while it equals the
   * version held (docs/PROTOCOL.md §13.5). Absent on a copy to an account mailbox (a
   * message's is sent under version 0), on receipts and `seen` marks (never covered), and
   * on entries written before this field (optional, not indexed: no migration).
   */
  readonly listVersion?: number;
  readonly state: OutboxState;
  /** The encoded envelope, identical on every retry (`ready` and failed-after-ready). */
  readonly envelope?: Uint8Array;
  /**
   * The plaintext content waiting for a session (`pending_session` only). Absent on a
   * message entry put back to `pending_session` by a key change of an earlier version (an
   * invite used to move a contact to a new key): its content is rebuilt from the message
   * row when the new session starts.
   */
  readonly plaintext?: Uint8Array;
  /** Compose order across the whole outbox (pending jobs go out in this order). */
  readonly seq: number;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly lastError?: string;
  /** When the entry was queued (compose time for a message); never changes. */
  readonly createdAt: number;
  /**
   * Where the retry budget's age (`RetryBudget.maxAgeMs`) counts from: set to the time of
   * a manual retry (and of acknowledging a key change for the jobs that waited for it),
   * so a message given up for age gets a whole new budget. Absent = `createdAt` (entries
   * written before this field existed need no migration: it is optional and not indexed).
   */
  readonly firstAttemptAt?: number;
  /**
   * A retry request waiting for its session (PROTOCOL.md §12.8): the session starter opens
   * a fresh session with the device from its published bundle for it, unless the current
   * session is one we started and the device has not answered yet.
   */
  readonly repair?: true;
  /**
   * A group frame (PROTOCOL.md §17.6): a `pending_session` job that must not be lost. When
   * its session cannot be started (the starter gives up) it is parked — `failed`, its
   * plaintext kept, holding nobody back — instead of dropped, and goes when a session with
   * its device starts (ours or the device's). Never on a `ready` entry.
   */
  readonly keep?: true;
}

/**
 * The plaintext of one outgoing message copy, kept so it can be sent again when its
 * recipient device could not decrypt it and asks (a retry request, PROTOCOL.md §12.8).
 * Written in the transaction that queues the copy; kept `RESEND_RETENTION_MS` (the relay's
 * default mailbox retention) and at most `RESENDABLE_MAX` rows (resend-limits.ts), oldest pruned first.
 */
export interface ResendableRecord {
  /** Hex of the envelope id the copy was (last) sent under: what a retry request names. */
  readonly envelopeId: string;
  /** The contact the copy went to (hex IK). */
  readonly contactId: string;
  /** The contact's device (hex) the copy went to; absent: its account mailbox. */
  readonly device?: string;
  /** The message the copy carries, or, for an action, the message it changes. */
  readonly messageId: string;
  /**
   * The copy is our edit, delete or reaction of `messageId`, not the message: sent again even
   * when that message was deleted for everyone (the delete may be the very copy that failed).
   */
  readonly action?: true;
  /** The encoded content (`msg`, `reply`, `file`, or an action's content) exactly as first encrypted. */
  readonly plaintext: Uint8Array;
  /** When the copy was first queued (the retention counts from here, across resends). */
  readonly at: number;
  /** How many times it was sent again on request. */
  readonly resends: number;
}

/** An envelope id that was processed (committed) on this device. */
export interface DedupRecord {
  readonly envelopeId: string;
  readonly at: number;
}

/** One persisted metrics counter (`metricKey` form, e.g. `send.success{transport="relay"}`). */
export interface MetricRecord {
  readonly key: string;
  readonly value: number;
}

export type MetaValue = string | number | boolean | Uint8Array;

export interface MetaRecord {
  readonly key: string;
  readonly value: MetaValue;
}

/** A group this device belongs to or belonged to (docs/PROTOCOL.md §17.6). */
export interface GroupRecord {
  /** Hex of the 16-byte group id. */
  readonly id: string;
  /** Every signed change held (the log, group-log.ts), in the order they arrived. */
  readonly changes: readonly { readonly body: Uint8Array; readonly sig: Uint8Array }[];
  /** Ids (hex) of the changes applied so far, in order: what the system lines already said. */
  readonly applied: readonly string[];
  /** The names members' authors told us (account hex → name), for members who are not our contacts. */
  readonly names: Readonly<Record<string, string>>;
  /** Position of the next row in the conversation (message `order`). */
  readonly nextOrder: number;
  readonly lastActivityAt: number;
  readonly createdAt: number;
  /** Key changes of members this chat already has a line for (`account:detectedAt`), group-key-changes.ts. */
  readonly keyChangeLines?: readonly string[];
}

/**
 * One sender-key record: ours (`device` 'self') or a member device's, for one group.
 * `key` = group ‖ ':' ‖ account ‖ ':' ‖ device ('-' for a single-device account).
 */
export interface SenderKeyRow {
  readonly key: string;
  readonly groupId: string;
  /** serializeSenderKeyRecord's bytes (integrity-tagged). */
  readonly record: Uint8Array;
  /** Ours only: messages sent on the current chain, when it was made, who holds it, and a rotation owed. */
  readonly own?: {
    readonly sent: number;
    readonly createdAt: number;
    /** Member devices (`account:device`) that were sent the current chain, and the iteration each got it at (never earlier: a repair re-sends that). */
    readonly holders: Readonly<Record<string, number>>;
    /** The chain's distribution at iteration 0 (from which a repair derives the one at a holder's iteration). */
    readonly origin: Uint8Array;
    /** A member left or was removed since the chain was made: a new chain before the next message. */
    readonly rotate: boolean;
    /**
     * Member devices (`account:device`) we sent messages on this chain without handing them
     * the chain first (no session yet, or their key change waits for acknowledgement), and
     * the iteration of the first such message: they get the chain at that iteration once
     * it can be handed over, so those messages open too (as a 1:1 message waits).
     */
    readonly owed?: Readonly<Record<string, number>>;
  };
}

/**
 * A group message whose sender key we do not hold yet: kept, and asked for, until it comes
 * or expires. Or (`beforeGroup`) a group message whose group we do not know yet (it came
 * before the change that adds us): kept as its whole `group.sealed` body under `groupId` =
 * `tag:` + the seal's tag in hex, until a group with that tag arrives or it expires.
 */
export interface HeldGroupMessageRecord {
  /** Hex of the envelope id. */
  readonly id: string;
  /** The group's id, or `tag:<hex>` for a message held before its group (`beforeGroup`). */
  readonly groupId: string;
  /** The message came before its group: `message` is the whole `group.sealed` body; no sender, chain or request yet. */
  readonly beforeGroup?: true;
  /** `account:device` of the sender. */
  readonly sender: string;
  readonly chainId: number;
  readonly iteration: number;
  /** The sender-key message. */
  readonly message: Uint8Array;
  readonly heldAt: number;
  /** When we last asked the sender for its key, and how often. */
  readonly askedAt: number;
  readonly asks: number;
}

/** A group message encrypted and committed, not yet deposited with the relay (`send.multi`). */
export interface GroupOutboxRecord {
  /** Hex of the message id (also the envelope id of the deposit). */
  readonly messageId: string;
  readonly groupId: string;
  /** The group.env body. */
  readonly body: Uint8Array;
  /** Member devices (`account:device`) it goes to. */
  readonly to: readonly string[];
  readonly createdAt: number;
}
