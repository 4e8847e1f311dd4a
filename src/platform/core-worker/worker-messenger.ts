/**
 * The hosting tab's MessengerApi over the core in its Worker: every command goes
 * through a CoreClient (ids, one answer each, resent to a restarted worker), the state
 * is the worker's last snapshot with the patches since applied (state-patch.ts). The tab's own open conversation and its paging are
 * view messages of their own (the worker's core projects this tab's chat window).
 */
import { parseInviteUrl } from '../../core/messenger/invite.ts';
import type { PushSubscriptionKeys } from '../../core/messenger/push-registration.ts';
import type { ActionOptions, CreateGroupOptions, Diagnostics, Invite, MessengerApi, MessengerState, SendFileOptions, SendOptions } from '../../core/messenger/messenger-api.ts';
import { newCommandId } from '../core-protocol/command-id.ts';
import { CoreClient } from '../core-protocol/core-client.ts';
import type { ClientMessage } from '../core-protocol/protocol.ts';
import { applyStatePatch, StatePatchMismatch, type StatePatch } from '../core-protocol/state-patch.ts';

/** Fewest ms between two diagnostics refreshes the state's changes cause. */
export const DIAGNOSTICS_REFRESH_GAP_MS = 250;

const NO_DIAGNOSTICS: Diagnostics = { metrics: { counters: {}, gauges: {}, histograms: {} }, logs: [], breakers: {} };

export interface WorkerMessengerDeps {
  readonly clientId: string;
  /** A command for the worker (the current one: it may have been restarted). */
  readonly postCommand: (m: ClientMessage) => void;
  readonly postOpen: (contactId: string | undefined) => void;
  readonly postOlder: () => void;
  /** A patch did not apply: ask for the whole state again. */
  readonly askSnapshot: () => void;
  readonly initial: MessengerState;
}

export class WorkerMessenger implements MessengerApi {
  readonly client: CoreClient;
  private state: MessengerState;
  /** Patches applied since the last whole state (state-patch.ts). */
  private version = 0;
  private awaitingSnapshot = false;
  private readonly listeners = new Set<() => void>();
  private lastDiagnostics: Diagnostics = NO_DIAGNOSTICS;
  private openContactId: string | undefined;
  private diagnosticsReading = false;
  private diagnosticsStale = false;

  constructor(private readonly deps: WorkerMessengerDeps) {
    this.state = deps.initial;
    this.client = new CoreClient({ clientId: deps.clientId, post: deps.postCommand });
  }

  /** The whole state from the worker (patches that follow apply to it). */
  setState(state: MessengerState): void {
    this.version = 0;
    this.awaitingSnapshot = false;
    this.show(state);
  }

  /** A patch from the worker; one that does not apply asks for the whole state (once). */
  applyPatch(patch: StatePatch): void {
    if (this.awaitingSnapshot) return;
    let next: MessengerState;
    try {
      next = applyStatePatch(this.state, this.version, patch);
    } catch (err) {
      if (!(err instanceof StatePatchMismatch)) throw err;
      this.awaitingSnapshot = true;
      this.deps.askSnapshot();
      return;
    }
    this.version = patch.base + 1;
    this.show(next);
  }

  private show(state: MessengerState): void {
    this.state = state;
    for (const l of this.listeners) l();
    this.refreshDiagnostics();
  }

  /**
   * Keeps the diagnostics the views read synchronously close to the core's: read again
   * after the state changed (one read at a time, at most one per DIAGNOSTICS_REFRESH_GAP_MS),
   * so a dialog opened now shows what the core counted, not what it counted at the last open.
   */
  private refreshDiagnostics(): void {
    if (this.diagnosticsReading) {
      this.diagnosticsStale = true;
      return;
    }
    this.diagnosticsReading = true;
    this.diagnosticsStale = false;
    this.client
      .call('diagnostics')
      .then((d) => (this.lastDiagnostics = d))
      .catch(() => undefined)
      .then(() => new Promise((r) => setTimeout(r, DIAGNOSTICS_REFRESH_GAP_MS)))
      .finally(() => {
        this.diagnosticsReading = false;
        if (this.diagnosticsStale) this.refreshDiagnostics();
      });
  }

  /** A new worker took over: what the old one left unanswered goes to it, and the view. */
  workerRestarted(): void {
    this.deps.postOpen(this.openContactId);
    this.client.resend();
  }

