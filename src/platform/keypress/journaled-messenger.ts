/**
 * The messenger as the UI sees it, with the keypress journal in front of `send`: the
 * entry is written synchronously inside the call (so inside the key or click handler),
 * then the core is asked to send it under the entry's id. When this tab's messenger
 * becomes ready, entries left by an earlier page (reloaded, closed, crashed) are sent
 * again, oldest first; the core stores each id at most once.
 *
 * An entry leaves the journal once the core has the message, or when the core refuses
 * it for good (FINAL_REFUSALS): a live send gives its text back to the composer; a
 * resent one becomes that conversation's draft again. Any other failure (storage full
 * or failing, the core restarting) may pass: the entry stays, the state lists it as
 * `unsaved` (the chat shows it as not saved yet), and the journal tries again after
 * RETRY_FIRST_MS, doubling up to RETRY_MAX_MS, and whenever the core becomes ready. A
 * live send that meets such a failure rejects with SendPostponedError, so the composer
 * neither gives the text back (it would be sent twice) nor loses it.
 */
import type { Logger } from '../../core/log.ts';
import type { ActionOptions, CreateGroupOptions, Invite, MessengerApi, MessengerState, SendFileOptions, SendOptions, UnsavedMessageView } from '../../core/messenger/messenger-api.ts';
import type { PushSubscriptionKeys } from '../../core/messenger/push-registration.ts';
import type { DraftStore } from './draft-store.ts';
import type { JournalEntry, SendJournal } from './send-journal.ts';

/** Refusals a resend cannot overcome: the words go back to the composer or the draft. */
export const FINAL_REFUSALS: ReadonlySet<string> = new Set([
  'invalid_text',
  'unknown_contact',
  'key_change_unacknowledged',
  'contact_blocked',
  'message_request_pending',
  'action_refused',
  'unknown_group',
  'not_in_groups',
  'groups_not_built',
]);
/** First wait before a postponed entry is tried again; it doubles up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 1_000;
export const RETRY_MAX_MS = 30_000;

/** A live send the core could not store now: the journal keeps it and tries again (see the header). */
export class SendPostponedError extends Error {
  readonly kind = 'send_postponed';
  override readonly name = 'SendPostponedError';
  constructor(cause: unknown) {
    super('not saved yet: kept on this device and tried again', { cause });
  }
}

