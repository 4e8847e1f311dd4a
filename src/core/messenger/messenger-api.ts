/**
 * What the UI sees of the messaging core and what it may ask of it. The app renders
 * `getState()` and re-renders on `subscribe`; every change of state goes through the
 * commands. Nothing here is React-specific.
 */
import type { LogRecord } from '../log.ts';
import type { MetricsSnapshot } from '../metrics.ts';
import type { PushRegistrationOutcome, PushSubscriptionKeys } from './push-registration.ts';
import type { DirectChannelView } from './direct-path.ts';

/** How this device currently reaches the world (the always-visible status). */
export type ConnectionState =
  | { readonly kind: 'offline' }
  | { readonly kind: 'connecting' }
  | { readonly kind: 'online'; readonly direct: number }
  | { readonly kind: 'reconnecting'; readonly at: number };

/** queued → sent → delivered → read, or failed (with a reason; retry puts it back to queued). */
export type MessageStatus = 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

export interface MessageView {
  /** 32 hex chars (the 16-byte message id). */
  readonly id: string;
  readonly contactId: string;
  readonly direction: 'in' | 'out';
  readonly text: string;
  /** Sender's clock for outgoing, arrival for incoming (ms since epoch). */
  readonly at: number;
  readonly status: MessageStatus;
  /** Why it failed, in words a person understands. */
  readonly failure?: string;
  /** Which path carried it, when known. */
  readonly via?: 'relay' | 'direct';
  /** A file that came with it (`text` is then its caption, possibly empty). */
  readonly attachment?: {
    readonly name: string;
    readonly mime: string;
    readonly size: number;
    /** The sender's tiny preview (≤ 2 KiB, e.g. a JPEG thumbnail of a picture), shown until the file is downloaded. */
    readonly preview?: Uint8Array;
  };
  /** The message this one replies to: its id and the excerpt the sender quoted. */
  readonly quote?: { readonly id: string; readonly text: string };
  /** Present when edited: every version, oldest first (the last is `text`), for "edited" and the history. */
  readonly versions?: readonly { readonly text: string; readonly at: number }[];
  /** Deleted for everyone: `text` is empty; show "This message was deleted". */
  readonly deleted?: true;
  /** One per person: ours (`mine`) and the contact's (in a group, each member's, with `name`). */
  readonly reactions?: readonly { readonly emoji: string; readonly mine: boolean; readonly name?: string }[];
  /**
   * What the user may do with it now (by the rules of docs/PROTOCOL.md §11.2 at the time of
   * the projection): edit and delete for everyone only our own, within 24 h, 10 edits.
   */
  readonly canEdit?: true;
  readonly canDeleteForEveryone?: true;
  /** On incoming group messages: the member who wrote it (its account id) and its name. */
  readonly senderId?: string;
  readonly senderName?: string;
  /**
   * A line about the conversation, not a message: a group's membership ("Ada added Bo",
   * "Cy left") or a contact's devices ("Ada added a device"); `text` says it in words,
   * `direction` is `'in'` and `status` is `'read'`.
   */
  readonly system?: true;
  /**
   * On our own 1:1 messages to a multi-device contact: each device that sent a receipt, its
   * state and when it came (`status` is the best of them; `ChatWindow.devices` lists them all).
   */
  readonly deviceReceipts?: readonly { readonly device: string; readonly status: 'delivered' | 'read'; readonly at: number }[];
  /**
   * On our own 1:1 messages to a multi-device contact: the devices (ids as in
   * `ChatWindow.devices`) whose copy was given up on and waits for `retry`, whatever
   * `status` (the best of the devices') says: delivered to one device, never sent to these.
   */
  readonly failedDevices?: readonly string[];
  /**
   * On our own 1:1 messages: the copy to the contact's account mailbox (sent before we knew
   * its devices) was given up on and waits for `retry`, while another copy went or may
   * still go. Counts as one more device not sent to.
   */
  readonly failedAccountCopy?: true;
  /** On our own group messages: each other member's state (`status` is then the weakest of them). */
  readonly memberStatus?: readonly { readonly id: string; readonly name: string; readonly status: MessageStatus }[];
  /**
   * Came with a device link while still queued on the device that wrote it: that device
   * sends it, this one never does; `status` moves on when a receipt reaches this device.
   */
  readonly queuedElsewhere?: true;
}

