/**
 * The messenger as the UI sees it, with the keypress journal in front of `send`: the
 * entry is written synchronously inside the call (so inside the key or click handler),
 * then the core is asked to send it under the entry's id. When this tab's messenger
 * becomes ready, entries left by an earlier page (reloaded, closed, crashed) are sent
 * again, oldest first; the core stores each id at most once.
 *
 * An entry leaves the journal once the core has the message, or when the core refuses
 * it: a live send gives its text back to the composer (as before); a resent one whose
 * refusal is final (the contact is gone, its key changed) becomes that conversation's
 * draft again, so the words are never silently dropped.
 */
import type { Logger } from '../../core/log.ts';
import type { ActionOptions, CreateGroupOptions, Invite, MessengerApi, MessengerState, SendFileOptions, SendOptions } from '../../core/messenger/messenger-api.ts';
import type { PushSubscriptionKeys } from '../../core/messenger/push-registration.ts';
import type { DraftStore } from './draft-store.ts';
import type { JournalEntry, SendJournal } from './send-journal.ts';

/** Refusals a resend cannot overcome: the words go back to the draft. */
const FINAL_REFUSALS: ReadonlySet<string> = new Set(['invalid_text', 'unknown_contact', 'key_change_unacknowledged']);

function refusalKind(err: unknown): string | undefined {
  const kind = (err as { kind?: unknown } | null)?.kind;
  return typeof kind === 'string' ? kind : undefined;
}

export class JournaledMessenger implements MessengerApi {
  /** Entries this page is sending right now (the drain leaves them to their own call). */
  private readonly inFlight = new Set<string>();
  /** The drain running now; a second call joins it. */
  private draining: Promise<void> | undefined;
  /** The inner messenger was ready when last seen (a drain runs on each entry into ready). */
  private wasReady = false;

  constructor(
    private readonly inner: MessengerApi,
    private readonly journal: SendJournal,
    private readonly drafts: DraftStore,
    private readonly logger?: Logger,
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
    return ahead.then(() => this.inner.send(contactId, text, { id: entry.id, ...reply })).then(
      () => this.settle(entry),
      (err: unknown) => {
        // The composer gives the text back and shows the error: the entry must not also resend it.
        this.settle(entry);
        this.logger?.child('journal').warn('send refused: text back to the composer', { reason: refusalKind(err) ?? 'unknown' });
        throw err;
      },
    );
  }

  private settle(entry: JournalEntry): void {
    this.inFlight.delete(entry.id);
    this.journal.remove(entry.id);
  }

  private onState(): void {
    const ready = this.inner.getState().phase === 'ready';
    if (ready && !this.wasReady) void this.drain();
    this.wasReady = ready;
  }

  /** Sends what earlier pages left in the journal, oldest first, one at a time. */
  drain(): Promise<void> {
    this.draining ??= this.drainOnce().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drainOnce(): Promise<void> {
    for (const entry of this.journal.entries()) {
      if (this.inFlight.has(entry.id)) continue;
      try {
        await this.inner.send(entry.contactId, entry.text, { id: entry.id, ...(entry.replyTo !== undefined ? { replyTo: entry.replyTo } : {}) });
        this.journal.remove(entry.id);
        this.logger?.child('journal').info('pressed message resent', { entry: entry.id.slice(0, 8) });
      } catch (err) {
        const kind = refusalKind(err);
        if (kind === undefined || !FINAL_REFUSALS.has(kind)) {
          // Storage or the core not available now: keep the rest for the next start.
          this.logger?.child('journal').warn('resend postponed', { entry: entry.id.slice(0, 8), reason: kind ?? 'unknown' });
          return;
        }
        this.journal.remove(entry.id);
        this.drafts.restore(entry.contactId, entry.text);
        this.logger?.child('journal').warn('pressed message refused: back to its draft', { entry: entry.id.slice(0, 8), reason: kind });
      }
    }
  }

  getState(): MessengerState {
    return this.inner.getState();
  }

  subscribe(listener: () => void): () => void {
    return this.inner.subscribe(listener);
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