  getState(): MessengerState {
    return this.state;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  parseInvite(url: string): Invite | undefined {
    return parseInviteUrl(url);
  }

  createIdentity = (name: string) => this.client.call('createIdentity', name);
  setDisplayName = (name: string) => this.client.call('setDisplayName', name);
  addContact = (invite: Invite) => this.client.call('addContact', invite);
  openChat = (contactId: string | undefined) => {
    this.openContactId = contactId;
    this.deps.postOpen(contactId);
    return Promise.resolve();
  };
  loadOlder = () => {
    this.deps.postOlder();
    return Promise.resolve();
  };
  send = (contactId: string, text: string, options?: SendOptions) => this.client.call('send', contactId, text, options?.id, options?.replyTo);
  // Actions carry an id of their own, so a command resent to a restarted worker acts once.
  editMessage = (messageId: string, text: string, options: ActionOptions = {}) => this.client.call('editMessage', messageId, text, options.id ?? newCommandId());
  deleteForEveryone = (messageId: string, options: ActionOptions = {}) => this.client.call('deleteForEveryone', messageId, options.id ?? newCommandId());
  react = (messageId: string, emoji: string, options: ActionOptions = {}) => this.client.call('react', messageId, emoji, options.id ?? newCommandId());
  deleteForMe = (messageId: string) => this.client.call('deleteForMe', messageId);
  setPushSubscription = (sub: PushSubscriptionKeys | null) => this.client.call('setPushSubscription', sub);
  retry = (messageId: string) => this.client.call('retry', messageId);
  reconnectNow = () => this.client.call('reconnectNow');
  sendFile = (contactId: string, file: Blob, options: SendFileOptions = {}) => {
    // An id of its own, so a command resent to a restarted worker sends the file once.
    const id = options.id ?? newCommandId();
    const name = options.name ?? (file as Blob & { name?: string }).name;
    return this.client.call('sendFile', contactId, file, name, options.caption, id, options.preview);
  };
  cancelTransfer = (messageId: string) => this.client.call('cancelTransfer', messageId);
  downloadAttachment = (messageId: string) => this.client.call('downloadAttachment', messageId);
  markRead = (contactId: string, upTo?: string) => this.client.call('markRead', contactId, upTo);
  safetyNumber = (contactId: string) => this.client.call('safetyNumber', contactId);
  compareSafetyNumber = (contactId: string, scanned: Uint8Array) => this.client.call('compareSafetyNumber', contactId, scanned);
  setVerified = (contactId: string, verified: boolean) => this.client.call('setVerified', contactId, verified);
  acknowledgeKeyChange = (contactId: string) => this.client.call('acknowledgeKeyChange', contactId);
  renameContact = (contactId: string, name: string) => this.client.call('renameContact', contactId, name);
  deleteConversation = (contactId: string) => this.client.call('deleteConversation', contactId);
  setBlocked = (contactId: string, blocked: boolean) => this.client.call('setBlocked', contactId, blocked);
  acceptRequest = (contactId: string) => this.client.call('acceptRequest', contactId);
  // The group's id is chosen here, so a command resent to a restarted worker creates one group.
  createGroup = (name: string, memberIds: readonly string[], options: CreateGroupOptions = {}) => this.client.call('createGroup', name, memberIds, options.id ?? newCommandId());
  addGroupMembers = (groupId: string, memberIds: readonly string[]) => this.client.call('addGroupMembers', groupId, memberIds);
  removeGroupMember = (groupId: string, memberId: string) => this.client.call('removeGroupMember', groupId, memberId);
  leaveGroup = (groupId: string) => this.client.call('leaveGroup', groupId);
  renameGroup = (groupId: string, name: string) => this.client.call('renameGroup', groupId, name);
  createDeviceLink = () => this.client.call('createDeviceLink');
  unlinkDevice = (id: string) => this.client.call('unlinkDevice', id);
  listDevices = () => this.client.call('listDevices');
  renameThisDevice = (name: string) => this.client.call('renameThisDevice', name);
  linkThisDevice = (linkText: string) => this.client.call('linkThisDevice', linkText);
  createBackup = (options: { readonly passphrase?: string } = {}) => (options.passphrase === undefined ? this.client.call('createBackup') : this.client.call('createBackup', options.passphrase));
  restoreFromBackup = (backup: Uint8Array, secret: string) => this.client.call('restoreFromBackup', backup, secret);
  restoreFromRelay = (recoveryKey: string) => this.client.call('restoreFromRelay', recoveryKey);
  setRelayBackup = (on: boolean) => this.client.call('setRelayBackup', on);
  /** Synchronous for the views: the last answer (see refreshDiagnostics), read again for the next call. */
  diagnostics = (): Diagnostics => {
    this.refreshDiagnostics();
    return this.lastDiagnostics;
  };
}