/** A group conversation (PROTOCOL.md §17). */
export interface GroupView {
  /** 32 lowercase hex chars (the 16-byte group id). Contact ids are 64 hex chars, so the two never collide. */
  readonly id: string;
  readonly name: string;
  /** Every member, us included (`me`), admins first then by name. */
  readonly members: readonly GroupMemberView[];
  /** We are an admin (may add, remove, rename). */
  readonly admin: boolean;
  /** We left or were removed: the chat is read-only, its history stays. */
  readonly left?: true;
  readonly lastMessage?: { readonly text: string; readonly at: number; readonly direction: 'in' | 'out' };
  readonly unread: number;
}

export interface GroupMemberView {
  /** The member's account id (hex of its identity key; equals its contact id when it is one of our contacts). */
  readonly id: string;
  readonly name: string;
  readonly admin: boolean;
  readonly me?: true;
  /** Its identity key changed since we last acknowledged it (shown in the group as in 1:1). */
  readonly keyChanged?: true;
}

export interface ContactView {
  /** Stable id: hex of the contact's identity public key. */
  readonly id: string;
  /** Empty while `unnamed`. */
  readonly displayName: string;
  /**
   * Present (true) for a contact that wrote to us first and has not told us its name yet:
   * the app shows its own words for it ("Unknown contact").
   */
  readonly unnamed?: boolean;
  readonly verified: boolean;
  /**
   * Something about this contact's identity key waits for the user's acknowledgement
   * (`acknowledgeKeyChange`): its key changed (a new invite under its name), or it is
   * `possibleKeyChangeOf` another contact. Sending is blocked meanwhile (`send` rejects
   * with `key_change_unacknowledged`).
   */
  readonly keyChanged: boolean;
  /**
   * Present while unacknowledged: this contact wrote to us first and introduced itself
   * with the display name of the existing contact with this id, but with a different
   * identity key. Show "claims to be <that contact's name>, but with a different key —
   * verify the safety number before trusting it".
   */
  readonly possibleKeyChangeOf?: string;
  readonly lastMessage?: { readonly text: string; readonly at: number; readonly direction: 'in' | 'out' };
  readonly unread: number;
  /** A live direct (WebRTC) channel is open to this contact. */
  readonly direct: boolean;
  /** Present when the user gave the contact a local name (`displayName` is then it): the name the contact gave. */
  readonly profileName?: string;
  /** Present (true) while blocked: its messages are dropped, sending is refused. */
  readonly blocked?: boolean;
  /** Present (true) for a message request: it wrote first and is not accepted (show under Message requests, not in the list). */
  readonly request?: boolean;
  /**
   * Present (true) when the conversation ended: the user accepted another contact that
   * claimed this one's name with a new identity key (a contact reset).
   */
  readonly ended?: boolean;
  /**
   * Present when another listed contact has the same name: what tells them apart, e.g.
   * "ended", "new" or a short key fingerprint ("key 1a2b3c4d"). Show it with the name.
   */
  readonly nameDetail?: string;
}

/** One device of a multi-device contact, as its signed list names it ("Device N" when unnamed). */
export interface ChatDevice {
  readonly id: string;
  readonly name: string;
}

export interface ChatWindow {
  /** The open conversation's id: a contact id (64 hex) or a group id (32 hex). */
  readonly contactId: string;
  /** Present (true) when the conversation is a group. */
  readonly group?: true;
  /** Oldest first; the most recent page(s) loaded so far. */
  readonly messages: readonly MessageView[];
  readonly hasOlder: boolean;
  /** A 1:1 chat with a contact of several devices: each one's id (hex) and name, in the order of its device list. */
  readonly devices?: readonly ChatDevice[];
}

export interface Me {
  readonly displayName: string;
  /** Hex of our identity public key. */
  readonly id: string;
  readonly inviteUrl: string;
}

export type StorageState = 'ok' | 'quota_exceeded' | 'blocked' | 'closed' | 'version_changed';