function refusalKind(err: unknown): string | undefined {
  const kind = (err as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' ? kind : undefined;
}

const isFinal = (err: unknown): boolean => FINAL_REFUSALS.has(refusalKind(err) ?? '');

export interface JournalTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const GLOBAL_TIMERS: JournalTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class JournaledMessenger implements MessengerApi {
  /** Entries this page is sending right now (the drain leaves them to their own call). */
  private readonly inFlight = new Set<string>();
  /** Entries whose last try failed for a reason that may pass: shown as unsaved, tried again. */
  private readonly postponed = new Map<string, JournalEntry>();
  /** The drain running now; a second call joins it. */
  private draining: Promise<void> | undefined;
  /** The inner messenger was ready when last seen (a drain runs on each entry into ready). */
  private wasReady = false;
  private retryTimer: unknown;
  private retryDelay = RETRY_FIRST_MS;
  private readonly listeners = new Set<() => void>();
  /** The last state handed out with `unsaved` (same inner state and same entries: same object). */
  private overlay: { base: MessengerState; version: number; state: MessengerState } | undefined;
  private version = 0;

  constructor(
    private readonly inner: MessengerApi,
    private readonly journal: SendJournal,
    private readonly drafts: DraftStore,
    private readonly logger?: Logger,
    private readonly timers: JournalTimers = GLOBAL_TIMERS,
  ) {
    inner.subscribe(() => this.onState());
    this.onState();
  }

  send(contactId: string, text: string, options: SendOptions = {}): Promise<void> {
    if (options.id !== undefined) return this.inner.send(contactId, text, options);
    const entry = this.journal.record(contactId, text, options.replyTo);
    const reply = options.replyTo !== undefined ? { replyTo: options.replyTo } : {};
    if (!entry) return this.inner.send(contactId, text, reply);
    this.inFlight.add(entry.id);
    // Pressed after the entries a drain is resending: it goes after them.
    const ahead = this.draining ?? Promise.resolve();
    return ahead.then(() => {
      if (this.postponed.size > 0) {
        // Earlier presses wait to be saved: this one goes after them, through the drain.
        this.inFlight.delete(entry.id);
        return this.afterPostponed(entry);
      }
      return this.inner.send(contactId, text, { id: entry.id, ...reply }).then(
        () => this.saved(entry),
        (err: unknown) => {
          this.inFlight.delete(entry.id);
          const reason = refusalKind(err) ?? (err instanceof Error ? err.name : 'unknown');
          if (isFinal(err)) {
            // The composer gives the text back and shows the error: the entry must not also resend it.
            this.journal.remove(entry.id);
            this.logger?.child('journal').warn('send refused: text back to the composer', { reason });
            throw err;
          }
          this.postpone(entry, reason);
          throw new SendPostponedError(err);
        },
      );
    });
  }

  /** A press made while earlier ones wait: saved by a drain (a running one may have listed the journal before it). */
  private async afterPostponed(entry: JournalEntry): Promise<void> {
    await this.drain();
    if (this.journal.has(entry.id) && !this.postponed.has(entry.id)) await this.drain();
    if (this.journal.has(entry.id)) throw new SendPostponedError(undefined);
  }

  private saved(entry: JournalEntry): void {
    this.inFlight.delete(entry.id);
    this.journal.remove(entry.id);
    if (this.postponed.delete(entry.id)) this.changed();
  }

  private postpone(entry: JournalEntry, reason: string): void {
    this.logger?.child('journal').warn('send postponed: kept and tried again', { entry: entry.id.slice(0, 8), reason, inMs: this.retryDelay });
    if (!this.postponed.has(entry.id)) {
      this.postponed.set(entry.id, entry);
      this.changed();
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = undefined;
      void this.drain();
    }, this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
  }

  private onState(): void {
    const ready = this.inner.getState().phase === 'ready';
    if (ready && !this.wasReady) void this.drain();
    this.wasReady = ready;
  }

  /** Sends what is in the journal (left by earlier pages, or postponed), oldest first, one at a time. */
  drain(): Promise<void> {
    this.draining ??= this.drainOnce().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drainOnce(): Promise<void> {
    const entries = this.journal.entries().filter((e) => !this.inFlight.has(e.id));
    for (const [i, entry] of entries.entries()) {
      try {
        await this.inner.send(entry.contactId, entry.text, { id: entry.id, ...(entry.replyTo !== undefined ? { replyTo: entry.replyTo } : {}) });
        this.saved(entry);
        this.logger?.child('journal').info('pressed message resent', { entry: entry.id.slice(0, 8) });
      } catch (err) {
        if (!isFinal(err)) {
          // Storage or the core not available now: this one and the ones after it (their
          // order kept) wait for the next try.
          for (const later of entries.slice(i)) this.postponed.set(later.id, later);
          this.changed();
          this.postpone(entry, refusalKind(err) ?? (err instanceof Error ? err.name : 'unknown'));
          return;
        }
        this.journal.remove(entry.id);
        if (this.postponed.delete(entry.id)) this.changed();
        this.drafts.restore(entry.contactId, entry.text);
        this.logger?.child('journal').warn('pressed message refused: back to its draft', { entry: entry.id.slice(0, 8), reason: refusalKind(err) ?? 'unknown' });
      }
    }
    // Everything went: the next failure starts over with the shortest wait.
    this.retryDelay = RETRY_FIRST_MS;
    if (this.retryTimer !== undefined) {
      this.timers.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  private changed(): void {
    this.version++;
    for (const l of [...this.listeners]) l();
  }

  getState(): MessengerState {
    const base = this.inner.getState();
    if (this.postponed.size === 0) return base;
    if (this.overlay?.base === base && this.overlay.version === this.version) return this.overlay.state;
    const unsaved: UnsavedMessageView[] = [...this.postponed.values()]
      .sort((a, b) => a.at - b.at || a.seq - b.seq)
      .map((e) => ({ id: e.id, contactId: e.contactId, text: e.text, at: e.at }));
    const state = { ...base, unsaved };
    this.overlay = { base, version: this.version, state };
    return state;
  }

  subscribe(listener: () => void): () => void {
    const off = this.inner.subscribe(listener);
    this.listeners.add(listener);
    return () => {
      off();
      this.listeners.delete(listener);
    };
  }

  parseInvite(url: string): Invite | undefined {
    return this.inner.parseInvite(url);
  }

  createIdentity = (name: string) => this.inner.createIdentity(name);
  setDisplayName = (name: string) => this.inner.setDisplayName(name);
  addContact = (invite: Invite) => this.inner.addContact(invite);
  openChat = (contactId: string | undefined) => this.inner.openChat(contactId);
  loadOlder = () => this.inner.loadOlder();
  retry = (messageId: string) => this.inner.retry(messageId);
  reconnectNow = () => this.inner.reconnectNow();
  setPushSubscription = (sub: PushSubscriptionKeys | null) => this.inner.setPushSubscription(sub);
  sendFile = (contactId: string, file: Blob, options?: SendFileOptions) => this.inner.sendFile(contactId, file, options);
  cancelTransfer = (messageId: string) => this.inner.cancelTransfer(messageId);
  downloadAttachment = (messageId: string) => this.inner.downloadAttachment(messageId);
  editMessage = (messageId: string, text: string, options?: ActionOptions) => this.inner.editMessage(messageId, text, options);
  deleteForEveryone = (messageId: string, options?: ActionOptions) => this.inner.deleteForEveryone(messageId, options);
  react = (messageId: string, emoji: string, options?: ActionOptions) => this.inner.react(messageId, emoji, options);
  deleteForMe = (messageId: string) => this.inner.deleteForMe(messageId);
  markRead = (contactId: string, upTo?: string) => this.inner.markRead(contactId, upTo);
  safetyNumber = (contactId: string) => this.inner.safetyNumber(contactId);
  compareSafetyNumber = (contactId: string, scanned: Uint8Array) => this.inner.compareSafetyNumber(contactId, scanned);
  setVerified = (contactId: string, verified: boolean) => this.inner.setVerified(contactId, verified);
  acknowledgeKeyChange = (contactId: string) => this.inner.acknowledgeKeyChange(contactId);
  renameContact = (contactId: string, name: string) => this.inner.renameContact(contactId, name);
  deleteConversation = (contactId: string) => this.inner.deleteConversation(contactId);
  setBlocked = (contactId: string, blocked: boolean) => this.inner.setBlocked(contactId, blocked);
  acceptRequest = (contactId: string) => this.inner.acceptRequest(contactId);
  createGroup = (name: string, memberIds: readonly string[], options?: CreateGroupOptions) => this.inner.createGroup(name, memberIds, options);
  addGroupMembers = (groupId: string, memberIds: readonly string[]) => this.inner.addGroupMembers(groupId, memberIds);
  removeGroupMember = (groupId: string, memberId: string) => this.inner.removeGroupMember(groupId, memberId);
  leaveGroup = (groupId: string) => this.inner.leaveGroup(groupId);
  renameGroup = (groupId: string, name: string) => this.inner.renameGroup(groupId, name);
  createDeviceLink = () => this.inner.createDeviceLink();
  unlinkDevice = (id: string) => this.inner.unlinkDevice(id);
  listDevices = () => this.inner.listDevices();
  renameThisDevice = (name: string) => this.inner.renameThisDevice(name);
  linkThisDevice = (linkText: string) => this.inner.linkThisDevice(linkText);
  createBackup = (options?: { readonly passphrase?: string }) => this.inner.createBackup(options);
  restoreFromBackup = (backup: Uint8Array, secret: string) => this.inner.restoreFromBackup(backup, secret);
  restoreFromRelay = (recoveryKey: string) => this.inner.restoreFromRelay(recoveryKey);
  setRelayBackup = (on: boolean) => this.inner.setRelayBackup(on);
  diagnostics = () => this.inner.diagnostics();
}