export interface MessengerState {
  /**
   * loading: opening storage; onboarding: no identity yet; ready: this tab runs the
   * core; follower: another tab of this profile runs it (this one mirrors it);
   * failed: storage unusable (see `storage`).
   */
  readonly phase: 'loading' | 'onboarding' | 'ready' | 'follower' | 'failed';
  readonly me?: Me;
  readonly connection: ConnectionState;
  readonly storage: { readonly state: StorageState; readonly persisted?: boolean; readonly usage?: number; readonly quota?: number };
  /** Sorted: most recent conversation first. */
  readonly contacts: readonly ContactView[];
  /** Our groups, most recent first (absent before any). */
  readonly groups?: readonly GroupView[];
  readonly chat?: ChatWindow;
  readonly queueDepth: number;
  /** Files moving now (uploads before their message is queued, downloads), and the last failure of each; absent when none. */
  readonly transfers?: readonly TransferView[];
  /** This account's devices (after `listDevices`, and whenever the account's list changes). */
  readonly devices?: readonly DeviceView[];
  /** The link this device offers to a new device, and how far it got. */
  readonly deviceLink?: DeviceLinkView;
  /** This (new) device being linked: `linkThisDevice` running. */
  readonly linking?: { readonly status: 'connecting' | 'receiving'; readonly contacts: number; readonly messages: number };
  /** Another device (or this one) removed this device from the account: it no longer sends or receives. */
  readonly unlinked?: true;
  /** The account's backups (once the core runs). */
  readonly backup?: BackupView;
  /**
   * Messages pressed in this tab that the core has not stored yet, because its last try
   * failed for a reason that may pass (storage full or failing, the core restarting). The
   * platform's keypress journal keeps them and tries again; the core never sets this.
   */
  readonly unsaved?: readonly UnsavedMessageView[];
}

/** A pressed message the keypress journal holds until the core stores it (`MessengerState.unsaved`). */
export interface UnsavedMessageView {
  /** The id it will have once stored. */
  readonly id: string;
  readonly contactId: string;
  readonly text: string;
  /** When it was pressed (ms since epoch). */
  readonly at: number;
}

/** One device of this account (PROTOCOL.md §13). */
export interface DeviceView {
  /** Hex of the 16-byte device id. */
  readonly id: string;
  readonly thisDevice: boolean;
  /** Its name in the account's signed list ("Chromium on Linux"), or "Device N" for an unnamed one. */
  readonly name: string;
}

export type DeviceLinkView =
  | { readonly status: 'waiting'; readonly link: string; readonly expiresAt: number }
  | { readonly status: 'sending'; readonly messages: number }
  | { readonly status: 'done'; readonly messages: number }
  | { readonly status: 'failed'; readonly kind: string; readonly error: string };

/** One file on its way to or from the relay (`done`/`total` in blob bytes, for a progressbar). */
export interface TransferView {
  /** The message the file belongs to (an upload's message exists once the upload is done). */
  readonly messageId: string;
  readonly contactId: string;
  readonly name: string;
  readonly direction: 'up' | 'down';
  readonly done: number;
  readonly total: number;
  /** Why it stopped, in words (the transfer is then no longer moving). */
  readonly failure?: string;
  /** A stopped transfer that Retry continues (`retry` for an upload, `downloadAttachment` again for a download). */
  readonly retryable?: boolean;
}

export interface Invite {
  readonly identityKey: Uint8Array;
  readonly displayName: string;
  readonly relay: string;
}

export interface SafetyNumber {
  /** 60 digits, grouped by the UI in 12 blocks of 5. */
  readonly digits: string;
  /** Bytes to render as a QR code; scanning the other side's compares both. */
  readonly qr: Uint8Array;
}

export interface Diagnostics {
  readonly metrics: MetricsSnapshot;
  readonly logs: readonly LogRecord[];
  readonly breakers: Readonly<Record<string, 'closed' | 'open' | 'half_open'>>;
  /** Each contact device the direct path knows of, with its channel's state (absent without a direct path). */
  readonly direct?: readonly DirectChannelView[];
  /** ML-KEM-768's implementation (crypto/ml-kem-wasm.ts): liboqs, noble where WebAssembly was refused, or not used yet. */
  readonly mlKem?: 'not_loaded' | 'liboqs' | 'noble';
}

export interface SendOptions {
  /** 32 lowercase hex chars: the message's id, chosen by the caller (its idempotency key). */
  readonly id?: string;
  /** The id of the message this one replies to (it is quoted; one of this conversation's). */
  readonly replyTo?: string;
}

export interface ActionOptions {
  /** 32 lowercase hex chars: the action's id, chosen by the caller (its idempotency key). */
  readonly id?: string;
}

export interface SendFileOptions {
  /** The file's name as the contact sees it (default: the File's own name). */
  readonly name?: string;
  /** Text sent with the file. */
  readonly caption?: string;
  /** A tiny preview (≤ 2 KiB) sent inside the message, e.g. a small JPEG of a picture. */
  readonly preview?: Uint8Array;
  /** 32 lowercase hex chars: the message's id, chosen by the caller (a resent command with it does not send twice once queued). */
  readonly id?: string;
}

/** Options of `createGroup`. */
export interface CreateGroupOptions {
  /** 32 lowercase hex chars: the group's id, chosen by the caller (a resent command with it creates one group). */
  readonly id?: string;
}

export interface MessengerCommands {
  createIdentity(displayName: string): Promise<void>;
  /**
   * Changes our display name (trimmed, 1..64 bytes; `invalid_text` otherwise): `me` and
   * invites made from now on say it, and so do sessions started from now on. Contacts who
   * already have us keep the name they know until they add us again.
   */
  setDisplayName(displayName: string): Promise<void>;
  /** Parses an invite URL (or returns undefined when it is not one). */
  parseInvite(url: string): Invite | undefined;
  /** Adds (or re-confirms) a contact; returns its id. */
  addContact(invite: Invite): Promise<string>;
  openChat(contactId: string | undefined): Promise<void>;
  loadOlder(): Promise<void>;
  /**
   * Queues a message (works offline); resolves once it is durably queued. With
   * `options.id` the command is idempotent: a message with that id already stored
   * resolves without a second copy.
   */
  send(contactId: string, text: string, options?: SendOptions): Promise<void>;
  /**
   * Sends every failed copy of our message again (a failed message, or one delivered to
   * some of a contact's devices and given up on for others: `failedDevices`), in one
   * commit; nothing already sent goes twice. Does nothing when no copy failed.
   */
  retry(messageId: string): Promise<void>;
  /**
   * While `connection` is `reconnecting`: try the relay now instead of at `at` (the
   * status's "Retry now"). Does nothing in any other state.
   */
  reconnectNow(): Promise<void>;
  /**
   * Registers this device's Web Push subscription with the relay (null removes it), so the
   * relay can wake the device while no tab is open. `pending` when the relay is not
   * connected: it is registered on the next connection. Rejects with the relay's typed
   * refusal (`bad_push_subscription`).
   */
  setPushSubscription(sub: PushSubscriptionKeys | null): Promise<PushRegistrationOutcome>;
  /**
   * Encrypts and uploads a file (at most 100 MiB, refused before any upload), then queues
   * its message like `send`; resolves with the message id once it is durably queued.
   * Progress shows in `transfers` meanwhile.
   */
  sendFile(contactId: string, file: Blob, options?: SendFileOptions): Promise<string>;
  /** Stops an upload or download in progress (it fails with `cancelled`); for a failed one, dismisses it from `transfers`. */
  cancelTransfer(messageId: string): Promise<void>;
  /** Fetches, verifies and decrypts a message's file; a damaged or altered file rejects with a typed error. */
  downloadAttachment(messageId: string): Promise<Blob>;
  /**
   * Message actions (docs/PROTOCOL.md §11.2). Edit and delete for everyone: our own
   * messages, within 24 h of sending, at most 10 edits; react: one emoji per person (an
   * empty `emoji` removes ours). Each is sent end-to-end encrypted and applied to our row in
   * the same commit; a refused one rejects with `action_refused` (its `reason`) and changes
   * nothing. With `options.id`, a resent command does nothing the second time.
   */
  editMessage(messageId: string, text: string, options?: ActionOptions): Promise<void>;
  deleteForEveryone(messageId: string, options?: ActionOptions): Promise<void>;
  react(messageId: string, emoji: string, options?: ActionOptions): Promise<void>;
  /** Removes the message from this device only; nothing is sent. */
  deleteForMe(messageId: string): Promise<void>;
  /**
   * Marks incoming messages read and sends their read receipts: all unread ones, or with
   * `upTo` those up to and including that message id (what the reader has seen; newer ones
   * stay unread). Does nothing for a message request (read once accepted).
   */
  markRead(contactId: string, upTo?: string): Promise<void>;
  safetyNumber(contactId: string): Promise<SafetyNumber>;
  /**
   * Compares what was scanned from the contact's safety-number QR code (the payload,
   * safety-qr-text.ts) with the safety number we hold: 'match' only if it names exactly
   * the two identities. Rejects with `malformed_safety_number` for bytes that are no payload.
   */
  compareSafetyNumber(contactId: string, scanned: Uint8Array): Promise<'match' | 'mismatch'>;
  setVerified(contactId: string, verified: boolean): Promise<void>;
  acknowledgeKeyChange(contactId: string): Promise<void>;
  /**
   * Gives a contact a local name, shown instead of the name they gave (at most 64
   * characters, trimmed); an empty name clears it. Sets a state: repeating it is harmless.
   */
  renameContact(contactId: string, name: string): Promise<void>;
  /**
   * Deletes the conversation after the user confirmed: its messages, queued messages and
   * receipts and its list entry go in one transaction; the contact leaves the list and a
   * later message from it arrives as a message request. A no-op when already deleted.
   */
  deleteConversation(contactId: string): Promise<void>;
  /**
   * Blocks or unblocks a contact. While blocked, its messages are dropped on this device
   * after the relay's ack (nothing tells them) and `send` rejects with `contact_blocked`.
   * Blocking a message request takes it out of the requests (into the list, blocked).
   */
  setBlocked(contactId: string, blocked: boolean): Promise<void>;
  /** Accepts a message request: into the list; replies and read receipts may go. A no-op for an accepted contact. */
  acceptRequest(contactId: string): Promise<void>;
  /**
   * Groups (PROTOCOL.md §17). `send` (a reply with `replyTo`), `openChat`, `loadOlder`,
   * `markRead` and `retry` accept a group id where they take a conversation id;
   * `editMessage`, `deleteForEveryone`, `react` and `deleteForMe` take a group's message id
   * as they take a chat's.
   *
   * Creates a group of us (admin) and the given contacts (1..999 of them); returns its id.
   * Rejects `group_too_large`, `unknown_contact`.
   */
  createGroup(name: string, memberIds: readonly string[], options?: CreateGroupOptions): Promise<string>;
  /** Admins only (`not_group_admin`); at most 1,000 members in all (`group_too_large`). */
  addGroupMembers(groupId: string, memberIds: readonly string[]): Promise<void>;
  /** Admins only; rotates every remaining device's sender key before the next message. */
  removeGroupMember(groupId: string, memberId: string): Promise<void>;
  leaveGroup(groupId: string): Promise<void>;
  /** Admins only; 1..64 characters trimmed (`invalid_text`). */
  renameGroup(groupId: string, name: string): Promise<void>;
  diagnostics(): Diagnostics;
  /** Existing device: a one-time device link (petrel-link:…, 10 minutes); progress in `state.deviceLink`. */
  createDeviceLink(): Promise<string>;
  /** Publishes the account's device list without device `id` (hex); any device, this one included. */
  unlinkDevice(id: string): Promise<void>;
  listDevices(): Promise<readonly DeviceView[]>;
  /** Names this device in the account's device list (trimmed, 1..64 bytes; InvalidDeviceNameError otherwise, nothing changed). */
  renameThisDevice(name: string): Promise<void>;
  /** New device (no identity yet): takes the account over `linkText`; rejects with a typed LinkError, changing nothing. */
  linkThisDevice(linkText: string): Promise<void>;
  /** A backup file of the account (§16): under a new recovery key (`recoveryKey`, shown once) unless a passphrase is given. */
  createBackup(options?: { readonly passphrase?: string }): Promise<BackupMade>;
  /**
   * New device (no identity yet): restores the account from a backup file, opened with its
   * recovery key or passphrase (`secret`), and becomes a new device of it. Rejects with a
   * typed BackupError (wrong_key, tampered, …), changing nothing.
   */
  restoreFromBackup(backup: Uint8Array, secret: string): Promise<void>;
  /** As `restoreFromBackup`, with the backup the relay keeps under `recoveryKey` (BackupNotFoundError when none). */
  restoreFromRelay(recoveryKey: string): Promise<void>;
  /** Keep (or stop keeping) a backup on the relay; a new recovery key (`recoveryKey`, shown once) if none was made yet. */
  setRelayBackup(on: boolean): Promise<{ readonly recoveryKey?: string }>;
}

/** A backup just made: the file's bytes and, unless a passphrase sealed it, its recovery key (shown once, never kept in the view). */
export interface BackupMade {
  readonly bytes: Uint8Array;
  readonly recoveryKey?: string;
}

/** The account's backups: whether a copy is kept on the relay, and when the last backup and upload were made (ms). */
export interface BackupView {
  readonly relay: boolean;
  readonly lastBackupAt?: number;
  readonly lastUploadedAt?: number;
  /** Seven days on this device with no backup and no second device (backup-reminder.ts): the app shows a reminder. */
  readonly remind?: true;
}

export interface MessengerApi extends MessengerCommands {
  getState(): MessengerState;
  subscribe(listener: () => void): () => void;
}
